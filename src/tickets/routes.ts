import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { requireRole, type AuthEnv, type AuthMiddleware } from '../http/auth';
import { errorResponses, IdParam, json } from '../http/schemas';
import type { ReservationService } from '../reservations/service';
import type { TicketService } from './service';

const TicketSchema = z
  .object({
    id: z.string().uuid(),
    eventId: z.string().uuid(),
    reservationId: z.string().uuid(),
    zone: z.string(),
    seat: z.string().nullable(),
    status: z.enum(['valid', 'revoked']),
    checkedInAt: z.string().nullable(),
    code: z.string().openapi({ description: 'signed (Ed25519); verify offline with /.well-known/ticket-keys.json' }),
  })
  .openapi('Ticket');

export function ticketRoutes(
  app: OpenAPIHono<AuthEnv>,
  d: { tickets: TicketService; reservations: ReservationService; auth: AuthMiddleware; scannerAuth: AuthMiddleware },
) {
  const { auth } = d;

  app.get('/.well-known/ticket-keys.json', (c) => {
    c.header('cache-control', 'public, max-age=3600');
    return c.json(d.tickets.jwks());
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/reservations/{id}/tickets',
      tags: ['tickets'],
      summary: 'The tickets of a confirmed booking, one per seat (GA: per unit), with QR codes as SVG',
      security: [{ bearer: [] }],
      middleware: [auth] as const,
      request: { params: IdParam },
      responses: {
        200: json(z.object({ tickets: z.array(TicketSchema.extend({ qrSvg: z.string() })) })),
        ...errorResponses(400, 401, 404, 409),
      },
    }),
    async (c) => {
      const r = await d.reservations.get(c.get('principal').id, c.req.valid('param').id);
      return c.json({ tickets: await d.tickets.list(r) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/events/{id}/checkins',
      tags: ['tickets'],
      summary: 'Check a ticket in at the door (admin or scanner); exactly one scan of a code succeeds',
      security: [{ bearer: [] }],
      middleware: [d.scannerAuth, requireRole('admin', 'scanner')] as const,
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: z.object({ code: z.string().min(1).max(512) }).strict() } }, required: true },
      },
      responses: {
        200: json(z.object({ status: z.literal('checked_in'), ticket: TicketSchema })),
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const ticket = await d.tickets.checkIn(c.req.valid('param').id, c.req.valid('json').code, c.get('principal').id);
      return c.json({ status: 'checked_in' as const, ticket }, 200);
    },
  );
}
