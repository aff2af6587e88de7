// Worker process: seat release, reconciliation, admission, retention and the outbox relay, over the same core as the API.
import { loadConfigOrExit } from './config/load';
import { createCore } from './core';
import { outboxBacklog } from './outbox/outbox';
import { createKafka, ensureTopicEventually } from './outbox/kafka';
import { createRelayKafka, OutboxRelay } from './outbox/relay';
import { admissionJob } from './queue/ticker';
import { createLogger } from './shared/logger';
import { onShutdown } from './shared/shutdown';
import { createWorkerMetrics } from './telemetry/metrics';
import { serveMetrics } from './telemetry/serve-metrics';
import { whilePostgresUp } from './worker/postgres-gate';
import { Reconciler } from './worker/reconcile';
import { BatchSizer, releaseExpired } from './worker/release';
import { purgeRetained } from './worker/retention';
import { JobRunner } from './worker/runner';

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel, 'worker');
const metrics = createWorkerMetrics();
const core = createCore(config, logger, 'worker', metrics);
metrics.watchOutbox(() => outboxBacklog(core.sql));

const relay = new OutboxRelay({
  sql: core.sql,
  kafka: createRelayKafka(config.kafka, logger),
  logger: logger.child({ job: 'relay' }),
  ...config.relay,
  guard: (send) => core.breakers.run('kafka', send),
  onPublished: (rows) => {
    metrics.relayBatch.observe(rows.length);
    metrics.relayPublished.inc(rows.length);
  },
});
const reconciler = new Reconciler({
  sql: core.sql,
  redis: core.redis,
  prefix: config.redis.prefix,
  loader: core.loader,
  logger: logger.child({ job: 'reconcile' }),
  orphanGraceMs: config.worker.orphanGraceMs,
  closedLookbackMs: config.worker.closedLookbackMs,
});
const admission = admissionJob(core.queue, (rooms) => metrics.recordQueues(rooms));
const release = {
  ...core.transitions,
  batch: config.worker.releaseBatch,
  sizer: new BatchSizer(config.worker.releaseBatch, config.db.statementTimeoutMs / 4),
  logger: logger.child({ job: 'seat-release' }),
  onBatch: (n: number) => metrics.releases.inc({ reason: 'expired' }, n),
};
const retention = { sql: core.sql, logger: logger.child({ job: 'retention' }), ...config.retention };
// The jobs that write PostgreSQL sit out an outage (PostgreSQL's breaker open) rather than
// queue runs that each wait out a timeout; admission is Redis' alone and keeps going.
const pgGate = { breakers: core.breakers, logger, probe: () => core.sql`select 1` };
const jobs = new JobRunner(logger, { onRun: metrics.onJobRun })
  .every('admission', admission.intervalMs, admission.run)
  .every('seat-release', config.worker.releaseIntervalMs, whilePostgresUp(pgGate, 'seat-release', (signal) => releaseExpired(release, signal)))
  // Refunds the provider did not accept yet (an outage): retried with backoff until it does.
  .every('refunds', config.payments.refundIntervalMs, whilePostgresUp(pgGate, 'refunds', () => core.payments.sendRefunds()))
  .every('reconcile', config.worker.reconcileIntervalMs, whilePostgresUp(pgGate, 'reconcile', async (signal) => {
    const stats = await reconciler.run(signal);
    if (stats.freed) metrics.releases.inc({ reason: 'reconciled' }, stats.freed);
    return stats;
  }))
  .every('retention', config.retention.intervalMs, whilePostgresUp(pgGate, 'retention', async (signal) => {
    const purged = await purgeRetained(retention, signal);
    metrics.purged.inc({ table: 'outbox' }, purged.outbox);
    metrics.purged.inc({ table: 'consumer_messages' }, purged.dedupe);
  }));
const metricsServer = serveMetrics(metrics.registry, config.host, config.worker.metricsPort, logger);

// A consumer that subscribes before the first publish (a fresh stack) needs the topic to
// exist: create it at start with the configured partitions, retrying while Kafka is down.
const topicAbort = new AbortController();
const topicReady = ensureTopicEventually(createKafka(config.kafka, logger, `${config.kafka.clientId}-admin`), config.kafka.topic, config.kafka.partitions, {
  logger,
  signal: topicAbort.signal,
});

try {
  await relay.start();
  jobs.start();
  logger.info(
    { releaseIntervalMs: config.worker.releaseIntervalMs, reconcileIntervalMs: config.worker.reconcileIntervalMs },
    'worker started',
  );
} catch (err) {
  logger.fatal({ err }, 'worker failed to start');
  await core.close().catch(() => {});
  process.exit(1);
}

onShutdown(logger, config.shutdownTimeoutMs, async () => {
  topicAbort.abort();
  await topicReady;
  metricsServer.close();
  await jobs.stop();
  await relay.stop();
  await core.close();
});
