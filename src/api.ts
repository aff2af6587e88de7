import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import { loadConfigOrExit } from './config/load';
import { createCore } from './core';
import { createApp } from './app';
import { createKafka, kafkaReadiness } from './outbox/kafka';
import { checkRedis } from './redis/client';
import { createLogger } from './shared/logger';
import { onShutdown } from './shared/shutdown';

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel, 'api');
if (config.insecureDefaults.length) {
  logger.warn({ variables: config.insecureDefaults }, 'using development secrets; set them before production');
}

const core = createCore(config, logger, 'api');
const kafka = kafkaReadiness(createKafka(config.kafka, logger, `${config.kafka.clientId}-api`));
const { app, drain } = createApp({
  core,
  readiness: {
    postgres: () => core.sql`select 1`,
    redis: () => checkRedis(core.redis),
    kafka: kafka.check,
  },
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  logger.info({ url: `http://${config.host}:${info.port}/` }, `boxoffice api listening on http://${config.host}:${info.port}/`);
}) as Server;
// Long-lived SSE streams: no socket inactivity (write) timeout, since a stream may be quiet
// between pings. requestTimeout bounds only receiving a request (slow bodies), never a
// streamed response; handlers other than the stream get their own timeout from middleware.
// Idle keep-alive sockets and slow headers are bounded; keep-alive outlives a typical
// load balancer's idle timeout (60 s) so the balancer, not us, closes idle connections.
server.timeout = 0;
server.requestTimeout = config.requestTimeoutMs;
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

onShutdown(logger, config.shutdownTimeoutMs, async () => {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await drain();
  server.closeIdleConnections();
  await closed;
  await kafka.close();
  await core.close();
});
