import type { Attributes } from '@opentelemetry/api';
import { metrics } from '../telemetry/metrics';
import { trace } from '../telemetry/trace';

/**
 * postgres.js exposes no pool statistics, so each pool's load is counted at the call sites:
 * queries in flight beyond the pool size are waiting for a connection. The counter lives on
 * the pool object itself, so two pools in one process never overwrite each other.
 */
export type PoolLoad = { label: string; max: number; inFlight: number };

const LOAD = Symbol('boxoffice.poolLoad');
type WithLoad = { [LOAD]?: PoolLoad };

export function attachPoolLoad(pool: object, label: string, max: number): PoolLoad {
  const load: PoolLoad = { label, max, inFlight: 0 };
  Object.defineProperty(pool, LOAD, { value: load });
  return load;
}

/** The pool's load; undefined for a transaction handle (it already owns its connection). */
export function poolLoad(db: object): PoolLoad | undefined {
  return (db as WithLoad)[LOAD];
}

/** Every PostgreSQL query goes through here: one span and one latency sample per query. */
export async function dbQuery<T>(db: object, name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  const load = poolLoad(db);
  if (load) load.inFlight++;
  const end = metrics.pgDuration.startTimer({ query: name });
  try {
    return await trace(`pg.${name}`, { 'db.system': 'postgresql', 'db.operation.name': name, ...attributes }, fn);
  } finally {
    end();
    if (load) load.inFlight--;
  }
}
