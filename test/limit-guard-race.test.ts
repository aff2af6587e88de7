import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSql, type Sql } from '../src/db/client';
import type { NewHold } from '../src/reservations/model';
import { HoldConflict, insertHolds } from '../src/reservations/repository';
import { startHarness, type Harness } from './harness';

// The limit guard's insert path raced on its own, without Redis in front: many group-commit
// batches at once against one zone row and a few user rows, as after a Redis failover that
// lost every counter. PostgreSQL must let through exactly what fits, no more and no fewer.
let h: Harness;
let sql: Sql;
beforeAll(async () => {
  h = await startHarness();
  // Batches queue on the zone row; a loaded machine must not turn that wait into a timeout.
  sql = createSql({ ...h.config.db, max: 8, statementTimeoutMs: 30_000 }, { applicationName: 'guard-race' });
});
afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await h?.close();
});

const newHold = (eventId: string, zone: string, userId: string, quantity: number): NewHold => {
  const now = Date.now();
  return {
    id: randomUUID(), eventId, userId, zone, quantity, seats: [], totalCents: 100 * quantity, idempotencyKey: null,
    requestHash: 'h', expiresAt: new Date(now + 600_000), createdAt: new Date(now), deadline: new Date(now + 60_000),
  };
};

async function counters(eventId: string) {
  const zones = await h.core.sql<{ zone_code: string; used: number }[]>`
    select zone_code, used from zone_usage where event_id = ${eventId} order by 1`;
  const users = await h.core.sql<{ user_id: string; used: number }[]>`
    select user_id, used from user_usage where event_id = ${eventId} and used > 0 order by 1`;
  const liveZones = await h.core.sql<{ zone_code: string; used: number }[]>`
    select zone_code, sum(quantity)::int as used from reservations
    where event_id = ${eventId} and status in ('held', 'confirmed') group by 1 order by 1`;
  const liveUsers = await h.core.sql<{ user_id: string; used: number }[]>`
    select user_id, sum(quantity)::int as used from reservations
    where event_id = ${eventId} and status in ('held', 'confirmed') group by 1 order by 1`;
  return { zones, users, liveZones, liveUsers };
}

const outcome = (results: unknown[][]) => {
  const flat = results.flat();
  return {
    written: flat.filter((r) => r === true).length,
    capacity: flat.filter((r) => r instanceof HoldConflict && r.reason === 'capacity').length,
    limit: flat.filter((r) => r instanceof HoldConflict && r.reason === 'limit').length,
    other: flat.filter((r) => r !== true && !(r instanceof HoldConflict && (r.reason === 'capacity' || r.reason === 'limit'))),
  };
};

it('40 concurrent batches for a zone of 50: exactly 50 holds written, the rest refused on capacity', async () => {
  const ev = await h.createEvent({ zones: [{ code: 'FLOOR', name: 'Floor', priceCents: 100, kind: 'ga', capacity: 50 }] });
  const batches = Array.from({ length: 40 }, () => Array.from({ length: 5 }, () => newHold(ev.id, 'FLOOR', `u-${randomUUID()}`, 1)));
  const o = outcome(await Promise.all(batches.map((b) => insertHolds(sql, b))));
  expect(o.other).toEqual([]);
  expect([o.written, o.capacity]).toEqual([50, 150]);
  const c = await counters(ev.id);
  expect(c.zones).toEqual([{ zone_code: 'FLOOR', used: 50 }]);
  expect(c.zones).toEqual(c.liveZones);
  expect(c.users).toEqual(c.liveUsers);
});

it('one user in 24 concurrent batches (and twice in one batch), limit 4: exactly 4 seats, neighbours unharmed', async () => {
  const ev = await h.createEvent({ maxSeatsPerUser: 4, zones: [{ code: 'FLOOR', name: 'Floor', priceCents: 100, kind: 'ga', capacity: 1000 }] });
  const buyer = `buyer-${randomUUID()}`;
  const batches = Array.from({ length: 24 }, (_, i) => [
    newHold(ev.id, 'FLOOR', buyer, 1),
    // two of the buyer's holds in one statement: grouped into one counter row update
    ...(i % 6 === 0 ? [newHold(ev.id, 'FLOOR', buyer, 1)] : []),
    ...Array.from({ length: 6 }, () => newHold(ev.id, 'FLOOR', `n-${randomUUID()}`, 2)),
  ]);
  const results = await Promise.all(batches.map((b) => insertHolds(sql, b)));
  const mine = outcome(batches.map((b, i) => results[i]!.filter((_, j) => b[j]!.userId === buyer)));
  const others = outcome(batches.map((b, i) => results[i]!.filter((_, j) => b[j]!.userId !== buyer)));
  expect(mine.other).toEqual([]);
  expect([mine.written, mine.limit]).toEqual([4, 24 + 4 - 4]);
  expect([others.written, others.other.length, others.capacity, others.limit]).toEqual([144, 0, 0, 0]);
  const c = await counters(ev.id);
  expect(c.users.find((u) => u.user_id === buyer)?.used).toBe(4);
  expect(c.users).toEqual(c.liveUsers);
  expect(c.zones).toEqual([{ zone_code: 'FLOOR', used: 4 + 144 * 2 }]);
  expect(c.zones).toEqual(c.liveZones);
});

it('holds, expiries and cancellations of the same users at once: no deadlock, counters equal the live rows', async () => {
  const ev = await h.createEvent({ maxSeatsPerUser: 6, zones: [
    { code: 'FLOOR', name: 'Floor', priceCents: 100, kind: 'ga', capacity: 5000 },
    { code: 'BALC', name: 'Balcony', priceCents: 100, kind: 'ga', capacity: 5000 },
  ] });
  const users = Array.from({ length: 60 }, (_, i) => `r${i}-${randomUUID()}`);
  const first = users.flatMap((u) => [newHold(ev.id, 'FLOOR', u, 1), newHold(ev.id, 'BALC', u, 1)]);
  expect(outcome([await insertHolds(sql, first)]).written).toBe(120);
  const ids = first.map((x) => x.id);
  // Statements that each change many users' rows, in orders that differ, while new holds
  // for the same users arrive: every writer locks the counters in one order, so none waits
  // on another in a cycle (a deadlock would fail a statement here).
  const slices = [ids.slice(0, 60), ids.slice(30, 90).reverse(), ids.slice(60, 120), [...ids].filter((_, i) => i % 3 === 0)];
  const results = await Promise.all([
    ...slices.map((s) => sql`update reservations set status = 'expired', expired_at = now() where id = any(${s}::uuid[]) and status = 'held'`),
    ...slices.map((s) => sql`update reservations set status = 'cancelled', cancelled_at = now() where id = any(${s.slice().reverse()}::uuid[]) and status = 'held'`),
    ...Array.from({ length: 6 }, (_, k) => insertHolds(sql, users.map((u, i) => newHold(ev.id, (i + k) % 2 ? 'FLOOR' : 'BALC', u, 1)))),
  ]);
  const writes = results.slice(8) as unknown[][];
  expect(outcome(writes).other).toEqual([]);
  const c = await counters(ev.id);
  expect(c.zones).toEqual(c.liveZones);
  expect(c.users).toEqual(c.liveUsers);
  const [left] = await sql<{ n: number }[]>`select count(*)::int as n from reservations where id = any(${ids}::uuid[]) and status = 'held'`;
  expect(left!.n).toBe(0);
});
