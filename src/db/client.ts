import postgres from 'postgres';
import type { Config } from '../config/config';
import type { Histogram } from 'prom-client';
import { attachObserver, type PoolLoad } from './observe';

export type Sql = postgres.Sql<Record<string, never>>;
/** The handle inside `sql.begin(...)`: repositories take either, so they run in or out of a transaction. */
export type Tx = postgres.TransactionSql<Record<string, never>>;
export type Db = Sql | Tx;

/** What a pool reports to: the query latency histogram and the pool gauges of its process. */
export type DbMetrics = { pgDuration: Histogram<'query'>; watchPool(source: () => { process: string; max: number; busy: number; waiting: number }): void };

/** One pool per process, tuned from config; callers own its lifetime (sql.end on shutdown). */
export function createSql(cfg: Config['db'], opts: { applicationName?: string; metrics?: DbMetrics } = {}): Sql {
  const name = opts.applicationName ?? 'boxoffice';
  const sql = postgres(cfg.url, {
    max: cfg.max,
    idle_timeout: cfg.idleTimeoutS,
    max_lifetime: cfg.maxLifetimeS,
    connect_timeout: cfg.connectTimeoutS,
    prepare: cfg.prepare,
    onnotice: () => {},
    connection: {
      application_name: name,
      // A stuck statement must not outlive the rebuild quiesce window (src/inventory/loader.ts).
      statement_timeout: cfg.statementTimeoutMs,
      ...(cfg.schema ? { search_path: cfg.schema } : {}),
    },
    types: { bigint: postgres.BigInt },
  }) as unknown as Sql;
  observe(sql, name, cfg.max, opts.metrics);
  return sql;
}

function observe(sql: Sql, label: string, max: number, metrics: DbMetrics | undefined): void {
  const load: PoolLoad = { label, max, inFlight: 0 };
  const duration = metrics?.pgDuration;
  attachObserver(sql, { load, duration });
  metrics?.watchPool(() => ({
    process: label,
    max,
    busy: Math.min(load.inFlight, max),
    waiting: Math.max(0, load.inFlight - max),
  }));
  if (!duration) return;
  // Queries inside sql.begin(...) run on the transaction handle: give it the same histogram.
  const begin = sql.begin.bind(sql) as (...args: unknown[]) => Promise<unknown>;
  (sql as { begin: unknown }).begin = (...args: unknown[]) => {
    const fn = args.at(-1) as (tx: Tx) => unknown;
    args[args.length - 1] = (tx: Tx) => {
      attachObserver(tx, { duration });
      return fn(tx);
    };
    return begin(...args);
  };
}
