import type { Logger } from 'pino';
import type { Config } from './config/config';
import { createSql, type Sql } from './db/client';
import { poolLoad } from './db/observe';
import { EventCatalog } from './events/catalog';
import { EventService } from './events/service';
import { ExportService } from './exports/service';
import { InventoryFollower } from './inventory/follow';
import { InventoryLoader } from './inventory/loader';
import { outboxBacklog } from './outbox/outbox';
import { QueueService } from './queue/service';
import { createRedis, type RedisClient } from './redis/client';
import { HoldWriter } from './reservations/hold-writer';
import { inventorySnapshot } from './reservations/repository';
import { ReservationService } from './reservations/service';
import type { TransitionDeps } from './reservations/transition';
import { StatsService } from './stats/service';
import { liveSources, metrics } from './telemetry/metrics';
import { currentTraceHeaders } from './telemetry/trace';

export type Core = {
  config: Config;
  logger: Logger;
  sql: Sql;
  redis: RedisClient;
  catalog: EventCatalog;
  loader: InventoryLoader;
  events: EventService;
  queue: QueueService;
  reservations: ReservationService;
  exports: ExportService;
  stats: StatsService;
  /** What every state change after a hold needs (confirm, cancel, the release worker). */
  transitions: TransitionDeps;
  /** Flushes pending holds, then closes the pools. */
  close(): Promise<void>;
};

/**
 * How long after its Lua a hold may still be written: a Redis rebuild waits
 * REBUILD_QUIESCE_MS, and a write started before the deadline ends within the statement
 * timeout, so every hold decided before a loss is in PostgreSQL when the rebuild reads it.
 */
export const writeBudgetMs = (config: Config) => Math.max(0, config.rebuild.quiesceMs - config.db.statementTimeoutMs - 250);

/** Every service both entry points (api, worker) are built from; no connection is global. */
export function createCore(config: Config, logger: Logger, name: string): Core {
  const sql = createSql(config.db, { applicationName: `boxoffice-${name}` });
  const redis = createRedis(config.redis, {
    onError: (err) => logger.warn({ err: err.message }, 'redis connection error'),
  });
  bindLiveMetrics(sql, name);
  const prefix = config.redis.prefix;
  const catalog = new EventCatalog(sql);
  const loader = new InventoryLoader({
    redis,
    prefix,
    snapshot: (eventId) => inventorySnapshot(sql, eventId),
    findEvent: (eventId) => catalog.get(eventId),
    lockMs: config.rebuild.lockMs,
    quiesceMs: config.rebuild.quiesceMs,
    logger,
  });
  const events = new EventService({ sql, redis, prefix, catalog, loader, logger });
  const queue = new QueueService({
    redis,
    prefix,
    config: config.queue,
    secret: config.queueSecret,
    previousSecrets: config.queueSecretsPrevious,
    catalog,
    logger,
    persistRate: (eventId, rate) => events.setQueueRate(eventId, rate),
  });
  const transitions: TransitionDeps = {
    sql,
    topic: config.kafka.topic,
    follower: new InventoryFollower({ redis, prefix, loader, logger }),
    outboxHeaders: currentTraceHeaders,
  };
  const writer = new HoldWriter({ sql, logger, ...config.groupCommit, onBatch: (size) => metrics.groupCommitBatch.observe(size) });
  const reservations = new ReservationService({
    ...transitions,
    redis, prefix, catalog, loader, writer, logger,
    passGate: queue.checkPass,
    onPassEnd: (eventId, userId) => queue.passSpent(eventId, userId),
    writeBudgetMs: writeBudgetMs(config),
    idempotencyWaitMs: config.idempotencyWaitMs,
    onHoldOutcome: (outcome) => metrics.holdOutcomes.inc({ outcome }),
  });
  return {
    config, logger, sql, redis, catalog, loader, events, queue, reservations,
    exports: new ExportService({ sql, events }),
    stats: new StatsService({ sql, events, queue }),
    transitions,
    async close() {
      await writer.drain();
      await Promise.allSettled([sql.end({ timeout: 5 }), redis.quit()]);
    },
  };
}

/** Series read at scrape time from this process's pool and (for the worker) the outbox. */
function bindLiveMetrics(sql: Sql, name: string): void {
  const load = poolLoad(sql)!;
  metrics.pgPoolMax.set({ process: load.label }, load.max);
  liveSources.pool = () => ({
    process: load.label,
    busy: Math.min(load.inFlight, load.max),
    waiting: Math.max(0, load.inFlight - load.max),
  });
  if (name === 'worker') liveSources.outbox = () => outboxBacklog(sql);
}
