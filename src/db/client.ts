import postgres from 'postgres';
import type { Config } from '../config/config';
import { observePool } from './observe';

export type Sql = postgres.Sql<Record<string, never>>;

/** One pool per process, tuned from config; callers own its lifetime (sql.end on shutdown). */
export function createSql(cfg: Config['db'], opts: { applicationName?: string } = {}): Sql {
  observePool(opts.applicationName ?? 'boxoffice', cfg.max);
  return postgres(cfg.url, {
    max: cfg.max,
    idle_timeout: cfg.idleTimeoutS,
    max_lifetime: cfg.maxLifetimeS,
    connect_timeout: cfg.connectTimeoutS,
    prepare: cfg.prepare,
    onnotice: () => {},
    connection: {
      application_name: opts.applicationName ?? 'boxoffice',
      // A stuck statement must not outlive the rebuild quiesce window (see inventory/rebuild).
      statement_timeout: cfg.statementTimeoutMs,
      ...(cfg.schema ? { search_path: cfg.schema } : {}),
    },
    types: { bigint: postgres.BigInt },
  }) as unknown as Sql;
}
