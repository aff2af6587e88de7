/**
 * Waiting-room promises with a backlog in place: admission follows elapsed time x rate
 * across rate changes and pauses (no jump), and a pass works only for the event it names.
 * Bounds come from the wall clock measured around the calls, so a slow machine widens them
 * instead of failing them.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from './harness';
import { startQueueServer } from './queue/helpers';

let h: Harness;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ h, close: stop } = await startQueueServer());
});
afterAll(() => stop());

describe('admission with a backlog', () => {
  it('a rate change, a pause and a resume admit no more than elapsed time x rate', async () => {
    const rate = 10;
    const ev = await h.createEvent({ queue: { enabled: true, admitPerSecond: rate, passSeconds: 600 } });
    const admin = h.adminToken;
    const patch = async (body: unknown) => {
      const r = await h.call('PATCH', `/v1/admin/events/${ev.id}/queue`, { token: admin, body });
      expect(r.status, `PATCH ${JSON.stringify(body)}`).toBe(200);
      return r.body as { admittedUpTo: number; issued: number; paused: boolean };
    };
    const read = async () => (await h.call('GET', `/v1/admin/events/${ev.id}/queue`, { token: admin })).body as { admittedUpTo: number; issued: number };

    await patch({ paused: true });
    await Promise.all(Array.from({ length: 60 }, async (_, i) => {
      const j = await h.call('POST', `/v1/events/${ev.id}/queue`, { token: await h.token(`b${i}-${randomUUID()}`) });
      expect(j.status).toBe(201);
    }));
    await patch({ paused: false });
    await sleep(1_000);

    /** Admissions between two reads may only follow the time that passed between them. */
    const step = async (what: string, act: () => Promise<{ admittedUpTo: number }>) => {
      const t0 = Date.now();
      const before = (await read()).admittedUpTo;
      const after = (await act()).admittedUpTo;
      const allowed = Math.ceil(((Date.now() - t0) / 1000) * rate) + 1;
      expect(after - before, `${what}: admitted ${before} -> ${after}, time allowed at most +${allowed}`).toBeLessThanOrEqual(allowed);
      return after;
    };

    const before = (await read()).admittedUpTo;
    // A real backlog: some admitted, many still waiting.
    expect(before, 'admitted after 1 s at 10/s').toBeGreaterThanOrEqual(5);
    expect(before, 'still a backlog').toBeLessThan(30);

    // The "change" to the same rate must not count the time since the last rebase twice.
    await step('rate 10/s -> 10/s', () => patch({ admitPerSecond: rate }));
    const paused = await step('pause', () => patch({ paused: true }));
    await sleep(800);
    // The paused time is not admitted on resume.
    const resumed = await step('resume after 0.8 s paused', () => patch({ paused: false }));
    expect(resumed - paused, 'admitted by resuming').toBeLessThanOrEqual(2);
    const state = await read();
    expect(state.admittedUpTo, 'backlog left').toBeLessThan(state.issued);
  });
});

describe('lobby and idle allowance', () => {
  it('buyers who join before opening are shuffled once at opening: a permutation of 1..N, not the join order', async () => {
    const openAt = Date.now() + 3_000;
    const ev = await h.createEvent({ salesOpenAt: new Date(openAt).toISOString(), queue: { enabled: true, admitPerSecond: 1, passSeconds: 600 } });
    // Paused from before opening, so positions after the shuffle are the drawn numbers themselves.
    expect((await h.call('PATCH', `/v1/admin/events/${ev.id}/queue`, { token: h.adminToken, body: { paused: true } })).status).toBe(200);
    const tickets: string[] = [];
    for (let i = 0; i < 30; i++) {
      const j = await h.call('POST', `/v1/events/${ev.id}/queue`, { token: await h.token(`l${i}-${randomUUID()}`) });
      expect(j.body.status, `join ${i} before opening`).toBe('lobby');
      tickets.push(j.body.ticket);
    }
    expect(Date.now(), 'all joined inside the lobby').toBeLessThan(openAt);
    await sleep(Math.max(0, openAt - Date.now() + 100));
    const positions: number[] = [];
    for (const t of tickets) {
      const p = await h.call('GET', `/v1/events/${ev.id}/queue?ticket=${encodeURIComponent(t)}`);
      expect(p.body.status, 'waiting after opening').toBe('waiting');
      positions.push(p.body.position);
    }
    expect([...positions].sort((a, b) => a - b), 'every early buyer got one number').toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // The chance that a fair shuffle keeps the join order is 1/30!.
    expect(positions, 'lobby order after opening').not.toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('a long-idle open queue banks at most one admission: a crowd arriving after the quiet spell still goes in at the rate', async () => {
    // Sales opened a minute ago (60 admissions' worth of time at 1/s), nobody came until now.
    const ev = await h.createEvent({ queue: { enabled: true, admitPerSecond: 1, passSeconds: 600 } });
    const t0 = Date.now();
    const joins = await Promise.all(Array.from({ length: 10 }, async (_, i) =>
      h.call('POST', `/v1/events/${ev.id}/queue`, { token: await h.token(`c${i}-${randomUUID()}`) })));
    const elapsed = (Date.now() - t0) / 1000;
    const admitted = joins.filter((j) => j.body.status === 'admitted').length;
    const allowed = 1 + Math.ceil(elapsed * 1) + 1;
    expect(admitted, `admitted at once out of 10 after an idle minute at 1/s (joins took ${elapsed.toFixed(2)} s)`).toBeLessThanOrEqual(allowed);
    expect(admitted, 'the banked one').toBeGreaterThanOrEqual(1);
  });
});

describe('queue passes', () => {
  it("a pass for one event is refused on another event's reservations, even for its owner, and for another buyer", async () => {
    const queue = { enabled: true, admitPerSecond: 1000, passSeconds: 600 };
    const [e1, e2] = await Promise.all([h.createEvent({ queue }), h.createEvent({ queue })]);
    const sub = `p-${randomUUID()}`;
    const token = await h.token(sub);
    const join = async (eventId: string) => {
      const j = await h.call('POST', `/v1/events/${eventId}/queue`, { token });
      expect([j.status, j.body.status], `join ${eventId}`).toEqual([201, 'admitted']);
      return j.body.pass as string;
    };
    const pass1 = await join(e1.id);
    const pass2 = await join(e2.id);
    const hold = (eventId: string, pass: string) =>
      h.call('POST', `/v1/events/${eventId}/reservations`, { token, body: { zone: 'FLOOR', quantity: 1 }, headers: { 'x-queue-pass': pass } });

    const foreign = await hold(e2.id, pass1);
    expect([foreign.status, foreign.body.error?.code], `event 1's pass on event 2: ${JSON.stringify(foreign.body)}`).toEqual([403, 'QUEUE_PASS_REQUIRED']);
    const foreignBack = await hold(e1.id, pass2);
    expect([foreignBack.status, foreignBack.body.error?.code], "event 2's pass on event 1").toEqual([403, 'QUEUE_PASS_REQUIRED']);
    // Bound to its owner too: another buyer with this pass is refused.
    const other = await h.token(`o-${randomUUID()}`);
    const borrowed = await h.call('POST', `/v1/events/${e1.id}/reservations`, { token: other, body: { zone: 'FLOOR', quantity: 1 }, headers: { 'x-queue-pass': pass1 } });
    expect([borrowed.status, borrowed.body.error?.code], `another buyer with this pass: ${JSON.stringify(borrowed.body)}`).toEqual([403, 'QUEUE_PASS_REQUIRED']);
    // Control: each pass works on its own event.
    expect((await hold(e1.id, pass1)).status).toBe(201);
    expect((await hold(e2.id, pass2)).status).toBe(201);
    const [n] = await h.core.sql<{ n: number }[]>`select count(*)::int as n from reservations where user_id = ${sub}`;
    expect(n!.n, 'holds written').toBe(2);
  });
});
