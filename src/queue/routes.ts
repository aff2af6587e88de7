import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Core } from '../core';
import { requireAdmin, requireAuth, type AuthEnv } from '../http/auth';
import { errorResponses, IdParam, json } from '../http/schemas';
import { QueueHub } from './hub';
import { AdminQueueSchema, JoinSchema, QueuePatchBody, SnapshotSchema, TicketQuery } from './schemas';
import { queueEvent, QueueTokens, viewId, viewOf } from './service';
import { queueSettings } from './settings';
import { SseStream } from './sse';
import { QueueStore, type QueueState } from './store';

export type QueueRoutes = {
  /** Ends every open stream with a `retry:` hint (shutdown). */
  drain(): Promise<void>;
  /** Open rooms and streams of this process (tests, metrics). */
  stats(): { rooms: number; streams: number; timer: boolean };
};

/** Waiting-room routes: join, snapshot, SSE stream, admin pause / resume / rate. */
export function queueRoutes(app: OpenAPIHono<AuthEnv>, core: Core): QueueRoutes {
  const settings = queueSettings(core.config.queue);
  const store = new QueueStore(core.redis, core.config.redis.prefix, settings);
  const tokens = new QueueTokens(core.config.queueSecret);
  const hub = new QueueHub(store, tokens, settings, core.logger);
  const auth = requireAuth(core.config.jwtSecret);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/events/{id}/queue',
      tags: ['queue'],
      summary: 'Join the waiting room (one ticket per user and event)',
      security: [{ bearer: [] }],
      middleware: [auth] as const,
      request: { params: IdParam },
      responses: {
        201: json(JoinSchema, 'joined'),
        200: json(JoinSchema, 'already in the queue: the same ticket'),
        ...errorResponses(400, 401, 404, 409, 503),
      },
    }),
    async (c) => {
      const event = await queueEvent(core, c.req.valid('param').id, { joining: true });
      const userId = c.get('principal').id;
      const j = await store.join(event, userId);
      const view = viewOf(tokens, event, userId, j, hub.meterFor(event));
      const position = view.status === 'waiting' ? view.position : view.status === 'admitted' ? 0 : null;
      return c.json({ ticket: tokens.ticket(event, userId), position, ...view }, j.created ? 201 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/events/{id}/queue',
      tags: ['queue'],
      summary: 'One snapshot of a ticket (for clients that poll); counts as being seen',
      request: { params: IdParam, query: TicketQuery },
      responses: { 200: json(SnapshotSchema), ...errorResponses(400, 403, 404, 409, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const userId = tokens.readTicket(id, c.req.valid('query').ticket);
      const event = await queueEvent(core, id);
      const j = await store.join(event, userId);
      return c.json(viewOf(tokens, event, userId, j, hub.meterFor(event)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/events/{id}/queue/stream',
      tags: ['queue'],
      summary: 'Server-Sent Events: position (at most 1/s), admitted (with the pass), then the end',
      description:
        'Events `position` (lobby or waiting view) and `admitted` ({pass, expiresAt}), each with an `id:`; ' +
        'a `: ping` comment every 15 s. A reconnect whose Last-Event-ID is `admitted` gets 204 (EventSource stops).',
      request: {
        params: IdParam,
        query: TicketQuery,
        headers: z.object({
          'last-event-id': z.string().max(64).optional().openapi({ param: { name: 'last-event-id', in: 'header' } }),
        }),
      },
      responses: {
        200: { description: 'event stream', content: { 'text/event-stream': { schema: z.string() } } },
        204: { description: 'already admitted on an earlier connection' },
        ...errorResponses(400, 403, 404, 409, 503),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const userId = tokens.readTicket(id, c.req.valid('query').ticket);
      const event = await queueEvent(core, id);
      if (hub.isDraining) {
        // This instance is stopping: tell the client to come back (to another one) shortly.
        const s = new SseStream(() => {});
        s.close(settings.retryMs);
        return s.response();
      }
      const j = await store.join(event, userId);
      const first = viewOf(tokens, event, userId, j, hub.meterIfOpen(event.id));
      if (first.status === 'admitted' && c.req.valid('header')['last-event-id'] === 'admitted') {
        return c.body(null, 204);
      }
      let unwatch = () => {};
      const stream = new SseStream(() => unwatch());
      stream.retry(settings.retryMs);
      stream.send(first.status === 'admitted' ? 'admitted' : 'position', viewId(first), first);
      if (first.status === 'admitted') stream.close();
      else unwatch = hub.watch(event, userId, j.number, stream, first);
      return stream.response();
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/admin/events/{id}/queue',
      tags: ['admin'],
      summary: 'Pause, resume or change the admission rate (takes effect in every process at once)',
      security: [{ bearer: [] }],
      middleware: [auth, requireAdmin] as const,
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: QueuePatchBody } }, required: true },
      },
      responses: { 200: json(AdminQueueSchema), ...errorResponses(400, 401, 403, 404, 409, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const event = await queueEvent(core, id);
      let st = await store.advance(event);
      if (body.admitPerSecond !== undefined) {
        st = await store.control(event, 'rate', body.admitPerSecond);
        // Persisted so a waiting room rebuilt after a Redis loss starts at the new rate.
        await core.sql`update events set queue_admit_per_second = ${body.admitPerSecond} where id = ${id}`;
        core.catalog.invalidate(id);
      }
      if (body.paused !== undefined) st = await store.control(event, body.paused ? 'pause' : 'resume');
      return c.json(adminView(id, st), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/events/{id}/queue',
      tags: ['admin'],
      summary: 'Waiting-room state: rate, paused, issued, admitted, skipped',
      security: [{ bearer: [] }],
      middleware: [auth, requireAdmin] as const,
      request: { params: IdParam },
      responses: { 200: json(AdminQueueSchema), ...errorResponses(400, 401, 403, 404, 409, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      return c.json(adminView(id, await store.advance(await queueEvent(core, id))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/queue/connections',
      tags: ['admin'],
      summary: "This process's open waiting-room streams and rooms",
      security: [{ bearer: [] }],
      middleware: [auth, requireAdmin] as const,
      responses: {
        200: json(z.object({ rooms: z.number().int(), streams: z.number().int(), timer: z.boolean() })),
        ...errorResponses(401, 403),
      },
    }),
    (c) => c.json(hub.stats(), 200),
  );

  return { drain: () => hub.drain(), stats: () => hub.stats() };
}

/** The admin's view of a waiting room (also part of the organiser's stats). */
export function adminView(eventId: string, st: QueueState) {
  return {
    eventId,
    opensAt: new Date(st.openAt).toISOString(),
    paused: st.paused,
    admitPerSecond: st.rate,
    lobbySize: st.lobbySize,
    issued: st.issued,
    admittedUpTo: st.admitted,
    admitted: st.admittedCount,
    skipped: st.skipped,
    waiting: st.issued - st.admitted,
  };
}
