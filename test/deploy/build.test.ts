import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../../src/auth/jwt';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS, TEST_REDIS_URL } from '../env';
import { freePort, rawRequest, waitHealthy } from '../process';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/**
 * The production path end to end: `npm run build`, the compiled migration, then the compiled
 * API under plain node with the telemetry bootstrap, as the image runs it (no tsx anywhere).
 */
describe('npm run build: the compiled service', () => {
  const schema = `t_${Math.floor(Date.now() / 1000)}_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const secret = `jwt-${randomUUID()}`;
  let port = 0;
  let api: (ChildProcess & { output: () => string }) | undefined;
  const env = () => ({
    PATH: process.env.PATH!,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: TEST_DATABASE_URL,
    PG_SCHEMA: schema,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: `tb${randomUUID().slice(0, 8)}`,
    KAFKA_BROKERS: TEST_KAFKA_BROKERS,
    JWT_SECRET: secret,
    QUEUE_SECRET: `queue-${randomUUID()}`,
    PAYMENT_PROVIDER: 'none',
    TICKET_SIGNING_KEY: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'info',
    ACCESS_LOG: '1',
    // The SDK starts and patches http, exercising the compiled bootstrap's loader hook.
    OTEL_TRACES_EXPORTER: 'console',
  });

  beforeAll(async () => {
    await run('bash', ['scripts/build.sh'], { cwd: ROOT });
    port = await freePort();
    const mig = await run(process.execPath, ['dist/migrate.js'], { cwd: ROOT, env: env() });
    expect(mig.stdout).toMatch(/applied 00001/);
    const child = spawn(process.execPath, ['--import', './dist/telemetry/register.js', 'dist/api.js'], {
      cwd: ROOT,
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    api = Object.assign(child, { output: () => out });
    await waitHealthy(port, api);
  }, 300_000);

  afterAll(async () => {
    api?.kill('SIGTERM');
    const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    await sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await sql.end({ timeout: 5 });
  });

  it('emits every entry point the image and manifests start', () => {
    for (const f of ['api.js', 'worker.js', 'migrate.js', 'notifications.js', 'telemetry/register.js']) {
      expect(existsSync(`${ROOT}/dist/${f}`), f).toBe(true);
    }
  });

  it('is ready, serves its static files and holds seats through the Lua scripts', async () => {
    expect(await rawRequest(port, 'GET', '/readyz')).toMatchObject({ status: 200 });
    expect(await rawRequest(port, 'GET', '/static/app.css')).toMatchObject({ status: 200 });
    const admin = await signAccessToken(secret, { sub: 'admin-build', admin: true });
    const now = Date.now();
    const ev = await rawRequest(port, 'POST', '/v1/admin/events', {
      token: admin,
      body: {
        name: 'Build Night',
        startsAt: new Date(now + 86_400_000).toISOString(),
        salesOpenAt: new Date(now - 60_000).toISOString(),
        zones: [{ code: 'A', name: 'A', priceCents: 0, kind: 'seated', rows: 2, seatsPerRow: 2 }],
      },
    });
    expect(ev).toMatchObject({ status: 201 });
    const id = (ev as { body: { id: string } }).body.id;
    const buyer = await signAccessToken(secret, { sub: 'buyer-build' });
    const hold = await rawRequest(port, 'POST', `/v1/events/${id}/reservations`, {
      token: buyer,
      headers: { 'idempotency-key': randomUUID() },
      body: { seats: ['A-1-1'] },
    });
    expect(hold).toMatchObject({ status: 201, body: { status: 'held', seats: ['A-1-1'] } });
    // ACCESS_LOG=1: one line per request, by route.
    await expect
      .poll(() => api!.output(), { timeout: 5_000 })
      .toMatch(/"method":"POST","route":"\/v1\/events\/:id\/reservations","path":"\/v1\/events\/[0-9a-f-]+\/reservations","status":201,"ms":\d+,"msg":"request"/);
    // The console exporter printed the server span, named by its route: tracing is live in
    // the compiled process.
    await expect
      .poll(() => api!.output(), { timeout: 15_000 })
      .toMatch(/name: 'POST \/v1\/events\/:id\/reservations',\s+id: '\w+',\s+kind: 1,[\s\S]*?'http\.route': '\/v1\/events\/:id\/reservations'/);
  });
});
