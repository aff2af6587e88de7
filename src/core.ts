import type { Logger } from 'pino';
import { createAuthenticator, type Authenticator } from './auth/authenticator';
import type { Config } from './config/config';
import { createSql, type Sql } from './db/client';
import { EventCatalog } from './events/catalog';
import { EventAdmin } from './events/admin';
import { EventService } from './events/service';
import { ExportService } from './exports/service';
import { InventoryFollower } from './inventory/follow';
import { InventoryLoader } from './inventory/loader';
import { tightenFromPostgres } from './inventory/tighten';
import { QueueService } from './queue/service';
import { createRedis, type RedisClient } from './redis/client';
import { Breakers } from './resilience/breakers';
import { cancelLiveReservations } from './reservations/event-cancel';
import { HoldWriter } from './reservations/hold-writer';
import { inventorySnapshot } from './reservations/repository';
import { createPaymentProvider } from './payments/select';
import type { PaymentProvider } from './payments/provider';
import { PaymentService } from './payments/service';
import { ReservationService } from './reservations/service';
import { issueTickets } from './tickets/repository';
import { TicketService } from './tickets/service';
import type { TransitionDeps } from './reservations/transition';
import { StatsService } from './stats/service';
import { createApiMetrics, type ApiMetrics, type CoreMetrics } from './telemetry/metrics';
import { currentTraceHeaders } from './telemetry/trace';

export type Core<M extends CoreMetrics = ApiMetrics> = {
  config: Config;
  /** This process's Prometheus series (its own registry). */
  metrics: M;
  logger: Logger;
  sql: Sql;
  /** Verifies bearer tokens (HS256 secret and/or the identity provider's JWKS). */
  auth: Authenticator;
  redis: RedisClient;
  catalog: EventCatalog;
  loader: InventoryLoader;
  events: EventService;
  queue: QueueService;
  eventAdmin: EventAdmin;
  reservations: ReservationService;
  exports: ExportService;
  stats: StatsService;
  /** null under PAYMENT_PROVIDER=none. */
  paymentProvider: PaymentProvider | null;
  payments: PaymentService;
  tickets: TicketService;
  /** What every state change after a hold needs (confirm, cancel, the release worker). */
  transitions: TransitionDeps;
  /** Circuit breakers around PostgreSQL, Redis and Kafka (state in /readyz and metrics). */
  breakers: Breakers;
  /** Flushes pending holds, then closes the pools. */
  close(): Promise<void>;
};

/**
 * How long after its Lua a hold may still be written: a Redis rebuild waits
 * REBUILD_QUIESCE_MS, and a write started before the deadline ends within the statement
 * timeout, so every hold decided before a loss is in PostgreSQL when the rebuild reads it.
 */
export const writeBudgetMs = (config: Config) => Math.max(0, config.rebuild.quiesceMs - config.db.statementTimeoutMs - 250);

/**
 * Every service both entry points (api, worker) are built from; no connection is global.
 * The metrics are the process's own (the API's unless the caller says otherwise).
 */
export function createCore<M extends CoreMetrics = ApiMetrics>(
  config: Config,
  logger: Logger,
  name: string,
  metrics: M = createApiMetrics() as unknown as M,
): Core<M> {
  const sql = createSql(config.db, { applicationName: `boxoffice-${name}`, metrics });
  // Long readers (admin exports hold a connection for a whole download) get a small pool of
  // their own, so however many run, holds and confirms always find a connection.
  const exportSql = createSql({ ...config.db, max: config.db.exportMax }, { applicationName: `boxoffice-${name}-export` });
  const redis = createRedis(config.redis, {
    onError: (err) => logger.warn({ err: err.message }, 'redis connection error'),
    metrics,
  });
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
  const breakerValue = { closed: 0, 'half-open': 1, open: 2 } as const;
  const breakers = new Breakers({
    ...config.breakers,
    // A hold's write ends within its statement timeout plus a connection's setup.
    timeoutMs: { postgres: config.db.statementTimeoutMs + 2_000 },
    onState: (breaker, state) => {
      metrics.breakerState.set({ breaker }, breakerValue[state]);
      if (state !== 'closed') logger.warn({ breaker, state }, 'circuit breaker ' + state);
    },
  });
  const writer = new HoldWriter({
    sql, logger, ...config.groupCommit,
    onBatch: (size) => metrics.holds?.batch.observe(size),
    onRefused: tightenFromPostgres({ redis, prefix }),
  });
  const eventAdmin = new EventAdmin({
    sql, redis, prefix, catalog, loader, logger, settleMs: config.rebuild.quiesceMs,
    // Paid bookings of a cancelled event: tickets revoked, money back (payments is built below).
    cancelReservations: (eventId) =>
      cancelLiveReservations({ ...transitions, logger, refund: (r) => payments.refundCancelledBooking(r) }, eventId),
  });
  const reservations = new ReservationService({
    ...transitions,
    redis, prefix, catalog, loader, writer, logger,
    passGate: queue.checkPass,
    issueTickets,
    onPassEnd: (eventId, userId) => queue.passSpent(eventId, userId),
    writeBudgetMs: writeBudgetMs(config),
    idempotencyWaitMs: config.idempotencyWaitMs,
    paymentRequired: config.payments.provider !== 'none',
    onHoldOutcome: (outcome) => metrics.holds?.outcomes.inc({ outcome }),
    breakers,
  });
  const paymentProvider = createPaymentProvider(config.payments);
  const payments = new PaymentService({
    ...transitions,
    logger,
    provider: paymentProvider,
    windowSeconds: config.payments.windowSeconds,
    refundBackoffMaxMs: config.payments.refundBackoffMaxMs,
    breakers,
  });
  const tickets = new TicketService({ sql, signingKey: config.ticketSigningKey, topic: config.kafka.topic, outboxHeaders: currentTraceHeaders });
  return {
    config, metrics, logger, sql, auth: createAuthenticator(config.auth), redis, catalog, loader, events, queue, eventAdmin, reservations,
    paymentProvider, payments, tickets,
    exports: new ExportService({ sql: exportSql, events }),
    stats: new StatsService({ sql, events, queue }),
    transitions,
    breakers,
    async close() {
      await writer.drain();
      breakers.shutdown();
      await Promise.allSettled([sql.end({ timeout: 5 }), exportSql.end({ timeout: 5 }), redis.quit()]);
    },
  };
}
