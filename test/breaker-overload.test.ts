// A load peak is not an outage: holds that reach PostgreSQL after their write budget answer
// 503 + Retry-After (and are undone in Redis), but PostgreSQL answered, so its circuit
// breaker must stay closed; otherwise every buyer would be refused for BREAKER_RESET_MS.
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  // Write budget = REBUILD_QUIESCE_MS - PG_STATEMENT_TIMEOUT_MS - 250 = 250 ms.
  h = await startHarness({ REBUILD_QUIESCE_MS: '1500', PG_STATEMENT_TIMEOUT_MS: '1000', BREAKER_VOLUME: '5', RATE_LIMIT_MAX: '0' });
});
afterAll(() => h?.close());

it('holds that miss their write budget answer 503 + Retry-After, are undone, and leave the PostgreSQL breaker closed', async () => {
  const ev = await h.createEvent({ zones: [{ code: 'GA', name: 'GA', priceCents: 100, kind: 'ga', capacity: 100 }] });
  const tokens = await Promise.all(Array.from({ length: 12 }, () => h.token(`late-${randomUUID()}`)));
  // Another session holds the reservations table (SHARE mode blocks inserts) for 600 ms:
  // every hold's insert runs only after its 250 ms budget has passed.
  const blocker = postgres(h.config.db.url, { max: 1, onnotice: () => {}, connection: { search_path: h.config.db.schema! } });
  const held = blocker.begin(async (tx) => {
    await tx`lock table reservations in share mode`;
    await new Promise((r) => setTimeout(r, 600));
  });
  await new Promise((r) => setTimeout(r, 50));
  const answers = await Promise.all(tokens.map((t) => h.call('POST', `/v1/events/${ev.id}/reservations`, { token: t, body: { zone: 'GA', quantity: 1 } })));
  await held;
  await blocker.end({ timeout: 5 });
  expect(answers.map((a) => a.status)).toEqual(tokens.map(() => 503));
  for (const a of answers) {
    expect(a.body.error.code).toBe('UNAVAILABLE');
    expect(a.headers.get('retry-after')).toBe('1');
  }
  expect(h.core.breakers.state('postgres')).toBe('closed');
  // Undone in Redis and absent from PostgreSQL: the seats are all still on sale.
  const av = await h.call('GET', `/v1/events/${ev.id}/availability`);
  expect(av.body.zones.find((z: { code: string }) => z.code === 'GA')).toMatchObject({ available: 100 });
  // And the next hold, on time, is made.
  const next = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: tokens[0], body: { zone: 'GA', quantity: 1 } });
  expect(next.status).toBe(201);
});
