import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventKeys } from '../src/redis/keys';
import { startHarness, type Harness } from './harness';
import { checkInvariants } from './invariants';

// PostgreSQL as the last line of defence: Redis "forgets" writes (its counters of one event
// rolled back by hand, as a failover that lost the last writes would), and PostgreSQL's
// usage counters refuse what Redis wrongly allows.
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const hold = (token: string, eventId: string, body: unknown) =>
  h.call('POST', `/v1/events/${eventId}/reservations`, { token, body, headers: { 'idempotency-key': randomUUID() } });

async function usage(eventId: string) {
  const zones = await h.core.sql<{ zone_code: string; used: number }[]>`select zone_code, used from zone_usage where event_id = ${eventId}`;
  const live = await h.core.sql<{ zone_code: string; q: number }[]>`select zone_code, sum(quantity)::int as q from reservations
    where event_id = ${eventId} and status in ('held', 'confirmed') group by zone_code`;
  return {
    counters: Object.fromEntries(zones.filter((z) => z.used).map((z) => [z.zone_code, z.used])),
    live: Object.fromEntries(live.map((z) => [z.zone_code, z.q])),
  };
}

it('Redis with lost writes allows; PostgreSQL refuses (409 SOLD_OUT / SEATS_UNAVAILABLE, 429) and Redis is corrected at once', async () => {
  const ev = await h.createEvent({
    maxSeatsPerUser: 4,
    zones: [
      { code: 'A', name: 'Block A', priceCents: 9000, kind: 'seated', rows: 2, seatsPerRow: 5 },
      { code: 'FLOOR', name: 'Floor', priceCents: 15000, kind: 'ga', capacity: 20 },
      { code: 'BALC', name: 'Balcony', priceCents: 5000, kind: 'ga', capacity: 100 },
    ],
  });
  const k = eventKeys(h.config.redis.prefix, ev.id);
  const earlySubs = Array.from({ length: 5 }, (_, i) => `early-${i}-${randomUUID()}`);
  const early = await Promise.all(earlySubs.map((s) => h.token(s)));
  for (const t of early) expect((await hold(t, ev.id, { zone: 'FLOOR', quantity: 4 })).status).toBe(201);
  const seatOwner = await h.token(`seat-${randomUUID()}`);
  const seatHold = await hold(seatOwner, ev.id, { seats: ['A-1-1'] });
  expect(seatHold.status).toBe(201);
  expect((await hold(await h.token('x'), ev.id, { zone: 'FLOOR', quantity: 1 })).body.error.code).toBe('SOLD_OUT'); // Redis still knows

  // The writes are lost: counters, per-user counts and one seat go back to empty.
  await h.core.redis.hset(k.zoneCounts('FLOOR'), { held: 0, sold: 0 });
  await h.core.redis.hset(k.zoneCounts('A'), { held: 0, sold: 0 });
  await h.core.redis.del(k.users);
  await h.core.redis.hset(k.zoneSeats('A'), 'A-1-1', '');

  // A wave Redis now lets through: 30 new buyers for the full floor, the early buyers (at
  // their limit) for the balcony, two buyers for the taken seat, all at once.
  const buyers = await Promise.all(Array.from({ length: 30 }, (_, i) => h.token(`late-${i}-${randomUUID()}`)));
  const seatBuyers = await Promise.all([0, 1].map((i) => h.token(`seat2-${i}-${randomUUID()}`)));
  const [floor, balcony, seat] = await Promise.all([
    Promise.all(buyers.map((t) => hold(t, ev.id, { zone: 'FLOOR', quantity: 2 }))),
    Promise.all(early.map((t) => hold(t, ev.id, { zone: 'BALC', quantity: 1 }))),
    Promise.all(seatBuyers.map((t) => hold(t, ev.id, { seats: ['A-1-1'] }))),
  ]);
  for (const r of floor) expect([r.status, r.body.error?.code]).toEqual([409, 'SOLD_OUT']);
  for (const r of balcony) expect([r.status, r.body.error?.code]).toEqual([429, 'LIMIT_EXCEEDED']);
  for (const r of seat) expect([r.status, r.body.error?.code]).toEqual([409, 'SEATS_UNAVAILABLE']);

  // PostgreSQL never went past a limit, and its counters equal its live rows.
  const u = await usage(ev.id);
  expect(u.live).toEqual({ FLOOR: 20, A: 1 });
  expect(u.counters).toEqual(u.live);
  const inv = await checkInvariants(h, ev.id, { maxPerUser: 4 });
  expect(inv.overLimit).toEqual([]);
  expect(inv.dupSeats).toEqual([]);

  // Redis was corrected from PostgreSQL for exactly what the refusals touched.
  expect(Number(await h.core.redis.hget(k.zoneCounts('FLOOR'), 'held'))).toBe(20);
  expect(await h.core.redis.hget(k.zoneSeats('A'), 'A-1-1')).toBe(`h:${seatHold.body.id}`);
  expect(await h.core.redis.hmget(k.users, ...earlySubs)).toEqual(['4', '4', '4', '4', '4']);
  const floorZone = inv.zones.find((z) => z.code === 'FLOOR')!;
  expect([floorZone.available, floorZone.held]).toEqual([0, 20]);
  expect(inv.seatDisagreements).toEqual([]);
});

it('counters follow every transition in PostgreSQL: confirm keeps, cancel and expiry give back', async () => {
  const ev = await h.createEvent({ maxSeatsPerUser: 4 });
  const t = await h.token(`t-${randomUUID()}`);
  const a = await hold(t, ev.id, { zone: 'FLOOR', quantity: 3 });
  const b = await hold(t, ev.id, { seats: ['A-2-2'] });
  expect([a.status, b.status]).toEqual([201, 201]);
  expect((await usage(ev.id)).counters).toEqual({ FLOOR: 3, A: 1 });
  expect((await h.call('POST', `/v1/reservations/${a.body.id}/confirm`, { token: t })).status).toBe(200);
  expect((await usage(ev.id)).counters).toEqual({ FLOOR: 3, A: 1 });
  expect((await h.call('POST', `/v1/reservations/${b.body.id}/cancel`, { token: t })).status).toBe(200);
  expect((await usage(ev.id)).counters).toEqual({ FLOOR: 3 });
  const c = await hold(t, ev.id, { zone: 'FLOOR', quantity: 1 });
  expect(c.status).toBe(201);
  await h.core.sql`update reservations set expires_at = now() - interval '1 second' where id = ${c.body.id}`;
  await h.core.sql`update reservations set status = 'expired', expired_at = now() where id = ${c.body.id}`;
  const u = await usage(ev.id);
  expect(u.counters).toEqual({ FLOOR: 3 });
  expect(u.counters).toEqual(u.live);
  const [user] = await h.core.sql<{ used: number }[]>`select used from user_usage where event_id = ${ev.id}`;
  expect(user!.used).toBe(3);
});
