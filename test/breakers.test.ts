import { randomUUID } from 'node:crypto';
import { createServer, connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from './env';
import { startHarness, type Harness } from './harness';

/**
 * PostgreSQL behind a TCP relay the test can black-hole: packets vanish (no reset, no
 * error), the way a network partition or a frozen primary looks to the client.
 */
async function pgRelay(target: URL) {
  let down = false;
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const up = connect(Number(target.port || 5432), target.hostname);
    const pair: [Socket, Socket] = [client, up];
    pairs.add(pair);
    client.on('data', (d) => !down && up.write(d));
    up.on('data', (d) => !down && client.write(d));
    const end = () => (client.destroy(), up.destroy(), pairs.delete(pair));
    client.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: Object.assign(new URL(target.href), { port: String(port) }).href,
    blackHole: () => void (down = true),
    // Connections that lost bytes are out of step: they end, the pool opens new ones.
    restore: () => {
      for (const [c, u] of pairs) (c.destroy(), u.destroy());
      down = false;
    },
    close: () => new Promise<void>((r) => (server.close(() => r()), [...pairs].forEach(([c, u]) => (c.destroy(), u.destroy())))),
  };
}

let relay: Awaited<ReturnType<typeof pgRelay>>;
let h: Harness;
let stop = false;
beforeAll(async () => {
  relay = await pgRelay(new URL(TEST_DATABASE_URL));
  h = await startHarness({ DATABASE_URL: relay.url, BREAKER_RESET_MS: '1000', BREAKER_VOLUME: '5', RATE_LIMIT_MAX: '0' });
});
afterAll(async () => {
  stop = true;
  relay?.restore();
  await h?.close();
  await relay?.close();
});

/** Redis hold scripts run so far in this process (every outcome of lua/reserve). */
const redisHolds = async () => (await h.core.metrics.holds.outcomes.get()).values.reduce((n, v) => n + v.value, 0);

const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

it('PostgreSQL black-holed mid-sale: once the breaker opens holds answer 503 + Retry-After in milliseconds; it closes again within seconds of recovery', async () => {
  const ev = await h.createEvent({ maxSeatsPerUser: 100, zones: [{ code: 'FLOOR', name: 'Floor', priceCents: 100, kind: 'ga', capacity: 100_000 }] });
  const users = await Promise.all(Array.from({ length: 50 }, (_, i) => h.token(`cb-${i}-${randomUUID()}`)));
  const samples: { at: number; ms: number; status: number; retryAfter: string | null; breaker: string }[] = [];
  const held: { id: string; token: string }[] = [];
  async function client(token: string) {
    while (!stop) {
      const at = Date.now();
      const r = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token, body: { zone: 'FLOOR', quantity: 1 } });
      samples.push({ at, ms: Date.now() - at, status: r.status, retryAfter: r.headers.get('retry-after'), breaker: h.core.breakers.state('postgres') });
      if (r.status === 201) held.push({ id: r.body.id, token });
      // Clients back off a little (real ones wait Retry-After); it keeps the drill's own load sane.
      if (r.status === 503) await sleep(250);
    }
  }
  const clients = users.map(client);
  // Selling steadily first (the first holds load the event into Redis).
  for (let i = 0; i < 100 && samples.filter((s) => s.status === 201).length < 100; i++) await sleep(100);
  expect(samples.filter((s) => s.status === 201).length).toBeGreaterThanOrEqual(100);

  // Holds made before the outage, for confirm, cancel and checkout while the breaker is open.
  const pending = held.splice(0, held.length);
  const outageAt = Date.now();
  relay.blackHole();
  let openedAt = 0;
  while (Date.now() - outageAt < 20_000 && !openedAt) {
    if (h.core.breakers.state('postgres') === 'open') openedAt = Date.now();
    else await sleep(20);
  }
  expect(openedAt).toBeGreaterThan(0);
  const redisAtOpen = await redisHolds();
  const metrics = await h.call('GET', '/metrics');
  expect(metrics.body).toMatch(/boxoffice_breaker_state\{breaker="postgres"\} [12]/);
  // /readyz waits out its PostgreSQL check, so the breaker may be probing by then.
  const ready = await h.call('GET', '/readyz');
  expect(ready.status).toBe(503);
  expect(['open', 'half-open']).toContain(ready.body.breakers.postgres);
  // Confirm, cancel and checkout are PostgreSQL's alone: they fail fast too, while holds go on.
  const after: { kind: string; at: number; ms: number; status: number; retryAfter: string | null; breaker: string }[] = [];
  const untilMs = Date.now() + 3_000;
  const transitions = ['confirm', 'cancel', 'checkout'].flatMap((kind) => [0, 1, 2].map(async (n) => {
    for (let i = n; Date.now() < untilMs; i += 3) {
      const { id, token } = pending[i % pending.length]!;
      const breaker = h.core.breakers.state('postgres');
      const at = Date.now();
      const r = await h.call('POST', `/v1/reservations/${id}/${kind}`, { token });
      after.push({ kind, at, ms: Date.now() - at, status: r.status, retryAfter: r.headers.get('retry-after'), breaker });
      await sleep(100);
    }
  }));
  await Promise.all(transitions);

  const redisWhileOpen = (await redisHolds()) - redisAtOpen;
  const restoredAt = Date.now();
  relay.restore();
  let recoveredAt = 0;
  while (Date.now() - restoredAt < 20_000 && !recoveredAt) {
    recoveredAt = samples.find((s) => s.at >= restoredAt && s.status === 201)?.at ?? 0;
    if (!recoveredAt) await sleep(50);
  }
  await sleep(1_000);
  stop = true;
  await Promise.all(clients);
  // PostgreSQL is back: the same reservations confirm, cancel and check out as usual.
  const [toConfirm, toCancel] = [pending[0]!, pending[1]!];
  const recovered = {
    confirm: (await h.call('POST', `/v1/reservations/${toConfirm.id}/confirm`, { token: toConfirm.token })).status,
    cancel: (await h.call('POST', `/v1/reservations/${toCancel.id}/cancel`, { token: toCancel.token })).status,
    checkout: (await h.call('POST', `/v1/reservations/${pending[2]!.id}/checkout`, { token: pending[2]!.token })).body.error?.code,
  };

  // Requests sent while the breaker was open (and not yet half-open) answered fast.
  const failedFast = samples.filter((s) => s.at >= openedAt && s.at < restoredAt && s.breaker !== 'closed' && s.status === 503 && s.ms < 1_000);
  const slow = samples.filter((s) => s.at >= openedAt && s.at < restoredAt && s.ms >= 1_000);
  const lat = failedFast.map((s) => s.ms);
  const rate = (from: number, to: number) => samples.filter((s) => s.status === 201 && s.at >= from && s.at < to).length / ((to - from) / 1000);
  console.log('breaker drill', {
    openedAfterMs: openedAt - outageAt,
    probesAndStragglers: slow.length,
    slowest: failedFast.filter((s) => s.ms > 50).map((s) => `${s.at - openedAt}+${s.ms}ms ${s.breaker}`),
    whileOpen: { n: lat.length, p50: p(lat, 0.5), p99: p(lat, 0.99), max: Math.max(...lat) },
    redisHoldsWhileOpen: redisWhileOpen,
    recoveredAfterMs: recoveredAt - restoredAt,
    holdsPerSecond: { before: rate(outageAt - 500, outageAt).toFixed(0), after: rate(recoveredAt, recoveredAt + 1000).toFixed(0) },
    afterRestore: samples.filter((s) => s.at >= restoredAt).reduce<Record<string, number>>((m, s) => ((m[`${s.status} ${s.breaker}`] = (m[`${s.status} ${s.breaker}`] ?? 0) + 1), m), {}),
    statuses: samples.reduce<Record<number, number>>((m, s) => ((m[s.status] = (m[s.status] ?? 0) + 1), m), {}),
  });
  expect(lat.length).toBeGreaterThan(100);
  for (const s of failedFast) expect([s.status, s.retryAfter !== null]).toEqual([503, true]);
  expect(p(lat, 0.99)).toBeLessThan(100);
  // No Redis work while open: only the half-open probes reach the reserve script.
  expect(redisWhileOpen).toBeLessThan(lat.length / 10);
  // Never a 500, before, during or after.
  for (const s of samples) expect([201, 503]).toContain(s.status);
  expect(recoveredAt).toBeGreaterThan(0);
  expect(h.core.breakers.state('postgres')).toBe('closed');

  // Sent while the breaker was open: 503 + Retry-After in milliseconds, for each of the three.
  const fastTransitions = after.filter((s) => s.breaker === 'open');
  console.log('breaker drill: confirm, cancel, checkout while open', Object.fromEntries(['confirm', 'cancel', 'checkout'].map((kind) => {
    const xs = after.filter((s) => s.kind === kind);
    const ms = xs.filter((s) => s.breaker === 'open').map((s) => s.ms);
    return [kind, { n: xs.length, whileOpen: ms.length, p50: p(ms, 0.5), p99: p(ms, 0.99), statuses: [...new Set(xs.map((s) => s.status))] }];
  })), { recovered });
  for (const kind of ['confirm', 'cancel', 'checkout']) expect(fastTransitions.filter((s) => s.kind === kind).length).toBeGreaterThan(5);
  // Never a 500: a half-open probe that found PostgreSQL still away is a 503 as well.
  for (const s of after) expect([s.kind, s.status, s.retryAfter !== null]).toEqual([s.kind, 503, true]);
  expect(p(fastTransitions.map((s) => s.ms), 0.99)).toBeLessThan(100);
  expect(recovered).toEqual({ confirm: 200, cancel: 200, checkout: 'PAYMENTS_DISABLED' });
}, 90_000);
