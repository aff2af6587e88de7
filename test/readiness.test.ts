import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';

// A private Redis this test may stop and start; the shared one is never touched.
let PORT = 0;
const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
let redis: ChildProcess | null = null;
let h: Harness;

async function startRedis() {
  redis = spawn('redis-server', ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const p = spawn('redis-cli', ['-p', String(PORT), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      p.stdout!.on('data', (d) => (out += d));
      p.on('close', () => resolve(out.includes('PONG')));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error('private redis did not start');
}

async function stopRedis() {
  const p = redis!;
  redis = null;
  await new Promise((resolve) => {
    p.on('exit', resolve);
    p.kill('SIGKILL');
  });
}

beforeAll(async () => {
  PORT = await freePort();
  await startRedis();
  h = await startHarness({ REDIS_URL: `redis://127.0.0.1:${PORT}/0`, REDIS_COMMAND_TIMEOUT_MS: '300' });
});
afterAll(async () => {
  await h?.close();
  if (redis) await stopRedis();
});

async function waitForStatus(want: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let last: Awaited<ReturnType<Harness['call']>>;
  do {
    last = await h.call('GET', '/readyz');
    if (last.status === want) return last;
    await sleep(200);
  } while (Date.now() < deadline);
  return last;
}

it('/readyz turns 503 naming Redis while it is down, writes answer 503, and both recover', async () => {
  const ev = await h.createEvent();
  const u = await h.token(`r-${randomUUID()}`);
  expect((await h.call('GET', '/readyz')).status).toBe(200);

  await stopRedis();
  const down = await waitForStatus(503);
  expect(down.status).toBe(503);
  expect(down.body.checks).toMatchObject({ redis: 'down', postgres: 'up' });
  const hold = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-1-1'] } });
  expect(hold.status).toBe(503);
  expect(hold.body.error.code).toBe('UNAVAILABLE');
  expect(hold.headers.get('retry-after')).toBeTruthy();
  expect((await h.call('GET', '/healthz')).status).toBe(200);

  await startRedis(); // empty: the event's inventory is gone and must be rebuilt
  expect((await waitForStatus(200)).status).toBe(200);
  let after;
  for (let i = 0; i < 60; i++) {
    after = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-1-1'] }, headers: { 'idempotency-key': 'k1' } });
    if (after.status !== 503) break;
    await sleep(200);
  }
  expect(after!.status).toBe(201);
  const [n] = await h.core.sql`select count(*)::int as n from reservations where event_id = ${ev.id}`;
  expect(n!.n).toBe(1);
});
