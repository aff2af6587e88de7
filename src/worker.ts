// Worker process: seat release, reconciliation and the outbox relay, over the same core as the API.
import { loadConfigOrExit } from './config/load';
import { createCore } from './core';
import { createRelayKafka, OutboxRelay } from './outbox/relay';
import { createLogger } from './shared/logger';
import { onShutdown } from './shared/shutdown';
import { Reconciler } from './worker/reconcile';
import { releaseExpired } from './worker/release';
import { JobRunner } from './worker/runner';
import { admissionJob } from './queue/ticker';
import { serveMetrics } from './telemetry/serve-metrics';
import { liveSources, metrics } from './telemetry/metrics';

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel, 'worker');
const core = createCore(config, logger, 'worker');
const kafka = createRelayKafka(config.kafka, logger);

const relay = new OutboxRelay({
  sql: core.sql,
  kafka,
  logger: logger.child({ job: 'relay' }),
  ...config.relay,
  onPublished: (rows) => {
    metrics.relayBatch.observe(rows.length);
    metrics.relayPublished.inc(rows.length);
  },
});
liveSources.outbox = async () => {
  const [row] = await core.sql<{ backlog: number; age: number }[]>`
    select count(*)::int as backlog,
      coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as age
    from outbox where sent_at is null`;
  return { backlog: row!.backlog, oldestAgeSeconds: row!.age };
};
const reconciler = new Reconciler({
  sql: core.sql,
  redis: core.redis,
  prefix: config.redis.prefix,
  catalog: core.catalog,
  loader: core.loader,
  logger: logger.child({ job: 'reconcile' }),
  orphanGraceMs: config.worker.orphanGraceMs,
  closedLookbackMs: config.worker.closedLookbackMs,
});
const admission = admissionJob(core);
const jobs = new JobRunner(logger)
  .every('admission', admission.intervalMs, admission.run)
  .every('seat-release', config.worker.releaseIntervalMs, (signal) =>
    releaseExpired(
      {
        sql: core.sql,
        redis: core.redis,
        prefix: config.redis.prefix,
        topic: config.kafka.topic,
        batch: config.worker.releaseBatch,
        logger: logger.child({ job: 'seat-release' }),
        onBatch: (n) => metrics.workerReleases.inc({ reason: 'expired' }, n),
      },
      signal,
    ),
  )
  .every('reconcile', config.worker.reconcileIntervalMs, async (signal) => {
    const stats = await reconciler.run(signal);
    if (stats.freed) metrics.workerReleases.inc({ reason: 'reconciled' }, stats.freed);
    return stats;
  });
const metricsServer = serveMetrics(config.host, config.worker.metricsPort, logger);

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
  metricsServer.close();
  await jobs.stop();
  await relay.stop();
  await core.close();
});
