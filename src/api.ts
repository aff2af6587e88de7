import { loadConfigOrExit } from './config/load';
import { createCore } from './core';
import { createApp } from './app';
import { startHttpServer } from './http/server';
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

const http = await startHttpServer(app.fetch, {
  host: config.host,
  port: config.port,
  requestTimeoutMs: config.requestTimeoutMs,
  maxHeaderBytes: config.maxHeaderBytes,
  logger,
});
logger.info({ url: `${http.url}/` }, `boxoffice api listening on ${http.url}/`);

onShutdown(logger, config.shutdownTimeoutMs, async () => {
  await http.close(drain);
  await kafka.close();
  await core.close();
});
