// Standalone downstream consumer (npm run consumer:notifications): reads booking.events in
// its own consumer group and notifies buyers (the confirmation mail with their tickets), each message once.
import { loadConfigOrExit } from './config/load';
import { createSql } from './db/client';
import { createKafka, ensureTopic } from './outbox/kafka';
import { createLogger } from './shared/logger';
import { onShutdown } from './shared/shutdown';
import { DedupingConsumer } from './consumers/dedupe';
import { notificationHandler } from './consumers/notifier';
import { createConsumerMetrics } from './telemetry/metrics';
import { serveMetrics } from './telemetry/serve-metrics';
import { createMailer } from './mail/mailer';
import { TicketService } from './tickets/service';

const config = loadConfigOrExit();
const GROUP = config.notificationsGroupId;
const logger = createLogger(config.logLevel, 'consumer-notifications');
const metrics = createConsumerMetrics();
const sql = createSql({ ...config.db, max: 2 }, { applicationName: 'boxoffice-notifications', metrics });
const kafka = createKafka(config.kafka, logger, `${config.kafka.clientId}-notifications`);
const mailer = createMailer({ smtpUrl: config.mail.smtpUrl, mailDir: config.mail.dir, from: config.mail.from });
if (!config.mail.smtpUrl) logger.warn({ dir: config.mail.dir }, 'SMTP_URL not set: confirmation mails are written to this folder');
const tickets = new TicketService({ sql, signingKey: config.ticketSigningKey, topic: config.kafka.topic });
const consumer = new DedupingConsumer({
  kafka,
  sql,
  logger,
  name: GROUP,
  topic: config.kafka.topic,
  onMessage: (_type, duplicate) => metrics.messages.inc({ consumer: GROUP, result: duplicate ? 'duplicate' : 'handled' }),
  onLag: (partition, lag) => metrics.lag.set({ consumer: GROUP, partition: String(partition) }, lag),
  handle: notificationHandler(logger, { mailer, tickets, userDomain: config.mail.userDomain }),
});
const metricsServer = serveMetrics(metrics.registry, config.host, config.consumerMetricsPort, logger);

try {
  // Best effort: in development the topic may not exist yet; in production it usually does.
  await ensureTopic(kafka, config.kafka.topic, config.kafka.partitions).catch((err) => logger.warn({ err }, 'could not ensure topic'));
  await consumer.start();
  logger.info({ topic: config.kafka.topic, group: GROUP }, 'notifications consumer started');
} catch (err) {
  logger.fatal({ err }, 'notifications consumer failed to start');
  await sql.end({ timeout: 5 }).catch(() => {});
  process.exit(1);
}

onShutdown(logger, config.shutdownTimeoutMs, async () => {
  metricsServer.close();
  await consumer.stop();
  mailer.close();
  await sql.end({ timeout: 5 });
});
