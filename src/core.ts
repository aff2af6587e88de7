import type { Logger } from 'pino';
import type { Config } from './config/config';
import { createSql, type Sql } from './db/client';
import { EventCatalog } from './events/catalog';
import { EventService } from './events/service';
import { InventoryLoader } from './inventory/loader';
import { createRedis, type RedisClient } from './redis/client';
import { ReservationService } from './reservations/service';
import { metrics } from './telemetry/metrics';
import { currentTraceHeaders } from './telemetry/trace';

export type Core = {
  config: Config;
  logger: Logger;
  sql: Sql;
  redis: RedisClient;
  catalog: EventCatalog;
  loader: InventoryLoader;
  events: EventService;
  reservations: ReservationService;
  /** Flushes pending holds, then closes the pools. */
  close(): Promise<void>;
};

/** The modules both entry points (api, worker) are built from; no connection is global. */
export function createCore(config: Config, logger: Logger, name: string): Core {
  const sql = createSql(config.db, { applicationName: `boxoffice-${name}` });
  const redis = createRedis(config.redis, {
    onError: (err) => logger.warn({ err: err.message }, 'redis connection error'),
  });
  const catalog = new EventCatalog(sql);
  const loader = new InventoryLoader({
    sql,
    redis,
    prefix: config.redis.prefix,
    lockMs: config.rebuild.lockMs,
    quiesceMs: config.rebuild.quiesceMs,
    logger,
  });
  const events = new EventService({ sql, redis, prefix: config.redis.prefix, catalog, loader, logger });
  const reservations = new ReservationService({
    config,
    sql,
    redis,
    catalog,
    loader,
    logger,
    outboxHeaders: currentTraceHeaders,
    onHoldOutcome: (outcome) => metrics.holdOutcomes.inc({ outcome }),
    onBatch: (size) => metrics.groupCommitBatch.observe(size),
  });
  return {
    config,
    logger,
    sql,
    redis,
    catalog,
    loader,
    events,
    reservations,
    async close() {
      await reservations.writer.drain();
      await Promise.allSettled([sql.end({ timeout: 5 }), redis.quit()]);
    },
  };
}
