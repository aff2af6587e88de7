import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { requireAdmin, type AuthEnv, type AuthMiddleware } from '../http/auth';
import { errorResponses, IdParam, json, Uuid } from '../http/schemas';
import { reservationJson } from '../reservations/model';
import type { ReservationService } from '../reservations/service';
import { ReservationSchema } from '../reservations/routes';
import { Errors } from '../shared/errors';
import { DevProvider } from './dev';
import type { PaymentService } from './service';

const CheckoutSchema = z
  .object({
    paymentId: z.string().uuid(),
    provider: z.enum(['dev', 'stripe']),
    amountCents: z.number().int(),
    currency: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed', 'refunded']),
    clientSecret: z.string().optional(),
    redirectUrl: z.string().optional(),
    expiresAt: z.string(),
  })
  .openapi('Checkout');

const Outcome = z.object({ outcome: z.string(), duplicate: z.boolean() }).openapi('WebhookOutcome');

export type PaymentRouteDeps = {
  payments: PaymentService;
  reservations: ReservationService;
  auth: AuthMiddleware;
  /** The dev provider, when its test-card routes are on (development with the default JWT secret). */
  devProvider: DevProvider | null;
};

export function paymentRoutes(app: OpenAPIHono<AuthEnv>, d: PaymentRouteDeps) {
  const { auth } = d;

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/reservations/{id}/checkout',
      tags: ['payments'],
      summary: 'Start (or resume) paying for a held reservation; the amount is the reservation total',
      security: [{ bearer: [] }],
      middleware: [auth] as const,
      request: { params: IdParam },
      responses: {
        201: json(CheckoutSchema, 'payment started'),
        200: json(CheckoutSchema, 'the payment already started'),
        ...errorResponses(400, 401, 404, 409, 410, 503),
      },
    }),
    async (c) => {
      const { payment, reservation, created } = await d.payments.checkout(c.get('principal').id, c.req.valid('param').id, c.get('principal').email);
      const body = {
        paymentId: payment.id,
        provider: payment.provider as 'dev' | 'stripe',
        amountCents: payment.amountCents,
        currency: payment.currency,
        status: payment.status,
        ...(payment.clientSecret ? { clientSecret: payment.clientSecret } : {}),
        ...(payment.redirectUrl ? { redirectUrl: payment.redirectUrl } : {}),
        expiresAt: reservation.expiresAt.toISOString(),
      };
      return created ? c.json(body, 201) : c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/payments/webhooks/{provider}',
      tags: ['payments'],
      summary: "The payment provider's signed webhook (Stripe-Signature scheme); each event is applied once",
      request: {
        params: z.object({ provider: z.string().max(32).openapi({ param: { name: 'provider', in: 'path' } }) }),
        headers: z.object({ 'stripe-signature': z.string().max(4096).optional() }),
      },
      responses: { 200: json(Outcome), ...errorResponses(400, 404, 413, 503) },
    }),
    async (c) => {
      // The signature covers the exact bytes, so the body is read raw, never re-serialized.
      const raw = await c.req.text();
      const result = await d.payments.handleWebhook(c.req.valid('param').provider, raw, c.req.valid('header')['stripe-signature']);
      return c.json(result, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/reservations/{id}/refund',
      tags: ['admin'],
      summary: 'Refund a confirmed booking: seats back on sale, tickets revoked, money returned (idempotent)',
      security: [{ bearer: [] }],
      middleware: [auth, requireAdmin] as const,
      request: { params: IdParam },
      responses: {
        200: json(
          ReservationSchema.extend({
            refund: z.object({ status: z.string(), attempts: z.number().int(), lastError: z.string().nullable() }).nullable(),
          }),
        ),
        ...errorResponses(400, 401, 403, 404, 409, 503),
      },
    }),
    async (c) => {
      const { reservation, refund } = await d.payments.refundReservation(c.req.valid('param').id);
      return c.json({ ...reservationJson(reservation), refund }, 200);
    },
  );

  if (!d.devProvider) return;
  const dev = d.devProvider;
  for (const verdict of ['succeed', 'fail'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/v1/dev/payments/{paymentId}/${verdict}`,
        tags: ['development'],
        summary: `Development: the dev provider sends its signed "payment ${verdict === 'succeed' ? 'succeeded' : 'failed'}" webhook`,
        security: [{ bearer: [] }],
        middleware: [auth] as const,
        request: {
          params: z.object({ paymentId: Uuid.openapi({ param: { name: 'paymentId', in: 'path' } }) }),
          body: {
            content: {
              'application/json': {
                // Lets the test-card page (and tests) simulate a provider that collected another amount.
                schema: z.object({ amountCents: z.number().int().min(0).optional(), currency: z.string().regex(/^[A-Z]{3}$/).optional() }).strict(),
              },
            },
            required: false,
          },
        },
        responses: { 200: json(Outcome.extend({ reservation: ReservationSchema })), ...errorResponses(400, 401, 404) },
      }),
      async (c) => {
        const payment = await d.payments.find(c.req.valid('param').paymentId);
        const userId = c.get('principal').id;
        const owner = payment ? await d.reservations.get(userId, payment.reservationId).catch(() => null) : null;
        if (!payment || payment.provider !== 'dev' || !owner) throw Errors.notFound('payment');
        const body = (c.req.valid('json') ?? {}) as { amountCents?: number; currency?: string };
        const { body: raw, signature } = dev.sign({
          type: verdict === 'succeed' ? 'payment.succeeded' : 'payment.failed',
          data: {
            paymentId: payment.id,
            providerPaymentId: payment.providerPaymentId ?? '',
            amountCents: body.amountCents ?? payment.amountCents,
            currency: body.currency ?? payment.currency,
          },
        });
        const result = await d.payments.handleWebhook('dev', raw, signature);
        const reservation = await d.reservations.get(userId, payment.reservationId);
        return c.json({ ...result, reservation: reservationJson(reservation) }, 200);
      },
    );
  }
}
