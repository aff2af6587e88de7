import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

it('organiser stats: inventory per zone, cumulative holds and confirms, and the waiting room', async () => {
  const ev = await h.createEvent();
  const u = await h.token(`s-${randomUUID()}`);
  const a = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-1-1', 'A-1-2'] } });
  await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { zone: 'FLOOR', quantity: 3 } });
  await h.call('POST', `/v1/reservations/${a.body.id}/confirm`, { token: u });

  expect((await h.call('GET', `/v1/admin/events/${ev.id}/stats`, { token: u })).status).toBe(403);
  const s = await h.call('GET', `/v1/admin/events/${ev.id}/stats`, { token: h.adminToken });
  expect(s.status).toBe(200);
  expect(s.body.counters).toEqual({ holds: 2, confirms: 1 });
  expect(s.body.totals).toEqual({ capacity: 300, available: 295, held: 3, sold: 2 });
  expect(s.body.queue).toBeNull();

  const q = await h.createEvent({ queue: { enabled: true, admitPerSecond: 1, passSeconds: 60 } });
  for (let i = 0; i < 3; i++) {
    const r = await h.call('POST', `/v1/events/${q.id}/queue`, { token: await h.token(`q-${i}-${randomUUID()}`) });
    expect(r.status).toBe(201);
  }
  const sq = await h.call('GET', `/v1/admin/events/${q.id}/stats`, { token: h.adminToken });
  expect(sq.body.queue).toMatchObject({ issued: 3, admitPerSecond: 1, paused: false });
  expect(sq.body.queue.admittedUpTo + sq.body.queue.waiting).toBe(3);
});
