import type { Attributes } from '@opentelemetry/api';
import { liveSources, metrics } from '../telemetry/metrics';
import { trace } from '../telemetry/trace';

// postgres.js exposes no pool statistics, so the pool's load is counted at the call sites:
// queries in flight beyond the pool size are waiting for a connection.
let inFlight = 0;
let poolMax = 0;
let processLabel = 'boxoffice';

export function observePool(label: string, max: number): void {
  processLabel = label;
  poolMax = max;
  metrics.pgPoolMax.set({ process: label }, max);
  liveSources.pool = () => ({
    process: processLabel,
    busy: Math.min(inFlight, poolMax),
    waiting: Math.max(0, inFlight - poolMax),
  });
}

/** Every PostgreSQL query goes through here: one span and one latency sample per query. */
export async function dbQuery<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  inFlight++;
  const end = metrics.pgDuration.startTimer({ query: name });
  try {
    return await trace(`pg.${name}`, { 'db.system': 'postgresql', 'db.operation.name': name, ...attributes }, fn);
  } finally {
    end();
    inFlight--;
  }
}
