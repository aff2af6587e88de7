// Streams a 1,000,000-reservation export through the real route, once writing one HTTP chunk
// per row (STREAM_CHUNK_BYTES=1) and once in 32 KiB chunks (plus 32 KiB + gzip), and prints
// chunks written, wall time, CPU, rows/s and peak RSS of this (server) process. The client is
// curl in its own process, so its CPU and memory are not counted.
// Usage: npm run bench:export [-- --rows 1000000]   (boxoffice_bench database, Redis db 3;
// the event and its rows are deleted at the end)
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { OpenAPIHono } from '@hono/zod-openapi';
import { signAccessToken } from '../../src/auth/jwt';
import { loadConfig } from '../../src/config/config';
import { createCore } from '../../src/core';
import { ensureDatabase, migrate } from '../../src/db/migrate';
import { exportRoutes } from '../../src/exports/routes';
import { requireAuth, type AuthEnv } from '../../src/http/auth';
import { toErrorResponse } from '../../src/http/error-boundary';
import { createLogger } from '../../src/shared/logger';
import type { StreamStats } from '../../src/streaming/chunked-stream';

const argRows = process.argv.indexOf('--rows');
const ROWS = argRows > 0 ? Number(process.argv[argRows + 1]) : 1_000_000;
const config = loadConfig({
  ...process.env,
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/boxoffice_bench',
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/3',
  REDIS_PREFIX: `bench${randomUUID().slice(0, 6)}`,
});
await ensureDatabase(config.db.url);
const logger = createLogger('warn', 'bench');
const core = createCore(config, logger, 'bench-export');
await migrate(core.sql);

const eventId = randomUUID();
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function seed() {
  const t0 = performance.now();
  await core.sql.begin(async (tx) => {
    await tx`set local statement_timeout = 0`;
    await tx`insert into events (id, name, starts_at, sales_open_at, sales_close_at, hold_seconds, max_seats_per_user)
      values (${eventId}, 'export bench', now() + interval '1 day', now() - interval '1 day', now() + interval '1 day', 600, 6)`;
    await tx`insert into zones (event_id, code, name, price_cents, kind, capacity, position)
      values (${eventId}, 'GA', 'General admission', 5000, 'ga', ${ROWS}, 0)`;
    // Ordered keys keep the index inserts sequential: ~3x faster than random UUIDs.
    const prefix = eventId.slice(0, 23);
    await tx`insert into reservations (id, event_id, user_id, zone_code, quantity, total_cents, status,
        idempotency_key, request_hash, expires_at, created_at, confirmed_at)
      select (${prefix} || '-' || lpad(to_hex(g), 12, '0'))::uuid, ${eventId}, 'user-' || lpad((g / 4)::text, 7, '0'),
        'GA', 1 + g % 4, 5000 * (1 + g % 4), case when g % 3 = 0 then 'held' else 'confirmed' end,
        ${eventId} || g, 'h', now() + interval '10 minutes', now() - make_interval(secs => g),
        case when g % 3 = 0 then null else now() end
      from generate_series(1, ${ROWS}::int) g`;
  });
  await core.sql`analyze reservations`;
  console.log(`seeded ${ROWS.toLocaleString('en')} reservations in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function cleanup() {
  await core.sql.begin(async (tx) => {
    await tx`set local statement_timeout = 0`;
    await tx`delete from reservations where event_id = ${eventId}`;
    await tx`delete from events where id = ${eventId}`;
  });
}

type Run = { label: string; chunkBytes: number; gzip: boolean };

async function run(r: Run, token: string) {
  let stats: StreamStats | undefined;
  const app = new OpenAPIHono<AuthEnv>();
  exportRoutes(app, core.exports, { auth: requireAuth(core.auth), logger, chunkBytes: r.chunkBytes, onFinish: (s) => (stats = s) });
  app.onError((err, c) => toErrorResponse(err, c, logger));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  if (!server.listening) await new Promise((res) => server.once('listening', res));
  const port = (server.address() as AddressInfo).port;

  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const args = ['-sS', '-o', '/dev/null', '-w', '%{size_download}', '-H', `authorization: Bearer ${token}`];
  if (r.gzip) args.push('-H', 'accept-encoding: gzip');
  const { stdout } = await promisify(execFile)('curl', [...args, `http://127.0.0.1:${port}/v1/admin/events/${eventId}/reservations/export`]);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  await new Promise((res) => server.close(res));
  if (stats?.outcome !== 'complete' || stats.rows !== ROWS) throw new Error(`${r.label}: export did not complete: ${JSON.stringify(stats)}`);
  return {
    label: r.label,
    rows: stats.rows,
    chunks: stats.chunks,
    avgChunk: stats.bytes / stats.chunks,
    sent: Number(stdout),
    wall,
    cpu: (cpu.user + cpu.system) / 1e6,
    rowsPerS: stats.rows / wall,
    rssBefore,
    peak,
  };
}

try {
  await seed();
  const token = await signAccessToken(config.jwtSecret, { sub: 'bench-admin', admin: true });
  const runs: Run[] = [
    { label: 'per-row writes', chunkBytes: 1, gzip: false },
    { label: '32 KiB chunks', chunkBytes: 32 * 1024, gzip: false },
    { label: '32 KiB chunks + gzip', chunkBytes: 32 * 1024, gzip: true },
  ];
  const results = [];
  for (const r of runs) results.push(await run(r, token));
  console.log(`\nexport of ${ROWS.toLocaleString('en')} reservations, NDJSON, client = curl (separate process), node ${process.version}, ${ROWS} rows`);
  console.table(
    results.map((x) => ({
      mode: x.label,
      'chunks written': x.chunks.toLocaleString('en'),
      'avg chunk': `${x.avgChunk.toFixed(0)} B`,
      'bytes on wire': mib(x.sent),
      'wall s': x.wall.toFixed(2),
      'CPU s': x.cpu.toFixed(2),
      'rows/s': Math.round(x.rowsPerS).toLocaleString('en'),
      'RSS before': mib(x.rssBefore),
      'peak RSS': mib(x.peak),
    })),
  );
  const [perRow, chunked] = results;
  console.log(
    `32 KiB chunks vs per-row: ${(perRow!.chunks / chunked!.chunks).toFixed(0)}x fewer chunks, ` +
      `${(perRow!.wall / chunked!.wall).toFixed(2)}x wall time, ${(perRow!.cpu / chunked!.cpu).toFixed(2)}x CPU`,
  );
} finally {
  await cleanup();
  await core.close();
}
