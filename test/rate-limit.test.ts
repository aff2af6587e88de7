import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' });
});
afterAll(() => h.close());

it('a caller over the write limit gets 429 RATE_LIMITED with Retry-After; reads and other callers are untouched', async () => {
  const ev = await h.createEvent();
  const greedy = await h.token(`g-${randomUUID()}`);
  const other = await h.token(`o-${randomUUID()}`);
  const results = [];
  for (let i = 0; i < 7; i++) {
    results.push(await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: greedy, body: { zone: 'FLOOR', quantity: 1 } }));
  }
  expect(results.slice(0, 5).map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
  const limited = results[5]!;
  expect(limited.status).toBe(429);
  expect(limited.body.error.code).toBe('RATE_LIMITED');
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  // Nothing was held by the refused request.
  const [n] = await h.core.sql`select count(*)::int as n from reservations where event_id = ${ev.id}`;
  expect(n!.n).toBe(5);
  expect((await h.call('GET', `/v1/events/${ev.id}/availability`)).status).toBe(200);
  expect((await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: other, body: { zone: 'FLOOR', quantity: 1 } })).status).toBe(201);
});
