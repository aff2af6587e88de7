import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { registry } from './metrics';

/** The worker's scrape endpoint (the API serves /metrics on its own port). */
export function serveMetrics(host: string, port: number, logger: Logger): Server {
  const app = new Hono();
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  const server = serve({ fetch: app.fetch, hostname: host, port }, (info) =>
    logger.info({ url: `http://${host}:${info.port}/metrics` }, 'worker metrics listening'),
  ) as Server;
  // A second worker on the same host must still run (set WORKER_METRICS_PORT per worker).
  server.on('error', (err) => logger.warn({ err: err.message, port }, 'worker metrics endpoint not started'));
  return server;
}
