import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildIndex } from '../../src/inventory/seat-index';
import { eventKeys } from '../../src/redis/keys';
import { startHarness, type Harness } from '../harness';
import { checkInvariants } from '../invariants';

let h: Harness;
beforeAll(async () => {
  // 2,000 holds at once on a shared 2-core machine: room for the group commit to catch up
  // (a hold must reach PostgreSQL within REBUILD_QUIESCE_MS - PG_STATEMENT_TIMEOUT_MS - 250).
  h = await startHarness({ REBUILD_QUIESCE_MS: '20000', PG_STATEMENT_TIMEOUT_MS: '5000' });
});
afterAll(() => h.close());

const MAX_PER_USER = 8;

it('2,000 concurrent best-available holds over 1,000 seats: adjacent blocks, no seat twice', async () => {
  const ev = await h.createEvent({
    maxSeatsPerUser: MAX_PER_USER,
    zones: [{ code: 'A', name: 'Stalls', priceCents: 5000, kind: 'seated', rows: 20, seatsPerRow: 50 }],
  });
  const users = await Promise.all(Array.from({ length: 500 }, (_, i) => h.token(`bb-${i}-${randomUUID()}`)));
  const attempts = Array.from({ length: 2_000 }, (_, i) => ({ token: users[i % users.length]!, quantity: 1 + (i % 4) }));
  const results = await Promise.all(
    attempts.map((a) =>
      h.call('POST', `/v1/events/${ev.id}/reservations`, {
        token: a.token,
        body: { zone: 'A', quantity: a.quantity },
        headers: { 'idempotency-key': randomUUID() },
      }),
    ),
  );
  const byStatus: Record<string, number> = {};
  for (const r of results) {
    const key = r.status === 201 ? '201' : `${r.status} ${r.body.error.code}`;
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  console.log('best available, 2,000 requests over 1,000 seats:', byStatus);
  for (const r of results) expect([201, 409, 429]).toContain(r.status);

  const held = results.filter((r) => r.status === 201);
  expect(held.length).toBeGreaterThan(200);
  for (const [i, r] of results.entries()) {
    if (r.status !== 201) continue;
    const seats = r.body.seats as string[];
    expect(seats.length).toBe(attempts[i]!.quantity);
    const parts = seats.map((s) => s.split('-').map(Number) as [number, number, number]);
    expect(new Set(parts.map((p) => p[1])).size).toBe(1);
    const ns = parts.map((p) => p[2]);
    expect(ns).toEqual(ns.map((_, j) => ns[0]! + j));
    expect(r.body.totalCents).toBe(5000 * seats.length);
  }
  const all = held.flatMap((r) => r.body.seats as string[]);
  expect(new Set(all).size).toBe(all.length);
  // Demand is twice the zone: it sells out, and a refusal says how big a block is left.
  const refused = results.filter((r) => r.status === 409);
  expect(refused.length).toBeGreaterThan(0);
  for (const r of refused) {
    expect(r.body.error.code).toBe('SEATS_UNAVAILABLE');
    expect(r.body.error.details.largestBlock).toBeLessThan(r.body.error.details.quantity);
  }

  const inv = await checkInvariants(h, ev.id, { maxPerUser: MAX_PER_USER });
  expect(inv.dupSeats).toEqual([]);
  expect(inv.seatDisagreements).toEqual([]);
  const z = inv.zones[0]!;
  expect(z.available + z.held + z.sold).toBe(1_000);
  expect(z.held).toBe(all.length);
  // The seat index agrees with the seats after all that.
  const k = eventKeys(h.config.redis.prefix, ev.id);
  const free = (await h.core.redis.getBuffer(k.zoneFree('A')))!;
  expect(buildIndex(free, 20, 50).index.equals((await h.core.redis.getBuffer(k.zoneIndex('A')))!)).toBe(true);
  expect(free.toString().split('').filter((c) => c === '1').length).toBe(all.length);
});

it('a best-available hold replays by its Idempotency-Key: the same seats, held once', async () => {
  const ev = await h.createEvent({ zones: [{ code: 'A', name: 'Stalls', priceCents: 100, kind: 'seated', rows: 2, seatsPerRow: 8 }] });
  const token = await h.token(`replay-${randomUUID()}`);
  const key = randomUUID();
  const send = () => h.call('POST', `/v1/events/${ev.id}/reservations`, { token, body: { zone: 'A', quantity: 2 }, headers: { 'idempotency-key': key } });
  const [a, b] = await Promise.all([send(), send()]);
  const again = await send();
  expect(a.status).toBe(201);
  expect([200, 201]).toContain(b.status);
  for (const r of [b, again]) expect({ id: r.body.id, seats: r.body.seats }).toEqual({ id: a.body.id, seats: a.body.seats });
  const avail = (await h.call('GET', `/v1/events/${ev.id}/availability`)).body.zones[0];
  expect(avail).toMatchObject({ held: 2, available: 14 });
  // The same key with another body is refused.
  const other = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token, body: { zone: 'A', quantity: 3 }, headers: { 'idempotency-key': key } });
  expect(other.status).toBe(422);
});
