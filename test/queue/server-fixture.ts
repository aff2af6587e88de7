// One API process for the multi-process waiting-room test: env in, "LISTENING <port>" out.
import { serve } from '@hono/node-server';
import { loadConfig } from '../../src/config/config';
import { createCore } from '../../src/core';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/shared/logger';

const config = loadConfig(process.env);
const core = createCore(config, createLogger(config.logLevel, 'queue-fixture'), 'queue-fixture');
const { app, drain } = createApp({ core, readiness: {} });
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`LISTENING ${info.port}\n`);
});
process.on('SIGTERM', () => {
  void (async () => {
    await drain();
    server.close();
    await core.close();
    process.exit(0);
  })();
});
