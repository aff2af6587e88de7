import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../src/redis/keys';
import { queueSettings } from '../src/queue/settings';
import { QueueStore, parseEntry } from '../src/queue/store';
import { startAdmissionTicker } from '../src/queue/ticker';
import type { Harness } from './harness';
import { allAdmitted, sleep, startQueueServer, watch } from './queue/helpers';

// A short idle window, so abandoned tickets go stale within the test; streams must keep
// their holders fresh (they refresh every third of it).
const QUEUE_ENV = { QUEUE_IDLE_SKIP_SECONDS: '1', QUEUE_PING_SECONDS: '1' };

let h: Harness;
let srv: Awaited<ReturnType<typeof startQueueServer>>['srv'];
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ h, srv, close: stop } = await startQueueServer(QUEUE_ENV));
});
afterAll(() => stop());

const queueEvent = (rate: number) => h.createEvent({ queue: { enabled: true, admitPerSecond: rate, passSeconds: 600 } });

describe('abandoned tickets', () => {
  it('are skipped without using the rate; watched holders are never skipped; a returning holder queues again', async () => {
    const ev = await queueEvent(10);
    const admin = h.adminToken;
    await h.call('PATCH', `/v1/admin/events/${ev.id}/queue`, { token: admin, body: { paused: true } });
    const users = Array.from({ length: 10 }, (_, i) => `k${i}-${randomUUID().slice(0, 8)}`);
    const tickets: string[] = [];
    for (const u of users) tickets.push((await h.call('POST', `/v1/events/${ev.id}/queue`, { token: await h.token(u) })).body.ticket);
    // Holders 0..4 leave; 5..9 watch their place.
    const watchers = users.slice(5).map((_, i) =>
      watch(`${srv.url}/v1/events/${ev.id}/queue/stream?ticket=${encodeURIComponent(tickets[i + 5]!)}`),
    );
    await sleep(1_600);
    const resumed = Date.now();
    await h.call('PATCH', `/v1/admin/events/${ev.id}/queue`, { token: admin, body: { paused: false } });
    const admitted = await allAdmitted(watchers, 10_000);
    // Five active holders at 10/s (one banked): about 0.4 s; without skipping it would be 0.9 s.
    expect(Math.max(...admitted.map((x) => x.at)) - resumed).toBeLessThan(750);
    const state = await h.call('GET', `/v1/admin/events/${ev.id}/queue`, { token: admin });
    expect(state.body).toMatchObject({ issued: 10, admittedUpTo: 10, admitted: 5, skipped: 5 });
    for (const w of watchers) {
      const pos = w.events.filter((e) => e.data.status === 'waiting').map((e) => e.data.position);
      expect(pos).toEqual([...pos].sort((x, y) => y - x));
    }

    // The first leaver comes back: same ticket, a new place at the back.
    const back = await h.call('GET', `/v1/events/${ev.id}/queue?ticket=${encodeURIComponent(tickets[0]!)}`);
    expect(back.status).toBe(200);
    const entry = parseEntry(await h.core.redis.hget(queueKeys(h.config.redis.prefix, ev.id).users, users[0]!));
    expect(entry && entry.kind !== 'lobby' && entry.number).toBe(11);
    const rejoin = await h.call('POST', `/v1/events/${ev.id}/queue`, { token: await h.token(users[0]!) });
    expect([rejoin.status, rejoin.body.ticket]).toEqual([200, tickets[0]]);
    for (const w of watchers) w.es.close();
  });

  it('the worker ticker advances admission with no stream or poll anywhere', async () => {
    const ev = await queueEvent(20);
    const event = (await h.core.catalog.get(ev.id))!;
    const store = new QueueStore(h.core.redis, h.config.redis.prefix, queueSettings(h.config.queue));
    for (let i = 0; i < 10; i++) await store.join(event, `w${i}-${randomUUID().slice(0, 8)}`);
    const admittedNow = async () => Number(await h.core.redis.hget(queueKeys(h.config.redis.prefix, ev.id).state, 'admitted'));
    const first = await admittedNow();
    await sleep(300);
    expect(await admittedNow()).toBe(first); // nobody drives it

    const stop = startAdmissionTicker(h.core.queue, h.core.logger);
    try {
      const t = Date.now();
      while ((await admittedNow()) < 10 && Date.now() - t < 3_000) await sleep(25);
      expect(await admittedNow()).toBe(10);
      expect(Date.now() - t).toBeLessThan(900); // nine left at 20/s: 0.45 s
    } finally {
      await stop();
    }
  });

  it('pings every open stream (here every second)', async () => {
    const ev = await h.createEvent({
      salesOpenAt: new Date(Date.now() + 3_600_000).toISOString(),
      queue: { enabled: true, admitPerSecond: 10, passSeconds: 600 },
    });
    const ticket = (await h.call('POST', `/v1/events/${ev.id}/queue`, { token: await h.token(`p-${randomUUID()}`) })).body.ticket;
    const ac = new AbortController();
    const res = await fetch(`${srv.url}/v1/events/${ev.id}/queue/stream?ticket=${encodeURIComponent(ticket)}`, { signal: ac.signal });
    const reader = res.body!.getReader();
    const started = Date.now();
    let text = '';
    while (!text.includes(': ping\n\n') && Date.now() - started < 3_000) {
      text += new TextDecoder().decode((await reader.read()).value);
    }
    ac.abort();
    expect(text).toContain(': ping\n\n');
    expect(text).toMatch(/^retry: \d+\n\nid: l-1\nevent: position\ndata: \{"status":"lobby"/);
  });
});
