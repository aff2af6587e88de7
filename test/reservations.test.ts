import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';
import { waitUntil, within } from './wait';
import { eventKeys } from '../src/redis/keys';
import { keysMatching } from './redis-admin';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('reservation lifecycle', () => {
  it('holds seats, prices them on the server, confirms idempotently', async () => {
    const ev = await h.createEvent();
    const alice = await h.token(`alice-${randomUUID()}`);
    const held = await h.call('POST', `/v1/events/${ev.id}/reservations`, {
      token: alice,
      body: { seats: ['A-1-1', 'A-1-2'] },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(held.status).toBe(201);
    expect(held.body).toMatchObject({ status: 'held', zone: 'A', quantity: 2, seats: ['A-1-1', 'A-1-2'], totalCents: 18000 });
    expect(Date.parse(held.body.expiresAt)).toBeGreaterThan(Date.now());

    const avail = await h.call('GET', `/v1/events/${ev.id}/availability`);
    expect(avail.body.zones[0]).toMatchObject({ code: 'A', capacity: 100, held: 2, sold: 0, available: 98 });

    const c1 = await h.call('POST', `/v1/reservations/${held.body.id}/confirm`, { token: alice, body: { paymentRef: 'pay_1' } });
    expect(c1.status).toBe(200);
    expect(c1.body.status).toBe('confirmed');
    expect(c1.body.bookingCode).toMatch(/^[0-9A-Z]{10}$/);
    const c2 = await h.call('POST', `/v1/reservations/${held.body.id}/confirm`, { token: alice });
    expect(c2.status).toBe(200);
    expect(c2.body.bookingCode).toBe(c1.body.bookingCode);

    const map = await h.call('GET', `/v1/events/${ev.id}/zones/A/seats`);
    expect(map.body.slice(0, 3)).toEqual([
      { seat: 'A-1-1', status: 'sold' },
      { seat: 'A-1-2', status: 'sold' },
      { seat: 'A-1-3', status: 'available' },
    ]);
    const cancel = await h.call('POST', `/v1/reservations/${held.body.id}/cancel`, { token: alice });
    expect(cancel.status).toBe(409);

    const [outbox] = await h.core.sql`select count(*)::int as n from outbox where key = ${held.body.id} and type = 'booking.confirmed'`;
    expect(outbox!.n).toBe(1);
  });

  it('cancel releases seats and is idempotent; confirming a cancelled hold is 409', async () => {
    const ev = await h.createEvent();
    const bob = await h.token(`bob-${randomUUID()}`);
    const held = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: bob, body: { zone: 'FLOOR', quantity: 3 } });
    expect(held.status).toBe(201);
    expect(held.body.seats).toEqual([]);
    const c1 = await h.call('POST', `/v1/reservations/${held.body.id}/cancel`, { token: bob });
    const c2 = await h.call('POST', `/v1/reservations/${held.body.id}/cancel`, { token: bob });
    expect([c1.status, c1.body.status, c2.status, c2.body.status]).toEqual([200, 'cancelled', 200, 'cancelled']);
    const avail = await h.call('GET', `/v1/events/${ev.id}/availability`);
    expect(avail.body.zones[1]).toMatchObject({ code: 'FLOOR', available: 200, held: 0 });
    const conf = await h.call('POST', `/v1/reservations/${held.body.id}/confirm`, { token: bob });
    expect(conf.status).toBe(409);
    // the limit counter was released too: the full limit is available again
    const again = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: bob, body: { zone: 'FLOOR', quantity: 6 } });
    expect(again.status).toBe(201);
  });

  it("someone else's reservation is 404, a malformed id 400", async () => {
    const ev = await h.createEvent();
    const owner = await h.token(`o-${randomUUID()}`);
    const other = await h.token(`x-${randomUUID()}`);
    const held = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: owner, body: { seats: ['A-2-1'] } });
    for (const [m, p] of [['GET', ''], ['POST', '/confirm'], ['POST', '/cancel']] as const) {
      const r = await h.call(m, `/v1/reservations/${held.body.id}${p}`, { token: other });
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('NOT_FOUND');
    }
    expect((await h.call('GET', '/v1/reservations/not-a-uuid', { token: owner })).status).toBe(400);
    const mine = await h.call('GET', '/v1/me/reservations', { token: owner });
    expect(mine.body.reservations.map((r: { id: string }) => r.id)).toEqual([held.body.id]);
  });

  it('confirm after the hold expired is 410 and the seats stay with PostgreSQL until released', async () => {
    const ev = await h.createEvent({ holdSeconds: 10 });
    const u = await h.token(`u-${randomUUID()}`);
    const held = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-3-3'] } });
    expect(held.status).toBe(201);
    // Move the expiry into the past, as if the buyer waited too long.
    await h.core.sql`update reservations set expires_at = now() - interval '1 millisecond' where id = ${held.body.id}`;
    const conf = await h.call('POST', `/v1/reservations/${held.body.id}/confirm`, { token: u });
    expect(conf.status).toBe(410);
    expect(conf.body.error.code).toBe('HOLD_EXPIRED');
  });

  it('rejects a hold before sales open with 409 SALES_CLOSED and writes nothing', async () => {
    const ev = await h.createEvent({ salesOpenAt: new Date(Date.now() + 3_600_000).toISOString() });
    const u = await h.token(`u-${randomUUID()}`);
    const r = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-1-1'] } });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('SALES_CLOSED');
    const [n] = await h.core.sql`select count(*)::int as n from reservations where event_id = ${ev.id}`;
    expect(n!.n).toBe(0);
  });
});

describe('idempotency', () => {
  it('replays the first result, refuses the key with another body (422)', async () => {
    const ev = await h.createEvent();
    const u = await h.token(`u-${randomUUID()}`);
    const key = randomUUID();
    const first = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-5-1'] }, headers: { 'idempotency-key': key } });
    const replay = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-5-1'] }, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const reuse = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-5-2'] }, headers: { 'idempotency-key': key } });
    expect(reuse.status).toBe(422);
    expect(reuse.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const [n] = await h.core.sql`select count(*)::int as n from reservations where event_id = ${ev.id}`;
    expect(n!.n).toBe(1);
  });

  it('a retry of a successful hold replays it even after its queue pass lapsed', async () => {
    const { signQueueToken } = await import('../src/queue/tokens');
    const ev = await h.createEvent({ queue: { enabled: true, admitPerSecond: 10, passSeconds: 60 } });
    const sub = `qp-${randomUUID()}`;
    const u = await h.token(sub);
    const pass = signQueueToken(h.config.queueSecret, { k: 'pass', e: ev.id, u: sub, x: Date.now() + 60_000 });
    const key = randomUUID();
    const first = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-8-8'] }, headers: { 'idempotency-key': key, 'x-queue-pass': pass } });
    expect(first.status).toBe(201);
    const replay = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-8-8'] }, headers: { 'idempotency-key': key } });
    expect([replay.status, replay.body.id]).toEqual([201, first.body.id]);
    // Without the key (or with another body) the missing pass still counts.
    const other = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-8-9'] }, headers: { 'idempotency-key': key } });
    expect([other.status, other.body.error?.code]).toEqual([403, 'QUEUE_PASS_REQUIRED']);
  });

  it('without a key, each request is its own hold and no key is stored', async () => {
    const ev = await h.createEvent();
    const sub = `nk-${randomUUID()}`;
    const u = await h.token(sub);
    const a = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { zone: 'FLOOR', quantity: 1 } });
    const b = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { zone: 'FLOOR', quantity: 1 } });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
    const rows = await h.core.sql`select idempotency_key from reservations where user_id = ${sub}`;
    expect(rows.map((r) => r.idempotency_key)).toEqual([null, null]);
    const k = eventKeys(h.config.redis.prefix, ev.id).idem;
    expect(await h.core.redis.hlen(k)).toBe(0);
    // The 201's createdAt is the stored one.
    expect((await h.call('GET', `/v1/reservations/${a.body.id}`, { token: u })).body.createdAt).toBe(a.body.createdAt);
  });

  it('a hold that reaches PostgreSQL after its deadline is not written and is undone (503)', async () => {
    const ev = await h.createEvent();
    const sub = `late-${randomUUID()}`;
    // Squeeze the write budget to nothing: quiesce = statement timeout + 500, minus the 250 margin.
    const { startHarness } = await import('./harness');
    const tight = await startHarness({ PG_SCHEMA: h.config.db.schema!, REDIS_PREFIX: h.config.redis.prefix, REBUILD_QUIESCE_MS: '1500', PG_STATEMENT_TIMEOUT_MS: '1000' });
    try {
      // Hold the reservations table so the write waits past its 250 ms budget: locked before
      // the request goes out, released 400 ms after its INSERT is seen waiting on the lock.
      let locked!: (pid: number) => void;
      const lockHeld = new Promise<number>((r) => (locked = r));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const blocker = h.core.sql.begin(async (tx) => {
        await tx`lock table reservations in exclusive mode`;
        locked(((await tx`select pg_backend_pid() as pid`) as unknown as [{ pid: number }])[0].pid);
        await gate;
      });
      const pid = await within('the table lock', lockHeld, 5_000);
      const pending = tight.call('POST', `/v1/events/${ev.id}/reservations`, { token: await tight.token(sub), body: { zone: 'FLOOR', quantity: 2 }, headers: { 'idempotency-key': 'late-1' } });
      try {
        await waitUntil('the hold\'s INSERT to wait on the lock', async () =>
          (await h.core.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where ${pid} = any(pg_blocking_pids(pid))`)[0]!.n > 0,
        { timeoutMs: 3_000, stepMs: 5 });
        await new Promise((r) => setTimeout(r, 400));
      } finally {
        release();
      }
      const r = await pending;
      await blocker;
      expect(r.status).toBe(503);
      const [n] = await h.core.sql`select count(*)::int as n from reservations where user_id = ${sub}`;
      expect(n!.n).toBe(0);
      const avail = await h.call('GET', `/v1/events/${ev.id}/availability`);
      expect(avail.body.zones[1].held).toBe(0);
      // The key was forgotten with the hold: a retry runs.
      const again = await tight.call('POST', `/v1/events/${ev.id}/reservations`, { token: await tight.token(sub), body: { zone: 'FLOOR', quantity: 2 }, headers: { 'idempotency-key': 'late-1' } });
      expect(again.status).toBe(201);
    } finally {
      await tight.close();
    }
  });

  it('two requests with the same key at once execute once', async () => {
    const ev = await h.createEvent();
    const sub = `u-${randomUUID()}`;
    const u = await h.token(sub);
    const key = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { zone: 'FLOOR', quantity: 2 }, headers: { 'idempotency-key': key } }),
      ),
    );
    const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.body.id));
    expect(ids.size).toBe(1);
    for (const r of results) expect([201, 409]).toContain(r.status);
    const [row] = await h.core.sql`select count(*)::int as n, sum(quantity)::int as q from reservations where user_id = ${sub}`;
    expect(row).toEqual({ n: 1, q: 2 });
    const avail = await h.call('GET', `/v1/events/${ev.id}/availability`);
    expect(avail.body.zones[1].held).toBe(2);
  });

  it('a replay still finds its reservation after Redis lost the event', async () => {
    const ev = await h.createEvent();
    const sub = `u-${randomUUID()}`;
    const u = await h.token(sub);
    const key = randomUUID();
    const first = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-7-7'] }, headers: { 'idempotency-key': key } });
    const keys = await keysMatching(h.core.redis, eventKeys(h.config.redis.prefix, ev.id).pattern);
    await h.core.redis.del(...keys);
    const during = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-7-7'] }, headers: { 'idempotency-key': key } });
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBeTruthy();
    await h.core.loader.ensureLoaded((await h.core.catalog.get(ev.id))!);
    const replay = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-7-7'] }, headers: { 'idempotency-key': key } });
    expect(replay.status).toBe(201);
    expect(replay.body.id).toBe(first.body.id);
    const [row] = await h.core.sql`select count(*)::int as n from reservations where user_id = ${sub}`;
    expect(row!.n).toBe(1);
  });
});
