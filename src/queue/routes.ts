import type { ServerResponse } from 'node:http';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requireAdmin, type AuthEnv, type AuthMiddleware } from '../http/auth';
import { errorResponses, IdParam, json } from '../http/schemas';
import { AdminQueueSchema, ChallengeSchema, JoinSchema, QueuePatchBody, RevokedSchema, SnapshotSchema, TicketQuery, UserParam } from './schemas';
import type { QueueService } from './service';

/** Waiting-room routes: join, snapshot, SSE stream, admin pause / resume / rate. */
export function queueRoutes(app: OpenAPIHono<AuthEnv>, queue: QueueService, { auth }: { auth: AuthMiddleware }): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/events/{id}/queue',
      tags: ['queue'],
      summary: 'Join the waiting room (one ticket per user and event)',
      security: [{ bearer: [] }],
      middleware: [auth] as const,
      description:
        'Limited per user and per client address (429 RATE_LIMITED). With `queue.challenge: "pow"` the solved challenge ' +
        'of GET .../queue/challenge goes in `X-Queue-Challenge` (403 CHALLENGE_REQUIRED without a valid, unused one).',
      request: {
        params: IdParam,
        headers: z.object({
          'x-queue-challenge': z.string().max(4096).optional().openapi({ param: { name: 'x-queue-challenge', in: 'header' } }),
        }),
      },
      responses: {
        201: json(JoinSchema, 'joined'),
        200: json(JoinSchema, 'already in the queue: the same ticket'),
        ...errorResponses(400, 401, 403, 404, 409, 429, 503),
      },
    }),
    async (c) => {
      const { created, body } = await queue.join(c.req.valid('param').id, c.get('principal').id, {
        address: clientAddress(c, queue.settings.trustProxyHops),
        challenge: c.req.valid('header')['x-queue-challenge'],
      });
      return c.json(body, created ? 201 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/events/{id}/queue/challenge',
      tags: ['queue'],
      summary: 'A proof-of-work challenge for joining (ALTCHA format), when the event asks for one',
      request: { params: IdParam },
      responses: { 200: json(ChallengeSchema), ...errorResponses(400, 404, 409, 503) },
    }),
    async (c) => {
      c.header('cache-control', 'no-store');
      return c.json(await queue.challenge(c.req.valid('param').id), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/admin/events/{id}/queue/passes/{userId}',
      tags: ['admin'],
      summary: "Revoke a user's queue pass: holds with it get 403 QUEUE_PASS_REVOKED from then on",
      security: [{ bearer: [] }],
      middleware: [auth, requireAdmin] as const,
      request: { params: UserParam },
      responses: { 200: json(RevokedSchema), ...errorResponses(400, 401, 403, 404, 409, 503) },
    }),
    async (c) => {
      const { id, userId } = c.req.valid('param');
      return c.json(await queue.revoke(id, userId), 200);
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
    async (c) => c.json(await queue.snapshot(c.req.valid('param').id, c.req.valid('query').ticket), 200),
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
      const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
      const res = await queue.stream(c.req.valid('param').id, c.req.valid('query').ticket, c.req.valid('header')['last-event-id'], {
        head: c.req.method === 'HEAD',
        onEnd: (release) => {
          // The node response closes however it ends; the request signal covers other servers.
          outgoing?.once('close', release);
          c.req.raw.signal.addEventListener('abort', release, { once: true });
        },
      });
      return res ?? c.body(null, 204);
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
    async (c) => c.json(await queue.update(c.req.valid('param').id, c.req.valid('json')), 200),
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
    async (c) => c.json(await queue.adminState(c.req.valid('param').id), 200),
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
    (c) => c.json(queue.stats(), 200),
  );
}

/**
 * The client's address for the join limits: the socket's peer, or, behind `hops` trusted
 * proxies, the address the outermost of them saw (X-Forwarded-For, counted from the right,
 * since everything left of it is the client's own claim).
 */
export function clientAddress(c: Context, hops: number): string {
  const socket = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
  if (hops > 0) {
    const chain = (c.req.header('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const hop = chain[chain.length - hops];
    if (hop) return hop.slice(0, 64);
  }
  return socket ?? 'unknown';
}
