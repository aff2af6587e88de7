import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../src/core';
import { reserveScript } from '../src/inventory/scripts';
import { enqueueBookingEvents } from '../src/outbox/outbox';
import { reservationJson } from '../src/reservations/model';
import { eventKeys, idemField } from '../src/redis/keys';
import { expireDue, markConfirmed } from '../src/reservations/repository';
import { Reconciler } from '../src/worker/reconcile';
import { releaseExpired } from '../src/worker/release';
import { JobRunner } from '../src/worker/runner';
import { startHarness, type Harness } from './harness';
import { eventually } from './kafka/collect';

let h: Harness;
const extraCores: Core[] = [];

beforeAll(async () => {
  h = await startHarness({ KAFKA_TOPIC: `t.booking.worker.${randomUUID().slice(0, 8)}` });
});
afterAll(async () => {
  await Promise.all(extraCores.map((c) => c.close()));
  await h.close();
});

/** A worker process of its own: separate pools over the same database and key prefix. */
function workerCore(name: string): Core {
  const core = createCore(h.config, h.core.logger, name);
  extraCores.push(core);
  return core;
}

function releaseDeps(core: Core, batch: number) {
  return { ...core.transitions, logger: core.logger, batch };
}

function reconciler(core: Core, orphanGraceMs = 60_000) {
  return new Reconciler({
    sql: core.sql,
    redis: core.redis,
    prefix: h.config.redis.prefix,
    loader: core.loader,
    logger: core.logger,
    orphanGraceMs,
  });
}

async function hold(eventId: string, body: unknown, user = `u-${randomUUID()}`) {
  const token = await h.token(user);
  const res = await h.call('POST', `/v1/events/${eventId}/reservations`, { token, body });
  return { ...res, token };
}

async function seatStatus(eventId: string, zone: string): Promise<Map<string, string>> {
  const res = await h.call('GET', `/v1/events/${eventId}/zones/${zone}/seats`);
  return new Map((res.body as { seat: string; status: string }[]).map((s) => [s.seat, s.status]));
}

async function zoneCounts(eventId: string, zone: string) {
  const res = await h.call('GET', `/v1/events/${eventId}/availability`);
  return res.body.zones.find((z: { code: string }) => z.code === zone);
}

async function inChunks<T, R>(items: T[], size: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await Promise.all(items.slice(i, i + size).map((t, j) => fn(t, i + j)))));
  }
  return out;
}

describe('seat-release worker', () => {
  it('1,000 expiring holds, half confirmed in a race with two workers: each ends confirmed or expired, never both', async () => {
    const ev = await h.createEvent({
      zones: [{ code: 'A', name: 'Block A', priceCents: 1000, kind: 'seated', rows: 20, seatsPerRow: 50 }],
    });
    const seats = Array.from({ length: 1000 }, (_, i) => `A-${Math.floor(i / 50) + 1}-${(i % 50) + 1}`);
    const holds = await inChunks(seats, 50, async (seat) => {
      const r = await hold(ev.id, { seats: [seat] });
      expect(r.status).toBe(201);
      return { id: r.body.id as string, seat, token: r.token };
    });

    // Expiries spread over 1-1.5 s from now, confirms paced over 2 s: the early confirms have
    // a second in hand, the last ones come 0.4 s after their expiry, and in between they meet
    // the workers. Both outcomes occur unless a confirm takes over a second to land, so a
    // loaded machine moves the meeting point instead of removing it (holdSeconds' floor is 10).
    await h.core.sql`
      update reservations r set expires_at = clock_timestamp() + interval '1 second' + (o.n * interval '500 microseconds')
      from unnest(${holds.map((x) => x.id)}::uuid[]) with ordinality as o(id, n)
      where r.id = o.id`;

    const workers = ['worker-a', 'worker-b'].map((name) => {
      const core = workerCore(name);
      return new JobRunner(core.logger).every('seat-release', 50, (signal) => releaseExpired(releaseDeps(core, 25), signal));
    });
    workers.forEach((w) => w.start());
    let results: { id: string; seat: string; status: number }[];
    try {
      // Paced so each confirm lands about when its hold expires: a real contest, not a rout.
      const toConfirm = holds.filter((_, i) => i % 2 === 0);
      const t0 = Date.now();
      results = await inChunks(toConfirm, 25, async (x, i) => {
        await sleep(Math.max(0, t0 + Math.floor(i / 25) * 100 - Date.now()));
        const res = await h.call('POST', `/v1/reservations/${x.id}/confirm`, { token: x.token, body: {} });
        return { id: x.id, seat: x.seat, status: res.status };
      });
      const settled = await eventually(async () => {
        const [row] = await h.core.sql<{ n: number }[]>`
          select count(*)::int as n from reservations where event_id = ${ev.id} and status = 'held'`;
        return row!.n === 0;
      }, 20_000, 100);
      expect(settled, 'every hold confirmed or expired by the two workers within 20 s').toBe(true);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }

    const won = new Set(results.filter((r) => r.status === 200).map((r) => r.id));
    const lost = results.filter((r) => r.status !== 200);
    expect(lost.every((r) => r.status === 410)).toBe(true);
    // The race really happened: some confirms beat the expiry, some did not.
    expect(won.size).toBeGreaterThan(0);
    expect(lost.length).toBeGreaterThan(0);

    const rows = await h.core.sql<{ id: string; status: string; confirmed_at: Date | null; expired_at: Date | null }[]>`
      select id, status, confirmed_at, expired_at from reservations where event_id = ${ev.id}`;
    expect(rows).toHaveLength(1000);
    for (const r of rows) {
      expect(['confirmed', 'expired']).toContain(r.status);
      expect(r.status === 'confirmed').toBe(won.has(r.id));
      expect(r.confirmed_at !== null && r.expired_at !== null).toBe(false);
    }

    // Exactly one message per reservation, of the kind that won.
    const messages = await h.core.sql<{ key: string; type: string }[]>`
      select key, type from outbox where key = any(${holds.map((x) => x.id)})`;
    expect(messages).toHaveLength(1000);
    for (const m of messages) expect(m.type).toBe(won.has(m.key) ? 'booking.confirmed' : 'booking.expired');

    // Redis agrees: sold seats stay sold, every expired seat is free again, counts add up.
    const map = await seatStatus(ev.id, 'A');
    for (const x of holds) expect(map.get(x.seat)).toBe(won.has(x.id) ? 'sold' : 'available');
    expect(await zoneCounts(ev.id, 'A')).toMatchObject({ capacity: 1000, sold: won.size, held: 0, available: 1000 - won.size });
    const [live] = await h.core.sql<{ n: number }[]>`
      select count(*)::int as n from reservation_seats where event_id = ${ev.id} and live`;
    expect(live!.n).toBe(won.size);

    // And a seat of an expired hold can be held again.
    const again = await hold(ev.id, { seats: [lost[0]!.seat] });
    expect(again.status).toBe(201);
  });

  it('a worker that dies after its commit leaves nothing the next runs cannot finish', async () => {
    const ev = await h.createEvent();
    const held = await inChunks(['A-1-1', 'A-1-2', 'A-1-3'], 3, (seat) => hold(ev.id, { seats: [seat] }));
    const ids = held.map((r) => r.body.id as string);
    await h.core.sql`update reservations set expires_at = now() - interval '1 second' where id = any(${ids}::uuid[])`;

    // Dies before committing: nothing happened, the next run expires them.
    await expect(
      h.core.sql.begin(async (tx) => {
        await expireDue(tx, 10_000);
        throw new Error('killed');
      }),
    ).rejects.toThrow('killed');
    const [still] = await h.core.sql<{ n: number }[]>`select count(*)::int as n from reservations where id = any(${ids}::uuid[]) and status = 'held'`;
    expect(still!.n).toBe(3);

    // Dies after committing, before Redis: PostgreSQL says expired, Redis still holds.
    await h.core.sql.begin(async (tx) => {
      const rows = (await expireDue(tx, 10_000)).filter((r) => ids.includes(r.id));
      await enqueueBookingEvents(tx, h.config.kafka.topic, 'booking.expired', rows.map((r) => ({ reservation: reservationJson(r), userId: r.userId })));
    });
    expect((await seatStatus(ev.id, 'A')).get('A-1-1')).toBe('held');

    const stats = await reconciler(h.core).run();
    expect(stats.freed).toBeGreaterThanOrEqual(3);
    const map = await seatStatus(ev.id, 'A');
    expect(['A-1-1', 'A-1-2', 'A-1-3'].map((s) => map.get(s))).toEqual(['available', 'available', 'available']);
    expect(await zoneCounts(ev.id, 'A')).toMatchObject({ held: 0, sold: 0, available: 100 });
  });
});

describe('reconciliation', () => {
  it('frees a Redis hold PostgreSQL never heard of, but only after the grace period', async () => {
    const ev = await h.createEvent();
    const k = eventKeys(h.config.redis.prefix, ev.id);
    const ghost = randomUUID();
    const ghostUser = `ghost-${randomUUID()}`;
    const ghostKey = randomUUID();
    // A hold whose process died between the Lua script and the PostgreSQL write.
    const outcome = await reserveScript(h.core.redis, k, {
      now: Date.now(),
      reservationId: ghost,
      userId: ghostUser,
      idemField: idemField(ghostUser, ghostKey),
      requestHash: 'x',
      zone: 'A',
      quantity: 1,
      seats: ['A-3-3'],
    });
    expect(outcome.kind).toBe('held');

    const r = reconciler(h.core, 400);
    const first = await r.run();
    expect(first.suspects).toBeGreaterThanOrEqual(1);
    expect((await seatStatus(ev.id, 'A')).get('A-3-3')).toBe('held');

    await new Promise((res) => setTimeout(res, 500));
    await r.run();
    expect((await seatStatus(ev.id, 'A')).get('A-3-3')).toBe('available');
    expect(await h.core.redis.hexists(k.holds, ghost)).toBe(0);
    // Its idempotency key is forgotten too, so the buyer's retry runs instead of waiting forever.
    expect(await h.core.redis.hexists(k.idem, idemField(ghostUser, ghostKey))).toBe(0);
    const retry = await h.call('POST', `/v1/events/${ev.id}/reservations`, {
      token: await h.token(ghostUser),
      body: { seats: ['A-3-3'] },
      headers: { 'idempotency-key': ghostKey },
    });
    expect(retry.status).toBe(201);
  });

  it('marks sold what PostgreSQL confirmed and restores a live hold Redis lost', async () => {
    const ev = await h.createEvent();
    const k = eventKeys(h.config.redis.prefix, ev.id);
    const user = `u-${randomUUID()}`;
    const a = await hold(ev.id, { seats: ['A-5-1'] }, user);
    const b = await hold(ev.id, { seats: ['A-5-2', 'A-5-3'] });
    expect([a.status, b.status]).toEqual([201, 201]);

    // Confirmed in PostgreSQL, but the process died before Redis marked it sold.
    const confirmed = await markConfirmed(h.core.sql, { id: a.body.id, userId: user, bookingCode: randomUUID().slice(0, 10), paymentRef: null });
    expect(confirmed?.status).toBe('confirmed');
    // Redis lost b's hold (record and seats) while keeping the event.
    await h.core.redis.hdel(k.holds, b.body.id);
    await h.core.redis.hset(k.zoneSeats('A'), 'A-5-2', '', 'A-5-3', '');
    expect((await seatStatus(ev.id, 'A')).get('A-5-2')).toBe('available');

    const stats = await reconciler(h.core).run();
    expect(stats.sold).toBeGreaterThanOrEqual(1);
    expect(stats.rebuilt).toBeGreaterThanOrEqual(1);
    const map = await seatStatus(ev.id, 'A');
    expect([map.get('A-5-1'), map.get('A-5-2'), map.get('A-5-3')]).toEqual(['sold', 'held', 'held']);
    expect(await zoneCounts(ev.id, 'A')).toMatchObject({ sold: 1, held: 2, available: 97 });
    // Nobody else can take a restored seat.
    const c = await hold(ev.id, { seats: ['A-5-2'] });
    expect(c.status).toBe(409);
  });
});
