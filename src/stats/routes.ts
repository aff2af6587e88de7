import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Core } from '../core';
import { AvailabilitySchema } from '../events/schemas';
import { requireAdmin, requireAuth, type AuthEnv } from '../http/auth';
import { errorResponses, IdParam, json } from '../http/schemas';
import { adminView } from '../queue/routes';
import { AdminQueueSchema } from '../queue/schemas';
import { queueSettings } from '../queue/settings';
import { QueueStore } from '../queue/store';
import { eventCounters } from '../reservations/repository';

const Totals = z.object({ capacity: z.number(), available: z.number(), held: z.number(), sold: z.number() });
const StatsSchema = z
  .object({
    eventId: z.string(),
    at: z.string(),
    zones: AvailabilitySchema.shape.zones,
    totals: Totals,
    queue: AdminQueueSchema.nullable(),
    counters: z.object({ holds: z.number().int(), confirms: z.number().int() }),
  })
  .openapi('EventStats');

/** The organiser's figures for one event: inventory, waiting room and cumulative counters. */
export function statsRoutes(app: OpenAPIHono<AuthEnv>, core: Core): void {
  const store = new QueueStore(core.redis, core.config.redis.prefix, queueSettings(core.config.queue));
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/events/{id}/stats',
      tags: ['admin'],
      summary: 'Sold, held and available per zone; queue length and admissions; holds and confirms so far',
      security: [{ bearer: [] }],
      middleware: [requireAuth(core.config.jwtSecret), requireAdmin] as const,
      request: { params: IdParam },
      responses: { 200: json(StatsSchema), ...errorResponses(400, 401, 403, 404, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const zones = await core.events.availability(id);
      const event = (await core.catalog.get(id))!;
      const [queue, counters] = await Promise.all([
        event.queue.enabled ? store.advance(event).then((st) => adminView(id, st)) : null,
        eventCounters(core.sql, id),
      ]);
      const totals = zones.reduce(
        (t, z) => ({ capacity: t.capacity + z.capacity, available: t.available + z.available, held: t.held + z.held, sold: t.sold + z.sold }),
        { capacity: 0, available: 0, held: 0, sold: 0 },
      );
      return c.json({ eventId: id, at: new Date().toISOString(), zones, totals, queue, counters }, 200);
    },
  );
}
