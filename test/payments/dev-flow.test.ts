import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../harness';
import { expireNow, holdSeats, outboxFor } from './helpers';

const SECRET = 'dev-payment-secret-for-tests';
let h: Harness;
let eventId: string;

beforeAll(async () => {
  h = await startHarness({ NODE_ENV: 'development', PAYMENT_PROVIDER: 'dev', DEV_PAYMENT_SECRET: SECRET, PAYMENT_WINDOW_SECONDS: '600' });
  eventId = (await h.createEvent({ holdSeconds: 60 })).id;
});
afterAll(() => h.close());

/** A dev-provider delivery signed like the real one (or with another secret / timestamp). */
function signed(data: Record<string, unknown>, opts: { type?: string; id?: string; secret?: string; timestamp?: number } = {}) {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ id: opts.id ?? `devevt_${randomUUID()}`, created: timestamp, type: opts.type ?? 'payment.succeeded', data });
  return { body, signature: Stripe.webhooks.generateTestHeaderString({ payload: body, secret: opts.secret ?? SECRET, timestamp }) };
}

const post = (d: { body: string; signature?: string }) =>
  h.call('POST', '/v1/payments/webhooks/dev', {
    body: d.body,
    headers: { 'content-type': 'application/json', ...(d.signature ? { 'stripe-signature': d.signature } : {}) },
  });

async function checkout(token: string, id: string) {
  const r = await h.call('POST', `/v1/reservations/${id}/checkout`, { token });
  if (r.status !== 201 && r.status !== 200) throw new Error(`checkout ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

const paymentData = (c: any) => ({ paymentId: c.body.paymentId, providerPaymentId: '', amountCents: c.body.amountCents, currency: c.body.currency });

describe('dev provider: checkout and confirm', () => {
  it('confirm of a paid hold answers 402 pointing at checkout; checkout is idempotent and extends the hold once', async () => {
    const { token, reservation } = await holdSeats(h, eventId, ['A-1-1', 'A-1-2']);
    const confirm = await h.call('POST', `/v1/reservations/${reservation.id}/confirm`, { token });
    expect(confirm.status).toBe(402);
    expect(confirm.body.error).toMatchObject({ code: 'PAYMENT_REQUIRED', details: { checkout: `/v1/reservations/${reservation.id}/checkout` } });

    const first = await h.call('POST', `/v1/reservations/${reservation.id}/checkout`, { token });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ provider: 'dev', amountCents: 18000, currency: 'EUR', status: 'pending' });
    // holdSeconds 60, window 600: the hold now lasts about 600 s from the checkout, not more.
    const left = Date.parse(first.body.expiresAt) - Date.now();
    expect(left).toBeGreaterThan(590_000);
    expect(left).toBeLessThanOrEqual(600_000);
    const again = await h.call('POST', `/v1/reservations/${reservation.id}/checkout`, { token });
    expect(again.status).toBe(200);
    expect(again.body.paymentId).toBe(first.body.paymentId);
    expect(again.body.expiresAt).toBe(first.body.expiresAt);

    const other = await h.token(`u-${randomUUID()}`);
    expect((await h.call('POST', `/v1/reservations/${reservation.id}/checkout`, { token: other })).status).toBe(404);
    const got = await h.call('GET', `/v1/reservations/${reservation.id}`, { token });
    expect(got.body.payment).toEqual({ id: first.body.paymentId, status: 'pending', amountCents: 18000, currency: 'EUR' });
  });

  it('a paid webhook confirms through the conditional update, issues tickets, booking.confirmed with userId', async () => {
    const { token, user, reservation } = await holdSeats(h, eventId, ['A-2-1', 'A-2-2', 'A-2-3']);
    const c = await checkout(token, reservation.id);
    const paid = await h.call('POST', `/v1/dev/payments/${c.body.paymentId}/succeed`, { token });
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ outcome: 'confirmed', reservation: { status: 'confirmed' } });
    const got = await h.call('GET', `/v1/reservations/${reservation.id}`, { token });
    expect(got.body).toMatchObject({ status: 'confirmed', payment: { status: 'succeeded' } });
    expect(got.body.bookingCode).toMatch(/^[0-9A-Z]{10}$/);
    // confirm is idempotent under a provider: 200 once paid.
    expect((await h.call('POST', `/v1/reservations/${reservation.id}/confirm`, { token })).status).toBe(200);

    const msgs = await outboxFor(h, reservation.id);
    expect(msgs.map((m) => m.type)).toEqual(['booking.confirmed']);
    expect(msgs[0]!.payload).toMatchObject({ schemaVersion: 1, userId: user, reservation: { status: 'confirmed' } });

    const tickets = await h.call('GET', `/v1/reservations/${reservation.id}/tickets`, { token });
    expect(tickets.status).toBe(200);
    expect(tickets.body.tickets.map((t: any) => t.seat)).toEqual(['A-2-1', 'A-2-2', 'A-2-3']);
    expect(tickets.body.tickets[0].qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  });

  it('every delivery is applied once: duplicates and out-of-order failures change nothing', async () => {
    const { token, reservation } = await holdSeats(h, eventId, ['A-3-1']);
    const c = await checkout(token, reservation.id);
    const success = signed(paymentData(c));
    const results = await Promise.all([post(success), post(success), post(success)]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    expect((await post(success)).body).toEqual({ outcome: 'duplicate', duplicate: true });
    // A failure that arrives after the success (another event id) leaves the booking alone.
    const lateFailure = await post(signed(paymentData(c), { type: 'payment.failed' }));
    expect(lateFailure.body.outcome).toBe('failed-ignored-succeeded');
    expect((await h.call('GET', `/v1/reservations/${reservation.id}`, { token })).body.status).toBe('confirmed');
    expect((await outboxFor(h, reservation.id)).map((m) => m.type)).toEqual(['booking.confirmed']);
    const n = (await h.core.sql<{ n: number }[]>`select count(*)::int as n from tickets where reservation_id = ${reservation.id}`)[0]!.n;
    expect(n).toBe(1);
  });

  it('forged, stale and missing signatures are 400 INVALID_SIGNATURE and change nothing', async () => {
    const { token, reservation } = await holdSeats(h, eventId, ['A-3-2']);
    const c = await checkout(token, reservation.id);
    const forged = signed(paymentData(c), { secret: 'not-the-secret-at-all' });
    const stale = signed(paymentData(c), { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    const good = signed(paymentData(c));
    const tampered = { body: good.body.replace(String(c.body.amountCents), '1'), signature: good.signature };
    for (const d of [forged, stale, tampered, { body: good.body }]) {
      const r = await post(d);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('INVALID_SIGNATURE');
    }
    expect((await h.call('GET', `/v1/reservations/${reservation.id}`, { token })).body.status).toBe('held');
    const n = (await h.core.sql<{ n: number }[]>`select count(*)::int as n from payment_webhook_events where payment_id = ${c.body.paymentId}`)[0]!.n;
    expect(n).toBe(0);
    expect((await h.call('POST', '/v1/payments/webhooks/stripe', { body: good.body, headers: { 'stripe-signature': good.signature } })).status).toBe(404);
  });

  it('a failed payment leaves the hold; a new checkout starts a second attempt without extending again', async () => {
    const { token, reservation } = await holdSeats(h, eventId, ['A-4-1']);
    const c = await checkout(token, reservation.id);
    const failed = await h.call('POST', `/v1/dev/payments/${c.body.paymentId}/fail`, { token });
    expect(failed.body).toMatchObject({ outcome: 'failed', reservation: { status: 'held' } });
    const second = await h.call('POST', `/v1/reservations/${reservation.id}/checkout`, { token });
    expect(second.status).toBe(201);
    expect(second.body.paymentId).not.toBe(c.body.paymentId);
    expect(second.body.expiresAt).toBe(c.body.expiresAt);
    const paid = await h.call('POST', `/v1/dev/payments/${second.body.paymentId}/succeed`, { token });
    expect(paid.body.outcome).toBe('confirmed');
  });

  it('another amount or currency is refunded, never confirmed; the hold stays', async () => {
    const { token, reservation } = await holdSeats(h, eventId, ['A-4-2']);
    const c = await checkout(token, reservation.id);
    const r = await h.call('POST', `/v1/dev/payments/${c.body.paymentId}/succeed`, { token, body: { amountCents: 100 } });
    expect(r.body).toMatchObject({ outcome: 'refunded-mismatch', reservation: { status: 'held' } });
    const usd = await checkout(token, reservation.id);
    expect(usd.status).toBe(201);
    const r2 = await h.call('POST', `/v1/dev/payments/${usd.body.paymentId}/succeed`, { token, body: { currency: 'USD' } });
    expect(r2.body.outcome).toBe('refunded-mismatch');
    const refunds = await h.core.sql<{ status: string; reason: string }[]>`
      select f.status, f.reason from refunds f join payments p on p.id = f.payment_id where p.reservation_id = ${reservation.id}`;
    expect(refunds).toEqual([{ status: 'succeeded', reason: 'mismatch' }, { status: 'succeeded', reason: 'mismatch' }]);
    expect((await outboxFor(h, reservation.id)).map((m) => m.type)).toEqual(['booking.refunded', 'booking.refunded']);
  });

  it('payment after the hold expired and the seat was sold again: refunded, the seat sold once', async () => {
    const first = await holdSeats(h, eventId, ['A-5-1']);
    const c = await checkout(first.token, first.reservation.id);
    await expireNow(h, first.reservation.id);
    const second = await holdSeats(h, eventId, ['A-5-1']);
    const c2 = await checkout(second.token, second.reservation.id);
    expect((await h.call('POST', `/v1/dev/payments/${c2.body.paymentId}/succeed`, { token: second.token })).body.outcome).toBe('confirmed');

    const late = await h.call('POST', `/v1/dev/payments/${c.body.paymentId}/succeed`, { token: first.token });
    expect(late.body).toMatchObject({ outcome: 'refunded-late', reservation: { status: 'expired' } });
    const msgs = await outboxFor(h, first.reservation.id);
    expect(msgs.map((m) => m.type)).toEqual(['booking.expired', 'booking.refunded']);
    expect(msgs[1]!.payload.refund).toMatchObject({ paymentId: c.body.paymentId, amountCents: 9000, reason: 'late' });
    const owners = await h.core.sql`select r.id from reservation_seats s join reservations r on r.id = s.reservation_id
      where s.event_id = ${eventId} and s.seat_label = 'A-5-1' and r.status = 'confirmed'`;
    expect(owners.map((o) => o.id)).toEqual([second.reservation.id]);
    expect((await h.call('GET', `/v1/reservations/${first.reservation.id}`, { token: first.token })).body.payment.status).toBe('refunded');
  });

  it('payment racing expiry: the reservation ends either confirmed or expired-and-refunded, never both', async () => {
    const outcomes: string[] = [];
    for (let i = 1; i <= 6; i++) {
      const { token, reservation } = await holdSeats(h, eventId, [`A-6-${i}`]);
      const c = await checkout(token, reservation.id);
      // Due now, but the expiry job and the webhook race for the row.
      await h.core.sql`update reservations set expires_at = now() + interval '30 milliseconds' where id = ${reservation.id}`;
      await new Promise((r) => setTimeout(r, 25 + (i % 3) * 5));
      const [paid] = await Promise.all([
        h.call('POST', `/v1/dev/payments/${c.body.paymentId}/succeed`, { token }),
        expireNow(h, reservation.id).catch(() => {}),
      ]);
      const r = (await h.call('GET', `/v1/reservations/${reservation.id}`, { token })).body;
      const types = (await outboxFor(h, reservation.id)).map((m) => m.type).sort();
      if (paid.body.outcome === 'confirmed') {
        expect(r.status).toBe('confirmed');
        expect(types).toEqual(['booking.confirmed']);
      } else {
        expect(paid.body.outcome).toBe('refunded-late');
        expect(r.status).toBe('expired');
        expect(types).toEqual(['booking.expired', 'booking.refunded']);
      }
      outcomes.push(paid.body.outcome);
    }
    expect(outcomes.length).toBe(6);
  });
});

describe('event cancelled', () => {
  it('a paid booking of a cancelled event is refunded and its tickets revoked', async () => {
    const ev = (await h.createEvent()).id;
    const { token, reservation } = await holdSeats(h, ev, ['A-1-1']);
    const c = await checkout(token, reservation.id);
    await h.call('POST', `/v1/dev/payments/${c.body.paymentId}/succeed`, { token });
    const tickets = (await h.call('GET', `/v1/reservations/${reservation.id}/tickets`, { token })).body.tickets;
    const cancelled = await h.call('PATCH', `/v1/admin/events/${ev}`, { token: h.adminToken, body: { status: 'cancelled' } });
    expect(cancelled.status).toBe(200);
    const refunded = async () =>
      (await h.core.sql<{ status: string; reason: string }[]>`select f.status, f.reason from refunds f join payments p on p.id = f.payment_id
        where p.reservation_id = ${reservation.id}`)[0];
    await expect.poll(refunded, { timeout: 20_000 }).toEqual({ status: 'succeeded', reason: 'event_cancelled' });
    expect((await outboxFor(h, reservation.id)).map((m) => m.type)).toEqual(['booking.confirmed', 'booking.cancelled', 'booking.refunded']);
    const scan = await h.call('POST', `/v1/admin/events/${ev}/checkins`, { token: h.adminToken, body: { code: tickets[0].code } });
    expect(scan.body.error.code).toBe('TICKET_REVOKED');
  });
});

describe('development routes', () => {
  it('the test-card routes are served and documented under the dev provider, and need the payment owner', async () => {
    const doc = await h.call('GET', '/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/dev/payments/{paymentId}/succeed', '/v1/dev/payments/{paymentId}/fail']),
    );
    const { token, reservation } = await holdSeats(h, eventId, ['A-9-1']);
    const c = await checkout(token, reservation.id);
    const stranger = await h.token(`u-${randomUUID()}`);
    expect((await h.call('POST', `/v1/dev/payments/${c.body.paymentId}/succeed`, { token: stranger })).status).toBe(404);
    expect((await h.call('POST', `/v1/dev/payments/${c.body.paymentId}/succeed`)).status).toBe(401);
  });
});

describe('admin refund', () => {
  it('refunds a confirmed booking: seats back on sale, tickets revoked, booking.refunded; idempotent', async () => {
    const { token, reservation } = await holdSeats(h, eventId, ['A-7-1', 'A-7-2']);
    const c = await checkout(token, reservation.id);
    await h.call('POST', `/v1/dev/payments/${c.body.paymentId}/succeed`, { token });
    const tickets = (await h.call('GET', `/v1/reservations/${reservation.id}/tickets`, { token })).body.tickets;
    const seatsBefore = await h.call('GET', `/v1/events/${eventId}/zones/A/seats`);
    expect(seatsBefore.body.find((s: any) => s.seat === 'A-7-1').status).toBe('sold');

    const user = await h.token(`u-${randomUUID()}`);
    expect((await h.call('POST', `/v1/admin/reservations/${reservation.id}/refund`, { token: user })).status).toBe(403);
    const refunded = await h.call('POST', `/v1/admin/reservations/${reservation.id}/refund`, { token: h.adminToken });
    expect(refunded.status).toBe(200);
    expect(refunded.body).toMatchObject({ status: 'refunded', refund: { status: 'succeeded' } });
    const again = await h.call('POST', `/v1/admin/reservations/${reservation.id}/refund`, { token: h.adminToken });
    expect(again.status).toBe(200);
    expect((await outboxFor(h, reservation.id)).map((m) => m.type)).toEqual(['booking.confirmed', 'booking.refunded']);

    const seatsAfter = await h.call('GET', `/v1/events/${eventId}/zones/A/seats`);
    expect(seatsAfter.body.find((s: any) => s.seat === 'A-7-1').status).toBe('available');
    const resold = await holdSeats(h, eventId, ['A-7-1', 'A-7-2']);
    expect(resold.reservation.id).toBeTruthy();

    const scan = await h.call('POST', `/v1/admin/events/${eventId}/checkins`, { token: h.adminToken, body: { code: tickets[0].code } });
    expect(scan.status).toBe(409);
    expect(scan.body.error.code).toBe('TICKET_REVOKED');
    expect((await h.call('GET', `/v1/reservations/${reservation.id}/tickets`, { token })).status).toBe(409);
    expect((await h.call('GET', `/v1/reservations/${reservation.id}`, { token })).body.payment.status).toBe('refunded');
  });

  it('only confirmed bookings are refunded (409 otherwise, 404 unknown)', async () => {
    const { reservation } = await holdSeats(h, eventId, ['A-8-1']);
    const r = await h.call('POST', `/v1/admin/reservations/${reservation.id}/refund`, { token: h.adminToken });
    expect(r.status).toBe(409);
    expect((await h.call('POST', `/v1/admin/reservations/${randomUUID()}/refund`, { token: h.adminToken })).status).toBe(404);
  });
});
