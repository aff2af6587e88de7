import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';
import { freePort, rawRequest, spawnEntry, waitHealthy, type RawResult } from './process';
import { checkInvariants } from './invariants';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './env';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

/**
 * Robust on a loaded machine: the signal goes out once the load is really running (a count
 * of answers, not a sleep), nothing depends on how many requests fit before it, and the
 * shutdown bound is far above what a clean stop needs, so only a stop that waits out its
 * keep-alive connections (65 s) fails it.
 */
it('SIGTERM under keep-alive load: in-flight requests finish with Connection: close, idle sockets go, nothing is lost or half-done, exit 0', async () => {
  const ev = await h.createEvent({ maxSeatsPerUser: 6 });
  const port = await freePort();
  const api = spawnEntry('api', {
    NODE_ENV: 'test',
    PORT: String(port),
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: h.config.redis.prefix,
    PG_SCHEMA: h.config.db.schema!,
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT_MS: '30000',
  });
  await waitHealthy(port, api);
  const exited = new Promise<number | null>((resolve) => api.on('exit', (code) => resolve(code)));

  // 20 buyers, each on its own keep-alive connection, keep sending holds until the server
  // refuses; 10 more hold an idle keep-alive connection open.
  const results: RawResult[] = [];
  let stop = false;
  const agents = Array.from({ length: 30 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  const idle = await Promise.all(agents.slice(20).map((agent) => rawRequest(port, 'GET', '/healthz', { agent })));
  for (const r of idle) expect('status' in r && r.status).toBe(200);
  const buyers = agents.slice(0, 20).map(async (agent, i) => {
    const token = await h.token(`sd-${i}-${randomUUID()}`);
    for (let n = 0; n < 2_000 && !stop; n++) {
      const body = n % 2 ? { zone: 'FLOOR', quantity: 1 } : { seats: [`A-${1 + (n % 10)}-${1 + (i % 10)}`] };
      const r = await rawRequest(port, 'POST', `/v1/events/${ev.id}/reservations`, { token, body, agent });
      results.push(r);
      if ('error' in r) return;
    }
  });
  const started = Date.now();
  while (results.length < 60 && Date.now() - started < 30_000) await sleep(20);
  expect(results.length).toBeGreaterThanOrEqual(60);
  const signalledAt = Date.now();
  api.kill('SIGTERM');
  const code = await exited;
  const stopMs = Date.now() - signalledAt;
  stop = true;
  await Promise.all(buyers);
  for (const a of agents) a.destroy();
  console.log(`shutdown: exit ${code} ${stopMs} ms after SIGTERM, ${results.length} requests`);

  expect(code, api.output()).toBe(0);
  expect(api.output()).toContain('"msg":"stopped"');
  const answered = results.filter((r): r is Extract<RawResult, { status: number }> => 'status' in r);
  const failed = results.filter((r): r is { error: string } => 'error' in r);
  // The only failures are requests the stopping server never took: a refused connection, or
  // a reset of a connection it had closed (the PostgreSQL check below proves none of them was processed).
  for (const f of failed) expect(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']).toContain(f.error);
  // A loaded machine may answer 503 (nothing half-done) besides the usual outcomes.
  for (const r of answered) expect([201, 409, 429, 503], JSON.stringify(r.body)).toContain(r.status);
  // Requests in flight at the signal were answered with Connection: close.
  expect(answered.some((r) => r.headers?.connection === 'close')).toBe(true);

  // Every 201 is in PostgreSQL, nothing else is, and Redis agrees with PostgreSQL.
  const created = answered.filter((r) => r.status === 201).map((r) => r.body.id as string).sort();
  const rows = await h.core.sql<{ id: string }[]>`select id from reservations where event_id = ${ev.id} order by id`;
  expect(rows.map((r) => r.id)).toEqual(created);
  const inv = await checkInvariants(h, ev.id, { maxPerUser: 6 });
  expect(inv.seatDisagreements).toEqual([]);
  for (const z of inv.zones) {
    const pg = inv.perZone.find((p) => p.zone_code === z.code) ?? { held: 0, sold: 0 };
    expect(z.held).toBe(pg.held);
  }
});
