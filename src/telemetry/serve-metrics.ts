import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** The scrape endpoint of a process without an HTTP API of its own (worker, consumer). */
export function serveMetrics(registry: Registry, host: string, port: number, logger: Logger): Server {
  const app = new Hono();
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  const server = serve({ fetch: app.fetch, hostname: host, port }, (info) =>
    logger.info({ url: `http://${host}:${info.port}/metrics` }, 'metrics listening'),
  ) as Server;
  // A second worker on the same host must still run (set WORKER_METRICS_PORT per worker).
  server.on('error', (err) => logger.warn({ err: err.message, port }, 'metrics endpoint not started'));
  return server;
}
