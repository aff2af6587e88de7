import { OpenAPIHono } from '@hono/zod-openapi';
import type { Core } from './core';
import { eventRoutes } from './events/routes';
import { exportRoutes } from './exports/routes';
import { requireAuth, verifiedPrincipal, type AuthEnv } from './http/auth';
import { docsRoutes } from './http/docs';
import { finishOpenApiDocument } from './http/openapi';
import { errorBoundary } from './http/error-boundary';
import { useMiddleware } from './http/middleware';
import { queueRoutes } from './queue/routes';
import { messageSchemaRoute } from './outbox/schema-route';
import { DevProvider } from './payments/dev';
import { paymentRoutes } from './payments/routes';
import { reservationRoutes } from './reservations/routes';
import { ticketRoutes } from './tickets/routes';
import { Errors } from './shared/errors';
import { statsRoutes } from './stats/routes';
import { webRoutes } from './web/routes';

export type AppDeps = {
  core: Core;
  /** Named readiness checks (postgres, redis, kafka); each rejects when its backend is down. */
  readiness: Record<string, () => Promise<unknown>>;
};

export type BoxofficeApp = {
  app: OpenAPIHono<AuthEnv>;
  /** Ends long-lived streams (with a retry hint) so the process can stop. */
  drain(): Promise<void>;
};

/**
 * The composition root of the HTTP side: middleware, then every capability's routes, each
 * handed its own service and what it needs (never the whole core). Tests drive it in
 * process with app.request().
 */
export function createApp(d: AppDeps): BoxofficeApp {
  const { config, logger, metrics } = d.core;
  const { registry } = metrics;
  metrics.watchStreams(() => d.core.queue.hub.streamsByEvent());
  const app = new OpenAPIHono<AuthEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
        throw Errors.invalid(`invalid ${result.target}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, { issues });
      }
    },
  });

  useMiddleware(app, config, {
    histogram: metrics.httpDuration,
    logger,
    // Keyed on the verified subject: the token is verified here once and the route's auth reuses it.
    identify: async (c) => {
      const v = await verifiedPrincipal(c, d.core.auth);
      return 'principal' in v ? v.principal.id : null;
    },
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  app.get('/readyz', async (c) => {
    const entries = await Promise.all(
      Object.entries(d.readiness).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 1_500);
          return [name, 'up'] as const;
        } catch {
          return [name, 'down'] as const;
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    const ok = entries.every(([, s]) => s === 'up');
    return c.json({ status: ok ? 'ready' : 'unavailable', checks, breakers: d.core.breakers.states() }, ok ? 200 : 503);
  });

  const { core } = d;
  const auth = requireAuth(core.auth);
  const chunkBytes = config.stream.chunkBytes;
  eventRoutes(app, core.events, { auth, logger, chunkBytes, admin: core.eventAdmin });
  reservationRoutes(app, core.reservations, { auth, payments: core.payments });
  // The dev provider's test-card routes are development routes (development with the development JWT secret).
  const devPayments =
    core.paymentProvider instanceof DevProvider && config.devRoutes;
  paymentRoutes(app, {
    payments: core.payments,
    reservations: core.reservations,
    auth,
    devProvider: devPayments ? (core.paymentProvider as DevProvider) : null,
  });
  ticketRoutes(app, { tickets: core.tickets, reservations: core.reservations, auth, scannerAuth: requireAuth(core.auth, { scanner: true }) });
  messageSchemaRoute(app);
  queueRoutes(app, core.queue, { auth });
  exportRoutes(app, core.exports, { auth, logger, chunkBytes });
  statsRoutes(app, core.stats, { auth });
  const pages = webRoutes(app, core.events, { devSignIn: config.devRoutes, jwtSecret: config.jwtSecret, devPayments });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  // Built on the first request (every route is registered by then) and kept: it never changes.
  let openApi: Record<string, unknown> | undefined;
  app.get('/openapi.json', (c) => {
    openApi ??= finishOpenApiDocument(app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'boxoffice', version: '1' } }), {
      rateLimited: config.rateLimit.limit > 0,
    });
    return c.json(openApi);
  });
  docsRoutes(app);

  const boundary = errorBoundary(logger, pages);
  app.notFound((c) => boundary(Errors.notFound('route'), c));
  app.onError(boundary);
  return { app, drain: () => core.queue.drain() };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(resolve, reject).finally(() => clearTimeout(t));
  });
}
