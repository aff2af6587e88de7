import type { Attributes } from '@opentelemetry/api';
import type { Histogram } from 'prom-client';
import { trace } from '../telemetry/trace';

/**
 * postgres.js exposes no pool statistics, so each pool's load is counted at the call sites:
 * queries in flight beyond the pool size are waiting for a connection. The counter and the
 * latency histogram live on the pool object itself (and on each transaction handle opened
 * from it), so two pools in one process never overwrite each other and nothing is global.
 */
export type PoolLoad = { label: string; max: number; inFlight: number };
export type DbObserver = { load?: PoolLoad; duration?: Histogram<'query'> };

const OBSERVER = Symbol('boxoffice.dbObserver');
type WithObserver = { [OBSERVER]?: DbObserver };

export function attachObserver(db: object, observer: DbObserver): void {
  Object.defineProperty(db, OBSERVER, { value: observer });
}

export function observerOf(db: object): DbObserver | undefined {
  return (db as WithObserver)[OBSERVER];
}

/** Every PostgreSQL query goes through here: one span and one latency sample per query. */
export async function dbQuery<T>(db: object, name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  const obs = observerOf(db);
  // A transaction handle already owns its connection: it observes latency, not pool load.
  const load = obs?.load;
  if (load) load.inFlight++;
  const end = obs?.duration?.startTimer({ query: name });
  try {
    return await trace(`pg.${name}`, { 'db.system': 'postgresql', 'db.operation.name': name, ...attributes }, fn);
  } finally {
    end?.();
    if (load) load.inFlight--;
  }
}
