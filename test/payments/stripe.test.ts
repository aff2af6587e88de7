import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StripeStandIn } from '../../src/payments/testing/stripe-stand-in';
import { startHarness, type Harness } from '../harness';
import { holdSeats, outboxFor } from './helpers';

const WEBHOOK_SECRET = 'whsec_test_boxoffice_standin';
let standIn: StripeStandIn;
let h: Harness;
let eventId: string;

beforeAll(async () => {
  standIn = await new StripeStandIn('sk_test_boxoffice').start();
  h = await startHarness({
    PAYMENT_PROVIDER: 'stripe',
    STRIPE_SECRET_KEY: 'sk_test_boxoffice',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_URL: `http://127.0.0.1:${standIn.port}`,
  });
  eventId = (await h.createEvent()).id;
});
afterAll(async () => {
  await h.close();
  await standIn.stop();
});

/** Posts an event as Stripe would: the SDK's own test header over the exact body. */
function deliver(event: object, secret = WEBHOOK_SECRET) {
  const body = JSON.stringify(event);
  const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret });
  return h.call('POST', '/v1/payments/webhooks/stripe', { body, headers: { 'content-type': 'application/json', 'stripe-signature': signature } });
}

describe('stripe provider against the stand-in', () => {
  it('checkout creates one PaymentIntent for the server amount, in the event currency, keyed for idempotency', async () => {
    const { token, reservation } = await holdSeats(h, eventId, ['A-1-1', 'A-1-2']);
    const [a, b] = await Promise.all([
      h.call('POST', `/v1/reservations/${reservation.id}/checkout`, { token }),
      h.call('POST', `/v1/reservations/${reservation.id}/checkout`, { token }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(a.body.paymentId).toBe(b.body.paymentId);
    expect(a.body.clientSecret).toMatch(/^pi_.+_secret_/);
    const intent = standIn.intentFor(a.body.paymentId)!;
    expect(intent).toMatchObject({ amount: 18000, currency: 'eur', metadata: { reservationId: reservation.id, paymentId: a.body.paymentId } });
    expect([...standIn.intents.values()].filter((i) => i.metadata.reservationId === reservation.id)).toHaveLength(1);
    const creates = standIn.calls.filter((c) => c.path === '/v1/payment_intents' && c.params.metadata && (c.params.metadata as any).reservationId === reservation.id);
    expect(creates.every((c) => c.idempotencyKey === `checkout-${a.body.paymentId}`)).toBe(true);
  });

  it('an event priced in another currency takes its payments in that currency; a bad code is refused', async () => {
    const usd = await h.createEvent({ currency: 'USD' });
    expect(usd.currency).toBe('USD');
    expect((await h.call('GET', `/v1/events/${usd.id}`)).body.currency).toBe('USD');
    const { token, reservation } = await holdSeats(h, usd.id, ['A-1-1']);
    const c = await h.call('POST', `/v1/reservations/${reservation.id}/checkout`, { token });
    expect(c.body).toMatchObject({ currency: 'USD', amountCents: reservation.totalCents });
    expect(standIn.intentFor(c.body.paymentId)).toMatchObject({ currency: 'usd', amount: reservation.totalCents });
    for (const currency of ['usd', 'EURO', '']) {
      const bad = await h.call('POST', '/v1/admin/events', { token: h.adminToken, body: { name: 'x', startsAt: new Date(Date.now() + 86_400_000).toISOString(), salesOpenAt: new Date().toISOString(), currency, zones: [{ code: 'GA', name: 'GA', priceCents: 1, kind: 'ga', capacity: 1 }] } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('INVALID_REQUEST');
    }
  });

  it('payment_intent.succeeded signed with the webhook secret confirms; a wrong secret is refused', async () => {
    const { token, reservation } = await holdSeats(h, eventId, ['A-2-1']);
    const c = await h.call('POST', `/v1/reservations/${reservation.id}/checkout`, { token });
    const event = standIn.succeed(standIn.intentFor(c.body.paymentId)!.id);
    const forged = await deliver(event, 'whsec_somebody_else');
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('INVALID_SIGNATURE');
    const ok = await deliver(event);
    expect(ok.body).toEqual({ outcome: 'confirmed', duplicate: false });
    expect((await deliver(event)).body.duplicate).toBe(true);
    expect((await h.call('GET', `/v1/reservations/${reservation.id}`, { token })).body.status).toBe('confirmed');
    // Events boxoffice does not act on are acknowledged and recorded, nothing else.
    expect((await deliver(standIn.event('charge.updated', { id: 'ch_1', object: 'charge' }))).body.outcome).toBe('ignored');
  });

  it('an amount_received below the amount is refunded through the Refunds API', async () => {
    const { token, reservation } = await holdSeats(h, eventId, ['A-2-2']);
    const c = await h.call('POST', `/v1/reservations/${reservation.id}/checkout`, { token });
    const pi = standIn.intentFor(c.body.paymentId)!;
    const r = await deliver(standIn.succeed(pi.id, { amountReceived: 5000 }));
    expect(r.body.outcome).toBe('refunded-mismatch');
    const refunds = [...standIn.refunds.values()].filter((x) => x.payment_intent === pi.id);
    expect(refunds).toHaveLength(1);
  });

  it('a refund during a Stripe outage is kept and sent once the job runs after the outage', async () => {
    const { token, reservation } = await holdSeats(h, eventId, ['A-3-1']);
    const c = await h.call('POST', `/v1/reservations/${reservation.id}/checkout`, { token });
    const pi = standIn.intentFor(c.body.paymentId)!;
    expect((await deliver(standIn.succeed(pi.id))).body.outcome).toBe('confirmed');

    standIn.down = true;
    const during = await h.call('POST', `/v1/admin/reservations/${reservation.id}/refund`, { token: h.adminToken });
    expect(during.status).toBe(200);
    expect(during.body).toMatchObject({ status: 'refunded', refund: { status: 'pending', attempts: 1 } });
    expect(during.body.refund.lastError).toBeTruthy();
    expect((await outboxFor(h, reservation.id)).map((m) => m.type)).toEqual(['booking.confirmed', 'booking.refunded']);
    // The job while Stripe is still down: attempts grow, nothing is lost.
    await h.core.sql`update refunds set next_attempt_at = now() where status = 'pending'`;
    expect(await h.core.payments.sendRefunds()).toMatchObject({ sent: 0 });

    standIn.down = false;
    await h.core.sql`update refunds set next_attempt_at = now() where status = 'pending'`;
    const run = await h.core.payments.sendRefunds();
    expect(run.sent).toBeGreaterThanOrEqual(1);
    const [row] = await h.core.sql<{ status: string; provider_refund_id: string }[]>`
      select f.status, f.provider_refund_id from refunds f join payments p on p.id = f.payment_id where p.reservation_id = ${reservation.id}`;
    expect(row!.status).toBe('succeeded');
    const atStripe = [...standIn.refunds.values()].filter((x) => x.payment_intent === pi.id);
    expect(atStripe.map((x) => x.id)).toEqual([row!.provider_refund_id]);
    expect(atStripe[0]!.amount).toBe(9000);
    // Nothing more to send: a second run is a no-op.
    await h.core.sql`update refunds set next_attempt_at = now() where status = 'pending'`;
    await h.core.payments.sendRefunds();
    expect([...standIn.refunds.values()].filter((x) => x.payment_intent === pi.id)).toHaveLength(1);
  });

  it('checkout during an outage answers 503; the retry reuses the same payment and idempotency key', async () => {
    const { token, reservation } = await holdSeats(h, eventId, ['A-4-1']);
    standIn.down = true;
    const down = await h.call('POST', `/v1/reservations/${reservation.id}/checkout`, { token });
    standIn.down = false;
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('UNAVAILABLE');
    const ok = await h.call('POST', `/v1/reservations/${reservation.id}/checkout`, { token });
    expect(ok.status).toBe(200);
    expect(ok.body.clientSecret).toMatch(/_secret_/);
    expect([...standIn.intents.values()].filter((i) => i.metadata.reservationId === reservation.id)).toHaveLength(1);
  });

  it('the stand-in answers like Stripe: bad key 401, idempotency key reuse with other params 400', async () => {
    const stripe = new Stripe('sk_test_wrong', { ...standIn.api, maxNetworkRetries: 0 });
    await expect(stripe.paymentIntents.create({ amount: 100, currency: 'eur' })).rejects.toMatchObject({ statusCode: 401, type: 'StripeAuthenticationError' });
    const good = new Stripe('sk_test_boxoffice', { ...standIn.api, maxNetworkRetries: 0 });
    const key = randomUUID();
    const a = await good.paymentIntents.create({ amount: 100, currency: 'eur' }, { idempotencyKey: key });
    const b = await good.paymentIntents.create({ amount: 100, currency: 'eur' }, { idempotencyKey: key });
    expect(b.id).toBe(a.id);
    await expect(good.paymentIntents.create({ amount: 200, currency: 'eur' }, { idempotencyKey: key })).rejects.toMatchObject({ type: 'StripeIdempotencyError' });
    await expect(good.refunds.create({ payment_intent: a.id })).rejects.toMatchObject({ statusCode: 400, code: 'charge_not_refundable' });
  });
});
