import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { AvailabilitySchema } from '../events/schemas';
import { requireAdmin, type AuthEnv, type AuthMiddleware } from '../http/auth';
import { errorResponses, IdParam, json } from '../http/schemas';
import { AdminQueueSchema } from '../queue/schemas';
import type { StatsService } from './service';

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
export function statsRoutes(app: OpenAPIHono<AuthEnv>, stats: StatsService, { auth }: { auth: AuthMiddleware }): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/events/{id}/stats',
      tags: ['admin'],
      summary: 'Sold, held and available per zone; queue length and admissions; holds and confirms so far',
      security: [{ bearer: [] }],
      middleware: [auth, requireAdmin] as const,
      request: { params: IdParam },
      responses: { 200: json(StatsSchema), ...errorResponses(400, 401, 403, 404, 503) },
    }),
    async (c) => c.json(await stats.forEvent(c.req.valid('param').id), 200),
  );
}
