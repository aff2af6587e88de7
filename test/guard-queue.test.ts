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

describe('queue passes', () => {
  it("a pass for one event is refused on another event's reservations, even for its owner", async () => {
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
    // Control: each pass works on its own event.
    expect((await hold(e1.id, pass1)).status).toBe(201);
    expect((await hold(e2.id, pass2)).status).toBe(201);
    const [n] = await h.core.sql<{ n: number }[]>`select count(*)::int as n from reservations where user_id = ${sub}`;
    expect(n!.n, 'holds written').toBe(2);
  });
});
