import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signQueueToken } from '../src/queue/tokens';
import { queueKeys } from '../src/redis/keys';
import { QueueStore, parseEntry } from '../src/queue/store';
import { queueSettings } from '../src/queue/settings';
import type { BoxEvent } from '../src/events/model';
import { startHarness, type Harness } from './harness';
import { allAdmitted, allClosed, listen, readStream, sleep, startQueueServer, watch } from './queue/helpers';
import { waitUntil } from './wait';

const QUEUE_ENV = { QUEUE_RETRY_MS: '300' };

let h: Harness;
let srv: Awaited<ReturnType<typeof startQueueServer>>['srv'];
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ h, srv, close: stop } = await startQueueServer(QUEUE_ENV));
});
afterAll(() => stop());

const queueEvent = (overrides: Record<string, unknown> = {}) =>
  h.createEvent({ queue: { enabled: true, admitPerSecond: 50, passSeconds: 600 }, ...overrides });

async function join(eventId: string, user: string) {
  return h.call('POST', `/v1/events/${eventId}/queue`, { token: await h.token(user) });
}

const streamUrl = (eventId: string, ticket: string) =>
  `${srv.url}/v1/events/${eventId}/queue/stream?ticket=${encodeURIComponent(ticket)}`;

describe('flash sale: 300 early buyers at 50/s', () => {
  it('draws the lobby order at opening, admits at the rate, positions never rise, passes bind to their owner', async () => {
    const openAt = Date.now() + 8_000;
    const ev = await queueEvent({ salesOpenAt: new Date(openAt).toISOString() });
    const users = Array.from({ length: 300 }, (_, i) => `buyer${i}-${randomUUID().slice(0, 8)}`);
    const joins = await Promise.all(users.map((u) => join(ev.id, u)));
    for (const j of joins) {
      expect(j.status).toBe(201);
      expect(j.body).toMatchObject({ status: 'lobby', position: null, opensAt: new Date(openAt).toISOString() });
    }
    const again = await join(ev.id, users[7]!);
    expect(again.status).toBe(200);
    expect(again.body.ticket).toBe(joins[7]!.body.ticket);

    const watchers = users.map((_, i) => watch(streamUrl(ev.id, joins[i]!.body.ticket)));
    await waitUntil('every stream\'s first (lobby) event', () => watchers.filter((w) => w.events.length > 0).length, {
      done: (n) => n === watchers.length,
      timeoutMs: Math.max(1_000, openAt - Date.now() - 300),
      stepMs: 50,
    });
    expect(Date.now(), 'every stream opened inside the lobby').toBeLessThan(openAt);
    // 300 at 50/s take 6 s; the bound only turns a stall into a clear failure.
    const admitted = await allAdmitted(watchers, 20_000);
    const last = Math.max(...admitted.map((a) => a.at));
    expect((last - openAt) / 1000).toBeGreaterThan(6 * 0.8);
    expect((last - openAt) / 1000).toBeLessThan(6 * 1.2);

    // The draw is a permutation of 1..300: nobody lost, no number twice.
    const entries = await h.core.redis.hgetall(queueKeys(h.config.redis.prefix, ev.id).users);
    const numbers = users.map((u) => parseEntry(entries[u] ?? null)).map((e) => (e && e.kind !== 'lobby' ? e.number : -1));
    expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    // Redis' own admission times: the 300th went in 6 s (at 50/s) after opening.
    const times = users.map((u) => parseEntry(entries[u]!)).map((e) => (e?.kind === 'admitted' ? e.at : NaN));
    expect((Math.max(...times) - openAt) / 1000).toBeGreaterThan(5.7);
    expect((Math.max(...times) - openAt) / 1000).toBeLessThan(6.5);

    for (const [i, w] of watchers.entries()) {
      expect(w.events[0]).toMatchObject({ type: 'position', data: { status: 'lobby' } });
      const waiting = w.events.filter((e) => e.data.status === 'waiting');
      for (let k = 1; k < waiting.length; k++) {
        expect(waiting[k]!.data.position).toBeLessThanOrEqual(waiting[k - 1]!.data.position);
        // At most one a second when sent (ticks are 200 ms); arrival times carry the loaded machine's jitter.
        expect(waiting[k]!.at - waiting[k - 1]!.at).toBeGreaterThanOrEqual(700);
      }
      for (const e of waiting) {
        expect(e.data.position).toBe(numbers[i]! - e.data.admittedUpTo);
        expect(e.data.ahead).toBe(e.data.position - 1);
        expect(e.id).toBe(`w-${e.data.position}`);
      }
      // The buyer drawn last saw its place move and an ETA near the truth.
      if (numbers[i] === 300) {
        expect(waiting.length).toBeGreaterThanOrEqual(3);
        const mid = waiting[Math.floor(waiting.length / 2)]!;
        expect(Math.abs(mid.data.etaSeconds - (admitted[i]!.at - mid.at) / 1000)).toBeLessThan(2);
      }
    }

    // The lobby order is not the join order kept as is (the chance of that is 1/300!).
    expect(numbers).not.toEqual(Array.from({ length: 300 }, (_, i) => i + 1));

    // Each stream ended after "admitted"; EventSource reconnected with Last-Event-ID and got 204.
    await allClosed(watchers, 10_000);
    for (const w of watchers) {
      expect(w.events.filter((e) => e.type === 'admitted')).toHaveLength(1);
      expect(w.events.at(-1)!.id).toBe('admitted');
      expect(w.opens).toBeGreaterThanOrEqual(1);
    }

    // A pass works for its owner only.
    const [a, b] = [0, 1];
    const passA = admitted[a]!.data.pass as string;
    expect(Date.parse(admitted[a]!.data.expiresAt)).toBeGreaterThan(Date.now() + 500_000);
    const hold = async (user: string, pass?: string) =>
      h.call('POST', `/v1/events/${ev.id}/reservations`, {
        token: await h.token(user),
        body: { zone: 'FLOOR', quantity: 1 },
        headers: pass === undefined ? {} : { 'x-queue-pass': pass },
      });
    const borrowed = await hold(users[b]!, passA);
    expect([borrowed.status, borrowed.body.error?.code]).toEqual([403, 'QUEUE_PASS_REQUIRED']);
    expect((await hold(users[a]!)).status).toBe(403);
    const forged = passA.slice(0, -2) + (passA.endsWith('AA') ? 'BB' : 'AA');
    expect((await hold(users[a]!, forged)).status).toBe(403);
    const expired = signQueueToken(h.config.queueSecret, { k: 'pass', e: ev.id, u: users[a]!, x: Date.now() - 1 });
    expect((await hold(users[a]!, expired)).status).toBe(403);
    expect((await hold(users[a]!, await h.token(users[a]!))).status).toBe(403);
    expect((await hold(users[a]!, joins[a]!.body.ticket)).status).toBe(403);
    const mine = await hold(users[a]!, passA);
    expect(mine.status).toBe(201);

    // Joining again after admission returns the same ticket and the same pass.
    const rejoin = await join(ev.id, users[a]!);
    expect(rejoin.body).toMatchObject({ ticket: joins[a]!.body.ticket, status: 'admitted', pass: passA });
    const poll = await h.call('GET', `/v1/events/${ev.id}/queue?ticket=${encodeURIComponent(joins[a]!.body.ticket)}`);
    expect(poll.body).toEqual({ status: 'admitted', pass: passA, expiresAt: admitted[a]!.data.expiresAt });
    for (const w of watchers) w.es.close();
  });

  it('opens on a uniform random permutation of the lobby; joining again or from a second device keeps the place', async () => {
    const store = new QueueStore(h.core.redis, h.config.redis.prefix, queueSettings(h.config.queue));
    const k = (id: string) => queueKeys(h.config.redis.prefix, id);
    // Opening is moved to "now" once every lobby is full (4,800 joins take a while on a loaded machine).
    const openAt = Date.now() + 3_600_000;
    const fake = (): BoxEvent => ({
      id: randomUUID(),
      name: 'draw',
      startsAt: new Date(openAt + 3_600_000),
      salesOpenAt: new Date(openAt),
      salesCloseAt: new Date(openAt + 3_600_000),
      holdSeconds: 600,
      maxSeatsPerUser: 6,
      queue: { enabled: true, admitPerSecond: 1, passSeconds: 600 },
      zones: [],
    });
    // 24 orders of 4 buyers, 1,200 lobbies: 50 expected per order.
    const draws = Array.from({ length: 1_200 }, fake);
    const users = ['u0', 'u1', 'u2', 'u3'];
    await Promise.all(draws.map(async (e) => {
      for (const u of users) expect((await store.join(e, u)).status).toBe('lobby');
    }));
    // Joining again (another tab, another device: the same user) changes nothing in the draw.
    const probe = draws[0]!;
    const before = await h.core.redis.zrange(k(probe.id).lobby, 0, -1, 'WITHSCORES');
    for (let i = 0; i < 20; i++) expect((await store.join(probe, users[i % 4]!)).created).toBe(false);
    expect(await h.core.redis.zrange(k(probe.id).lobby, 0, -1, 'WITHSCORES')).toEqual(before);
    const [sec, micro] = await h.core.redis.time();
    const now = Number(sec) * 1000 + Math.floor(Number(micro) / 1000);
    await Promise.all(draws.map((e) => h.core.redis.hset(k(e.id).state, 'open', now, 'since', now)));
    const counts = new Map<string, number>();
    const firsts = [0, 0, 0, 0];
    await Promise.all(draws.map(async (e) => {
      const st = await store.advance(e);
      expect([st.shuffled, st.issued, st.lobbySize]).toEqual([true, 4, 4]);
      const entries = await store.lookup(e.id, users, true);
      const nums = entries.map((x) => (x && x.kind !== 'lobby' ? x.number : 0));
      expect([...nums].sort()).toEqual([1, 2, 3, 4]);
      // After opening, joining again reports the same number and does not move anyone.
      const again = await store.join(e, users[nums.indexOf(4)]!);
      expect([again.created, again.number]).toEqual([false, 4]);
      expect(again.status).not.toBe('lobby');
      const order = nums.join('');
      counts.set(order, (counts.get(order) ?? 0) + 1);
      firsts[nums.indexOf(1)]!++;
    }));
    // chi-square over the 24 orders, 23 degrees of freedom: 49.73 is the 0.1% critical value
    expect(counts.size).toBe(24);
    const chi = [...counts.values()].reduce((s, n) => s + (n - 50) ** 2 / 50, 0);
    expect(chi).toBeLessThan(49.73);
    // and over who comes first (3 degrees of freedom: 16.27)
    expect(firsts.reduce((s, n) => s + (n - 300) ** 2 / 300, 0)).toBeLessThan(16.27);
    // The same user after opening is a latecomer no more: a new user gets number 5.
    const late = await store.join(probe, 'u4');
    expect([late.created, late.number]).toEqual([true, 5]);
    // One event's keys per DEL: they share a hash tag, events do not (a Redis Cluster refuses cross-slot DEL).
    await Promise.all(draws.map((e) => h.core.redis.del(k(e.id).state, k(e.id).lobby, k(e.id).order, k(e.id).users, k(e.id).seen)));
  });

  it('draws a taken lobby score again, so no two lobby places tie', async () => {
    const scores = ['42', '42', '7'];
    const store = new QueueStore(h.core.redis, h.config.redis.prefix, queueSettings(h.config.queue), () => scores.shift()!);
    const ev = (await h.core.catalog.get((await queueEvent({ salesOpenAt: new Date(Date.now() + 60_000).toISOString() })).id))!;
    await store.join(ev, 'a');
    await store.join(ev, 'b');
    expect(scores).toEqual([]);
    const lobby = queueKeys(h.config.redis.prefix, ev.id).lobby;
    expect(await h.core.redis.zrange(lobby, 0, -1, 'WITHSCORES')).toEqual(['b', '7', 'a', '42']);
  });
});

describe('after opening', () => {
  it('is FIFO; admins pause, resume and change the rate; polls get the same snapshot', async () => {
    const ev = await queueEvent({ queue: { enabled: true, admitPerSecond: 2, passSeconds: 600 } });
    const admin = h.adminToken;
    const patch = (body: unknown, token = admin) =>
      h.call('PATCH', `/v1/admin/events/${ev.id}/queue`, { token, body });
    const paused = await patch({ paused: true });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, admitPerSecond: 2, admittedUpTo: 0 });

    const users = Array.from({ length: 6 }, (_, i) => `fifo${i}-${randomUUID().slice(0, 8)}`);
    const tickets: string[] = [];
    for (const [i, u] of users.entries()) {
      const j = await join(ev.id, u);
      expect(j.status).toBe(201);
      expect(j.body).toMatchObject({ status: 'waiting', position: i + 1, ahead: i, etaSeconds: null, paused: true });
      tickets.push(j.body.ticket);
    }
    const poll = (i: number) => h.call('GET', `/v1/events/${ev.id}/queue?ticket=${encodeURIComponent(tickets[i]!)}`);
    await sleep(700);
    expect((await poll(5)).body).toMatchObject({ status: 'waiting', position: 6, admittedUpTo: 0 });

    const resumed = Date.now();
    expect((await patch({ paused: false })).body.paused).toBe(false);
    await waitUntil('ticket 2 admitted after resuming at 2/s', async () => (await poll(1)).body, { done: (b) => b.status === 'admitted', timeoutMs: 5_000, stepMs: 50 });
    // Two at 2/s, the first from the one admission banked while the queue was empty: 0.5 s.
    expect(Date.now() - resumed).toBeGreaterThan(400);
    expect(Date.now() - resumed).toBeLessThan(1_100);
    expect((await poll(2)).body).toMatchObject({ status: 'waiting', position: 1, admittedUpTo: 2 });

    const faster = await patch({ admitPerSecond: 40 });
    expect(faster.body.admitPerSecond).toBe(40);
    const [row] = await h.core.sql`select queue_admit_per_second as r from events where id = ${ev.id}`;
    expect(row!.r).toBe(40);
    const t = Date.now();
    await waitUntil('ticket 6 admitted at 40/s', async () => (await poll(5)).body, { done: (b) => b.status === 'admitted', timeoutMs: 5_000, stepMs: 20 });
    expect(Date.now() - t).toBeLessThan(600); // four at 40/s: 0.1 s
    const state = await h.call('GET', `/v1/admin/events/${ev.id}/queue`, { token: admin });
    expect(state.body).toMatchObject({ issued: 6, admittedUpTo: 6, admitted: 6, skipped: 0, waiting: 0 });

    // An empty queue (idle longer than 1/rate) admits the next joiner straight away.
    await sleep(100);
    const late = await join(ev.id, `late-${randomUUID()}`);
    expect(late.body.status).toBe('admitted');
    expect(late.body.pass).toMatch(/^bq1\./);

    const user = await h.token(`u-${randomUUID()}`);
    expect((await patch({ paused: true }, user)).status).toBe(403);
    expect((await patch({})).status).toBe(400);
    expect((await patch({ admitPerSecond: 0 })).status).toBe(400);
  });
});

describe('tickets and errors', () => {
  it('refuses malformed, forged, borrowed and foreign tickets with 4xx in the error shape', async () => {
    const ev = await queueEvent();
    const other = await queueEvent();
    const plain = await h.createEvent();
    const user = `t-${randomUUID()}`;
    const j = await join(ev.id, user);
    const ticket: string = j.body.ticket;
    const otherTicket: string = (await join(other.id, user)).body.ticket;
    const sig = ticket.split('.')[2]!;
    const cases: [string, number][] = [
      ['not-a-ticket', 400],
      [await h.token(user), 400],
      [ticket.replace(sig, sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A')), 403],
      [signQueueToken('another-secret-of-16+', { k: 'ticket', e: ev.id, u: user, x: Date.now() + 60_000 }), 403],
      [signQueueToken(h.config.queueSecret, { k: 'pass', e: ev.id, u: user, x: Date.now() + 60_000 }), 403],
      [signQueueToken(h.config.queueSecret, { k: 'ticket', e: ev.id, u: user, x: Date.now() - 1 }), 403],
      [otherTicket, 403],
      ['bq1.%%%.x', 400],
    ];
    for (const [t, status] of cases) {
      for (const path of ['queue', 'queue/stream']) {
        const res = await fetch(`${srv.url}/v1/events/${ev.id}/${path}?ticket=${encodeURIComponent(t)}`);
        expect(res.status, `${path} ${t}`).toBe(status);
        const body = (await res.json()) as { error: { code: string } };
        expect(body.error.code).toBe(status === 400 ? 'INVALID_REQUEST' : 'FORBIDDEN');
      }
    }
    expect((await fetch(`${srv.url}/v1/events/${ev.id}/queue/stream`)).status).toBe(400);
    expect((await fetch(`${srv.url}/v1/events/not-a-uuid/queue?ticket=${ticket}`)).status).toBe(400);
    expect((await fetch(`${srv.url}/v1/events/${randomUUID()}/queue?ticket=${ticket}`)).status).toBe(403);
    expect((await h.call('POST', `/v1/events/${ev.id}/queue`)).status).toBe(401);
    expect((await h.call('POST', `/v1/events/${randomUUID()}/queue`, { token: await h.token(user) })).status).toBe(404);
    const disabled = await join(plain.id, user);
    expect([disabled.status, disabled.body.error?.code]).toEqual([409, 'QUEUE_DISABLED']);
    // A queue pass is required where there is a queue, and only there.
    const hold = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: await h.token(user), body: { zone: 'FLOOR', quantity: 1 } });
    expect([hold.status, hold.body.error?.code]).toEqual([403, 'QUEUE_PASS_REQUIRED']);
  });

  it('streams with an id on every event, retry hint first, and 204 for a reconnect after admission', async () => {
    const ev = await queueEvent({ queue: { enabled: true, admitPerSecond: 1000, passSeconds: 600 } });
    const j = await join(ev.id, `s-${randomUUID()}`);
    expect(j.body.status).toBe('admitted');
    const url = streamUrl(ev.id, j.body.ticket);
    const first = await readStream(url);
    expect(first.status).toBe(200);
    expect(first.events[0]).toEqual({ retry: 300 });
    expect(first.events[1]).toMatchObject({ event: 'admitted', id: 'admitted' });
    expect(JSON.parse(first.events[1]!.data!).pass).toBe(j.body.pass);
    const again = await readStream(url, { headers: { 'last-event-id': 'admitted' } });
    expect(again.status).toBe(204);
  });
});

describe('connections', () => {
  it('frees listeners and the timer when clients go away (10,000 open/close cycles)', async () => {
    // A process of its own, so rooms kept alive by other tests' polls do not count.
    const h2 = await startHarness({ ...QUEUE_ENV, REDIS_PREFIX: h.config.redis.prefix, PG_SCHEMA: h.config.db.schema! });
    const s2 = await listen(h2.app.fetch);
    const stats = async () => (await h2.call('GET', '/v1/admin/queue/connections', { token: h2.adminToken })).body;
    const streamUrl = (eventId: string, ticket: string) =>
      `${s2.url}/v1/events/${eventId}/queue/stream?ticket=${encodeURIComponent(ticket)}`;
    const ev = await queueEvent({ salesOpenAt: new Date(Date.now() + 3_600_000).toISOString() });
    const users = Array.from({ length: 100 }, (_, i) => `c${i}-${randomUUID().slice(0, 8)}`);
    const tickets = await Promise.all(users.map(async (u) => (await join(ev.id, u)).body.ticket as string));
    const before = await stats();

    const held = users.map((_, i) => watch(streamUrl(ev.id, tickets[i]!)));
    await waitUntil('100 streams open', stats, { done: (s) => s.streams >= 100, timeoutMs: 15_000, stepMs: 20 });
    expect(await stats()).toMatchObject({ streams: 100, rooms: 1, timer: true });
    for (const w of held) w.es.close();
    await waitUntil('every stream closed', stats, { done: (s) => s.streams === 0, timeoutMs: 10_000, stepMs: 20 });

    const cycles = 10_000;
    let done = 0;
    const worker = async (k: number) => {
      while (done < cycles) {
        done++;
        const ac = new AbortController();
        const res = await fetch(streamUrl(ev.id, tickets[k]!), { signal: ac.signal });
        const reader = res.body!.getReader();
        await reader.read(); // retry hint and the first position event
        ac.abort();
        await reader.cancel().catch(() => {});
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, k) => worker(k)));
    const deadline = Date.now() + 5_000;
    while ((await stats()).streams > 0 && Date.now() < deadline) await sleep(20);
    expect(await stats()).toEqual({ streams: 0, rooms: 0, timer: false });
    expect(before).toEqual({ streams: 0, rooms: 0, timer: false });
    await s2.close();
    await h2.close();
  }, 120_000);

  it('drain ends every stream with a retry hint', async () => {
    const h2 = await startHarness({ ...QUEUE_ENV, REDIS_PREFIX: h.config.redis.prefix, PG_SCHEMA: h.config.db.schema! });
    const s2 = await listen(h2.app.fetch);
    try {
      const ev = await queueEvent({ salesOpenAt: new Date(Date.now() + 3_600_000).toISOString() });
      const ticket = (await join(ev.id, `d-${randomUUID()}`)).body.ticket;
      const reading = readStream(`${s2.url}/v1/events/${ev.id}/queue/stream?ticket=${encodeURIComponent(ticket)}`);
      // Long enough for the first tick's position event even on a loaded machine.
      await sleep(1_500);
      await h2.close();
      const r = await reading;
      expect(r.events[1]).toMatchObject({ event: 'position', id: 'l-1' });
      expect(r.events.at(-1)!.retry).toBeGreaterThanOrEqual(150);
    } finally {
      await s2.close();
    }
  });
});
