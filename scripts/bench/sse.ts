// One API process holding many concurrent waiting-room SSE streams: resident memory per
// stream, CPU, and Redis commands per second at 0 / 1k / 5k / 10k open streams, and the
// durable hold throughput (wrk, 64 connections) with no streams and with 5,000 open.
// Usage: npm run bench:sse [-- --streams 10000 --rate 5 --window 10]
// Uses the boxoffice_bench database and Redis db 3 (BENCH_DATABASE_URL / BENCH_REDIS_URL).
//
// The API runs as a child process (this same file with --serve) so its figures are its
// own; this process only plays the 10,000 clients. Redis commands are counted in the API
// process (every command it sends, EVALSHA = 1), so other Redis users do not skew them.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { prefixPattern } from '../../src/redis/keys';
import { ensureWrk, runWrk, type WrkRequest } from './suite/wrk';

type Stats = { rss: number; heapUsed: number; liveHeap: number; cpuUs: number; redisCommands: number; streams: number; at: number };

const env = {
  ...process.env,
  NODE_ENV: 'development',
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/boxoffice_bench',
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/3',
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  PORT: '0',
  // One client address plays every buyer: the per-address join limit would refuse it.
  QUEUE_JOIN_LIMIT_PER_ADDRESS: '0',
};

if (process.argv.includes('--serve')) await serveChild();
else await drive();

/** The API process under test: the real app, plus a Redis command counter and a stats channel. */
async function serveChild(): Promise<void> {
  const { serve } = await import('@hono/node-server');
  const { loadConfig } = await import('../../src/config/config');
  const { createCore } = await import('../../src/core');
  const { createApp } = await import('../../src/app');
  const { createLogger } = await import('../../src/shared/logger');
  const config = loadConfig(process.env);
  const core = createCore(config, createLogger(config.logLevel, 'bench-sse'), 'bench-sse');
  let redisCommands = 0;
  let forcedGcUs = 0;
  const send = core.redis.sendCommand.bind(core.redis);
  core.redis.sendCommand = ((...args: Parameters<typeof send>) => {
    redisCommands++;
    return send(...args);
  }) as typeof send;
  const { app, drain } = createApp({ core, readiness: {} });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => process.send!({ port: info.port }));
  (server as http.Server).timeout = 0;
  (server as http.Server).keepAliveTimeout = 65_000;
  process.on('message', async (m: { cmd: string }) => {
    if (m.cmd === 'stats') {
      const mem = process.memoryUsage();
      // Retained heap: what the streams really keep, garbage aside. The forced collection's
      // own CPU is left out of the CPU figure.
      const before = process.cpuUsage();
      (globalThis as { gc?: () => void }).gc?.();
      const liveHeap = process.memoryUsage().heapUsed;
      const gcCost = process.cpuUsage(before);
      forcedGcUs += gcCost.user + gcCost.system;
      const cpu = process.cpuUsage();
      const streams = await (await app.request('/v1/admin/queue/connections', {
        headers: { authorization: `Bearer ${process.env.BENCH_ADMIN_TOKEN}` },
      })).json() as { streams: number };
      process.send!({ rss: mem.rss, heapUsed: mem.heapUsed, liveHeap, cpuUs: cpu.user + cpu.system - forcedGcUs, redisCommands, streams: streams.streams, at: Date.now() });
    } else if (m.cmd === 'stop') {
      await drain();
      server.close();
      await core.close();
      process.exit(0);
    }
  });
}

type Driver = {
  base: string;
  adminToken: string;
  jwtSecret: string;
  request: (method: string, path: string, token: string, body?: unknown) => Promise<{ status: number; json: any }>;
  stats: () => Promise<Stats>;
};

async function drive(): Promise<void> {
  const { values } = parseArgs({
    options: {
      streams: { type: 'string', default: '10000' },
      rate: { type: 'string', default: '5' },
      window: { type: 'string', default: '10' },
    },
  });
  const total = Number(values.streams);
  const rate = Number(values.rate);
  const windowS = Number(values.window);
  const { loadConfig } = await import('../../src/config/config');
  const { ensureDatabase, migrate } = await import('../../src/db/migrate');
  const { signAccessToken } = await import('../../src/auth/jwt');
  const { default: postgres } = await import('postgres');

  const prefix = `benchsse${randomUUID().slice(0, 6)}`;
  const config = loadConfig({ ...env, REDIS_PREFIX: prefix });
  await ensureDatabase(config.db.url);
  const sql = postgres(config.db.url, { max: 1, onnotice: () => {} });
  await migrate(sql as never);
  const adminToken = await signAccessToken(config.jwtSecret, { sub: 'bench-admin', admin: true, ttlSeconds: 7200 });
  const { child, driver, agent } = await startServer(prefix, adminToken, config.jwtSecret);

  const eventId = await pausedEvent(driver, rate);
  const tickets = await joinAll(driver, eventId, total);
  await driver.request('PATCH', `/v1/admin/events/${eventId}/queue`, adminToken, { paused: false });
  console.log(`API pid ${child.pid}; event ${eventId}; admission ${rate}/s; ${windowS}s windows`);
  const streams = streamClient(driver.base, eventId);
  const idle = await measure(driver, streams, 'no streams', null, windowS);
  ensureWrk();
  const holds = await holdRequests(driver);
  const holdsIdle = await holdRun(driver, holds, 'no streams', windowS);
  let holdsAt5k: number | null = null;
  let opened = 0;
  for (const level of [1_000, 5_000, total].filter((n, i, a) => n <= total && a.indexOf(n) === i)) {
    while (opened < level) {
      const batch = tickets.slice(opened, Math.min(level, opened + 500));
      await Promise.all(batch.map(streams.open));
      opened += batch.length;
    }
    await measure(driver, streams, `${level} open`, idle, windowS);
    if (level === 5_000) holdsAt5k = await holdRun(driver, holds, '5000 open', windowS);
  }
  if (holdsAt5k !== null) console.log(`holds/s with 5,000 streams open: ${(holdsAt5k / holdsIdle).toFixed(2)} × without (target ≥ 0.9)`);
  streams.closeAll();
  await new Promise((r) => setTimeout(r, 1_000));
  const after = await driver.stats();
  console.log(`after closing: streams=${after.streams} rssMiB=${(after.rss / 2 ** 20).toFixed(1)}; client saw ${streams.events()} events, ${(streams.bytes() / 2 ** 20).toFixed(1)} MiB`);

  child.send({ cmd: 'stop' });
  await new Promise((r) => child.once('exit', r));
  agent.destroy();
  await cleanUp(config.redis.url, prefix);
  await sql`delete from events where id = ${eventId}`;
  await sql.end({ timeout: 5 });
}

/** The API child (this file with --serve), a keep-alive JSON client and its stats channel. */
async function startServer(prefix: string, adminToken: string, jwtSecret: string): Promise<{ child: ChildProcess; driver: Driver; agent: http.Agent }> {
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--serve'], {
    env: { ...env, REDIS_PREFIX: prefix, BENCH_ADMIN_TOKEN: adminToken },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // A driver that fails must not leave its API child behind (it holds the pipe open).
  process.once('exit', () => child.kill());
  const port = await new Promise<number>((r) => child.once('message', (m: { port: number }) => r(m.port)));
  const stats = () =>
    new Promise<Stats>((r) => {
      child.once('message', (m: Stats) => r(m));
      child.send({ cmd: 'stats' });
    });
  const base = `http://127.0.0.1:${port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const request = (method: string, path: string, token: string, body?: unknown) =>
    new Promise<{ status: number; json: any }>((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(`${base}${path}`, {
        method,
        agent,
        headers: { authorization: `Bearer ${token}`, ...(data ? { 'content-type': 'application/json' } : {}) },
      }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : null }));
      });
      req.on('error', reject);
      req.end(data);
    });
  return { child, agent, driver: { base, adminToken, jwtSecret, request, stats } };
}

/** Durable GA holds of distinct buyers on an event without a waiting room. */
async function holdRequests(d: Driver): Promise<WrkRequest[]> {
  const { signAccessToken } = await import('../../src/auth/jwt');
  const created = await d.request('POST', '/v1/admin/events', d.adminToken, {
    name: 'SSE bench holds',
    startsAt: new Date(Date.now() + 86_400_000).toISOString(),
    salesOpenAt: new Date(Date.now() - 1_000).toISOString(),
    // Both runs cycle through the same buyers: the per-user limit must not answer for them.
    maxSeatsPerUser: 100,
    zones: [{ code: 'GA', name: 'GA', priceCents: 100, kind: 'ga', capacity: 250_000 }],
  });
  if (created.status !== 201) throw new Error(`create event: ${created.status} ${JSON.stringify(created.json)}`);
  const body = JSON.stringify({ zone: 'GA', quantity: 1 });
  const tokens = await Promise.all(Array.from({ length: 5_000 }, (_, i) => signAccessToken(d.jwtSecret, { sub: `sse-holder-${i}`, ttlSeconds: 7200 })));
  return tokens.map((t) => ({ method: 'POST', path: `/v1/events/${created.json.id}/reservations`, headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body }));
}

async function holdRun(d: Driver, requests: WrkRequest[], label: string, seconds: number): Promise<number> {
  const port = Number(new URL(d.base).port);
  const r = await runWrk({ port, requests, connections: 64, threads: 2, seconds });
  console.log(`${label.padEnd(12)} holds: ${Math.round(r.rps)} req/s, p99 ${r.latencyMs.p99} ms, statuses ${JSON.stringify(r.statuses)}`);
  return r.rps;
}

/** A queue event held paused while everybody joins, so all of them wait when streams open. */
async function pausedEvent(d: Driver, rate: number): Promise<string> {
  const created = await d.request('POST', '/v1/admin/events', d.adminToken, {
    name: 'SSE bench',
    startsAt: new Date(Date.now() + 86_400_000).toISOString(),
    salesOpenAt: new Date(Date.now() - 1_000).toISOString(),
    queue: { enabled: true, admitPerSecond: rate, passSeconds: 900 },
    zones: [{ code: 'GA', name: 'GA', priceCents: 100, kind: 'ga', capacity: 1000 }],
  });
  if (created.status !== 201) throw new Error(`create event: ${created.status} ${JSON.stringify(created.json)}`);
  const eventId: string = created.json.id;
  await d.request('PATCH', `/v1/admin/events/${eventId}/queue`, d.adminToken, { paused: true });
  return eventId;
}

async function joinAll(d: Driver, eventId: string, total: number): Promise<string[]> {
  const { signAccessToken } = await import('../../src/auth/jwt');
  console.log(`joining ${total} buyers ...`);
  const tickets: string[] = new Array(total);
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < total) {
        const i = next++;
        const token = await signAccessToken(d.jwtSecret, { sub: `sse-${i}`, ttlSeconds: 7200 });
        const r = await d.request('POST', `/v1/events/${eventId}/queue`, token);
        if (r.status !== 201) throw new Error(`join ${i}: ${r.status}`);
        tickets[i] = r.json.ticket;
      }
    }),
  );
  return tickets;
}

type Streams = { open: (ticket: string) => Promise<void>; closeAll: () => void; events: () => number; bytes: () => number };

/** One socket per stream (no agent), counting SSE events and bytes as they arrive. */
function streamClient(base: string, eventId: string): Streams {
  let events = 0;
  let bytes = 0;
  const sockets: http.ClientRequest[] = [];
  const open = (ticket: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.get(`${base}/v1/events/${eventId}/queue/stream?ticket=${encodeURIComponent(ticket)}`, { agent: false }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`stream: ${res.statusCode}`));
        res.on('data', (d: Buffer) => {
          bytes += d.length;
          for (let i = d.indexOf('event:'); i >= 0; i = d.indexOf('event:', i + 1)) events++;
        });
        res.on('error', () => {});
        resolve();
      });
      req.on('error', reject);
      sockets.push(req);
    });
  return { open, closeAll: () => sockets.forEach((s) => s.destroy()), events: () => events, bytes: () => bytes };
}

/** One window at the current stream count: memory per stream, CPU, Redis commands/s. */
async function measure(d: Driver, streams: Streams, label: string, idle: Stats | null, windowS: number): Promise<Stats> {
  await new Promise((r) => setTimeout(r, 3_000)); // settle
  const a = await d.stats();
  const e0 = streams.events();
  await new Promise((r) => setTimeout(r, windowS * 1000));
  const b = await d.stats();
  const s = (b.at - a.at) / 1000;
  const row = {
    streams: b.streams,
    rssMiB: +(b.rss / 2 ** 20).toFixed(1),
    heapMiB: +(b.heapUsed / 2 ** 20).toFixed(1),
    liveHeapMiB: +(b.liveHeap / 2 ** 20).toFixed(1),
    rssPerStreamKiB: idle && b.streams ? +((b.rss - idle.rss) / b.streams / 1024).toFixed(1) : null,
    liveHeapPerStreamKiB: idle && b.streams ? +((b.liveHeap - idle.liveHeap) / b.streams / 1024).toFixed(1) : null,
    cpuPercent: +(((b.cpuUs - a.cpuUs) / 1e6 / s) * 100).toFixed(1),
    redisCmdsPerSec: +((b.redisCommands - a.redisCommands) / s).toFixed(1),
    sseEventsPerSec: +((streams.events() - e0) / s).toFixed(0),
  };
  console.log(label.padEnd(12), JSON.stringify(row));
  return b;
}

async function cleanUp(redisUrl: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(prefixPattern(prefix));
  if (keys.length) await redis.del(...keys);
  await redis.quit();
}
