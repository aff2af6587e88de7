/**
 * Inventory promises that the fast path (Redis) normally keeps on its own, checked where
 * only the slower guard stands: PostgreSQL's partial unique index behind a wrong Redis,
 * GA capacity at the very last unit, and a release that must leave another hold's seat alone.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventKeys } from '../src/redis/keys';
import { startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

async function hold(eventId: string, body: unknown, user = `u-${randomUUID()}`) {
  const token = await h.token(user);
  const res = await h.call('POST', `/v1/events/${eventId}/reservations`, { token, body, headers: { 'idempotency-key': randomUUID() } });
  return { ...res, token, user };
}

async function liveOwners(eventId: string, seat: string) {
  return h.core.sql<{ reservation_id: string }[]>`
    select reservation_id from reservation_seats where event_id = ${eventId} and seat_label = ${seat} and live`;
}

describe('seated double-booking when Redis is wrong', () => {
  it('PostgreSQL refuses a second live hold of a seat Redis wrongly shows free (409), and its neighbours still succeed', async () => {
    const ev = await h.createEvent();
    const k = eventKeys(h.config.redis.prefix, ev.id);
    const first = await hold(ev.id, { seats: ['A-1-1', 'A-1-2'] });
    expect(first.status, 'the first hold').toBe(201);

    // Redis forgets that A-1-1 is taken (a lost write, a bad repair): only the index is left.
    await h.core.redis.hset(k.zoneSeats('A'), 'A-1-1', '');

    const [second, ...neighbours] = await Promise.all([
      hold(ev.id, { seats: ['A-1-1'] }),
      ...['A-4-1', 'A-4-2', 'A-4-3', 'A-4-4'].map((s) => hold(ev.id, { seats: [s] })),
    ]);
    expect(second.status, `a second live hold of A-1-1 got past PostgreSQL: ${JSON.stringify(second.body)}`).toBe(409);
    expect(second.body.error.code).toBe('SEATS_UNAVAILABLE');
    expect(neighbours.map((n) => n.status), 'holds written alongside the refused one').toEqual([201, 201, 201, 201]);

    const owners = await liveOwners(ev.id, 'A-1-1');
    expect(owners.map((o) => o.reservation_id), 'live owners of A-1-1 in PostgreSQL').toEqual([first.body.id]);
    const [rows] = await h.core.sql<{ n: number }[]>`select count(*)::int as n from reservations where user_id = ${second.user}`;
    expect(rows!.n, 'rows written for the refused hold').toBe(0);
    // The refused hold was undone in Redis: it counts against nobody's limit.
    expect(await h.core.redis.hget(k.users, second.user), "refused buyer's seat count in Redis").toBeNull();
    expect(await h.core.redis.hexists(k.holds, second.body?.id ?? 'none')).toBe(0);
  });
});

describe('idempotency when Redis lost the key', () => {
  it("a retry whose Redis record is gone still gets the first reservation: PostgreSQL's unique key refuses a second", async () => {
    const ev = await h.createEvent();
    const k = eventKeys(h.config.redis.prefix, ev.id);
    const user = `idem-${randomUUID()}`;
    const token = await h.token(user);
    const key = randomUUID();
    const send = () => h.call('POST', `/v1/events/${ev.id}/reservations`, { token, body: { zone: 'FLOOR', quantity: 2 }, headers: { 'idempotency-key': key } });
    const first = await send();
    expect(first.status).toBe(201);
    // Redis loses the idempotency record (and only that), so the retry runs its Lua again.
    await h.core.redis.del(k.idem);
    const retry = await send();
    expect([retry.status, retry.body.id], `retry with the same key: ${JSON.stringify(retry.body)}`).toEqual([201, first.body.id]);
    const [row] = await h.core.sql<{ n: number; q: number }[]>`select count(*)::int as n, coalesce(sum(quantity), 0)::int as q
      from reservations where user_id = ${user} and status in ('held', 'confirmed')`;
    expect(row, 'reservations of the buyer in PostgreSQL').toEqual({ n: 1, q: 2 });
    // The retry's own Redis hold was undone: GA counts agree with PostgreSQL.
    expect(await h.core.redis.hget(k.zoneCounts('FLOOR'), 'held'), 'GA units held in Redis').toBe('2');
  });
});

describe('GA capacity', () => {
  it('never sells past the last unit: a request larger than what is left is refused, the exact rest is sold', async () => {
    const ev = await h.createEvent({
      maxSeatsPerUser: 6,
      zones: [{ code: 'FLOOR', name: 'Floor', priceCents: 1000, kind: 'ga', capacity: 10 }],
    });
    for (const q of [4, 4]) expect((await hold(ev.id, { zone: 'FLOOR', quantity: q })).status, `hold of ${q}`).toBe(201);

    const tooMany = await hold(ev.id, { zone: 'FLOOR', quantity: 3 });
    expect(tooMany.status, `3 more with 2 left was ${tooMany.status} ${JSON.stringify(tooMany.body)}`).toBe(409);
    expect(tooMany.body.error).toMatchObject({ code: 'SEATS_UNAVAILABLE', details: { zone: 'FLOOR', available: 2 } });

    expect((await hold(ev.id, { zone: 'FLOOR', quantity: 2 })).status, 'the last 2').toBe(201);
    const soldOut = await hold(ev.id, { zone: 'FLOOR', quantity: 1 });
    expect([soldOut.status, soldOut.body.error?.code], 'one more after the last unit').toEqual([409, 'SOLD_OUT']);

    const [pg] = await h.core.sql<{ q: number }[]>`select coalesce(sum(quantity), 0)::int as q from reservations
      where event_id = ${ev.id} and status in ('held', 'confirmed')`;
    expect(pg!.q, 'live GA units in PostgreSQL').toBe(10);
    const counts = await h.core.redis.hgetall(eventKeys(h.config.redis.prefix, ev.id).zoneCounts('FLOOR'));
    expect(counts, 'Redis counts').toMatchObject({ capacity: '10', held: '10' });
  });
});

describe('release frees only its own seats', () => {
  it('a cancel leaves alone a seat Redis has retagged to another hold or sale', async () => {
    const ev = await h.createEvent();
    const k = eventKeys(h.config.redis.prefix, ev.id);
    const mine = await hold(ev.id, { seats: ['A-2-1', 'A-2-2', 'A-2-3'] });
    expect(mine.status).toBe(201);

    // Since the hold was made, two of its seats went to others in Redis (as after a rebuild
    // from a PostgreSQL that had already moved on): they are no longer this hold's to free.
    const otherHold = `h:${randomUUID()}`;
    const otherSale = `s:${randomUUID()}`;
    await h.core.redis.hset(k.zoneSeats('A'), 'A-2-2', otherHold, 'A-2-3', otherSale);

    const cancel = await h.call('POST', `/v1/reservations/${mine.body.id}/cancel`, { token: mine.token });
    expect(cancel.status).toBe(200);
    const seats = await h.core.redis.hmget(k.zoneSeats('A'), 'A-2-1', 'A-2-2', 'A-2-3');
    expect(seats, 'A-2-1 freed; A-2-2 and A-2-3 still with their new owners').toEqual(['', otherHold, otherSale]);
    expect(await h.core.redis.hexists(k.holds, mine.body.id), 'hold record gone').toBe(0);
  });
});
