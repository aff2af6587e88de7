import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AuthEnv, AuthMiddleware } from '../http/auth';
import { errorResponses, IdParam, json, Text } from '../http/schemas';
import { ReservationWire } from '../outbox/message';
import { reservationJson } from './model';
import type { HoldRequest, ReservationService } from './service';

/** The latest payment attempt, as GET routes show it (api.md v1.1 "Payments"). */
export type PaymentView = { id: string; status: 'pending' | 'succeeded' | 'failed' | 'refunded'; amountCents: number; currency: string };
export type PaymentLookup = {
  latest(reservationId: string): Promise<PaymentView | null>;
  latestMany(reservationIds: string[]): Promise<Map<string, PaymentView>>;
};

const PaymentSummary = z
  .object({
    id: z.uuid(),
    status: z.enum(['pending', 'succeeded', 'failed', 'refunded']),
    amountCents: z.number().int(),
    currency: z.string(),
  })
  .nullable()
  .openapi('PaymentSummary');

const paymentJson = (p: PaymentView | null | undefined) =>
  p ? { id: p.id, status: p.status, amountCents: p.amountCents, currency: p.currency } : null;

const SeatLabel = Text(1, 64);

export const HoldBody = z
  .object({
    seats: z.array(SeatLabel).min(1).max(100).optional(),
    zone: Text(1, 64).optional(),
    quantity: z.number().int().min(1).max(100).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    const bySeats = b.seats !== undefined;
    const byZone = b.zone !== undefined || b.quantity !== undefined;
    if (bySeats === byZone) {
      ctx.addIssue({ code: 'custom', path: [], message: 'send either {"seats":[...]} or {"zone","quantity"}, not both' });
    } else if (byZone && (b.zone === undefined || b.quantity === undefined)) {
      ctx.addIssue({ code: 'custom', path: [b.zone === undefined ? 'zone' : 'quantity'], message: 'zone and quantity go together' });
    }
    if (b.seats) {
      const dup = b.seats.filter((s, i) => b.seats!.indexOf(s) !== i);
      if (dup.length) ctx.addIssue({ code: 'custom', path: ['seats'], message: `duplicate seats: ${[...new Set(dup)].join(', ')}` });
    }
  })
  .openapi('HoldRequest', { example: { seats: ['A-1-1', 'A-1-2'] } });

export const ReservationSchema = ReservationWire.openapi('Reservation');
const ReservationWithPayment = ReservationWire.extend({ payment: PaymentSummary }).openapi('ReservationWithPayment');

const IdempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, 'printable ASCII, 1 to 200 characters')
  .optional()
  .openapi({ param: { name: 'idempotency-key', in: 'header' } });
const QueuePass = z
  .string()
  .max(2048)
  .optional()
  .openapi({ param: { name: 'x-queue-pass', in: 'header' } });

export function reservationRoutes(
  app: OpenAPIHono<AuthEnv>,
  reservations: ReservationService,
  { auth, payments }: { auth: AuthMiddleware; payments: PaymentLookup },
): void {

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/events/{id}/reservations',
      tags: ['reservations'],
      summary: 'Hold seats (all or nothing) or a GA quantity',
      security: [{ bearer: [] }],
      middleware: [auth] as const,
      request: {
        params: IdParam,
        headers: z.object({ 'idempotency-key': IdempotencyKey, 'x-queue-pass': QueuePass }),
        body: { content: { 'application/json': { schema: HoldBody } }, required: true },
      },
      responses: {
        201: json(ReservationSchema, 'held (or the first result of a replayed Idempotency-Key)'),
        ...errorResponses(400, 401, 403, 404, 409, 413, 422, 429, 503),
      },
    }),
    async (c) => {
      const headers = c.req.valid('header');
      const { reservation, replayed } = await reservations.hold({
        userId: c.get('principal').id,
        eventId: c.req.valid('param').id,
        body: c.req.valid('json') as HoldRequest,
        idempotencyKey: headers['idempotency-key'],
        queuePass: headers['x-queue-pass'],
      });
      if (replayed) c.header('Idempotent-Replayed', 'true');
      return c.json(reservationJson(reservation), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/reservations/{id}',
      tags: ['reservations'],
      summary: "One of the caller's reservations",
      security: [{ bearer: [] }],
      middleware: [auth] as const,
      request: { params: IdParam },
      responses: { 200: json(ReservationWithPayment), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const r = await reservations.get(c.get('principal').id, c.req.valid('param').id);
      return c.json({ ...reservationJson(r), payment: paymentJson(await payments.latest(r.id)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/reservations/{id}/confirm',
      tags: ['reservations'],
      summary: 'Confirm a held reservation (idempotent)',
      security: [{ bearer: [] }],
      middleware: [auth] as const,
      request: {
        params: IdParam,
        body: {
          content: { 'application/json': { schema: z.object({ paymentRef: Text(1, 200).optional() }).strict() } },
          required: false,
        },
      },
      responses: {
        200: json(ReservationSchema.extend({ bookingCode: z.string() })),
        ...errorResponses(400, 401, 402, 404, 409, 410, 503),
      },
    }),
    async (c) => {
      const body = c.req.valid('json') as { paymentRef?: string } | undefined;
      const r = await reservations.confirm(c.get('principal').id, c.req.valid('param').id, body?.paymentRef ?? null);
      return c.json({ ...reservationJson(r), bookingCode: r.bookingCode! }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/reservations/{id}/cancel',
      tags: ['reservations'],
      summary: 'Cancel a held reservation and release its seats (idempotent)',
      security: [{ bearer: [] }],
      middleware: [auth] as const,
      request: { params: IdParam },
      responses: { 200: json(ReservationSchema), ...errorResponses(400, 401, 404, 409, 503) },
    }),
    async (c) => c.json(reservationJson(await reservations.cancel(c.get('principal').id, c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/me/reservations',
      tags: ['reservations'],
      summary: "The caller's reservations, newest first",
      security: [{ bearer: [] }],
      middleware: [auth] as const,
      responses: { 200: json(z.object({ reservations: z.array(ReservationWithPayment) })), ...errorResponses(401) },
    }),
    async (c) => {
      const mine = await reservations.listMine(c.get('principal').id);
      const paid = await payments.latestMany(mine.map((r) => r.id));
      return c.json({ reservations: mine.map((r) => ({ ...reservationJson(r), payment: paymentJson(paid.get(r.id)) })) }, 200);
    },
  );
}

