import postgres from 'postgres';
import type { Config } from '../config/config';
import { attachPoolLoad } from './observe';

export type Sql = postgres.Sql<Record<string, never>>;
/** The handle inside `sql.begin(...)`: repositories take either, so they run in or out of a transaction. */
export type Tx = postgres.TransactionSql<Record<string, never>>;
export type Db = Sql | Tx;

/** One pool per process, tuned from config; callers own its lifetime (sql.end on shutdown). */
export function createSql(cfg: Config['db'], opts: { applicationName?: string } = {}): Sql {
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
  attachPoolLoad(sql, name, cfg.max);
  return sql;
}
