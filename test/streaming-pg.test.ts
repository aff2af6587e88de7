/**
 * The streaming helper over a real PostgreSQL cursor and a real socket (@hono/node-server):
 * chunk framing on the wire, empty and one-row results, statement_timeout, errors part-way,
 * a client that leaves, a client that reads slowly, and a 1,000,000-row export under an RSS
 * budget. Rows come from generate_series shaped like export rows, so nothing big is stored.
 */
import { randomUUID } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { Hono } from 'hono';
import pino from 'pino';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config';
import { createSql, type Sql } from '../src/db/client';
import { exportCsv, exportNdjson, type ExportRow } from '../src/exports/reservations';
import type { StreamStats } from '../src/streaming/chunked-stream';
import { cursorBatches } from '../src/streaming/pg-cursor';
import { gzipWhenAccepted, streamResponse } from '../src/streaming/response';
import { listen, rawGet } from '../src/streaming/testing/raw-http';
import { TEST_DATABASE_URL } from './env';

const CHUNK = 32 * 1024;
const appName = `stream-test-${randomUUID().slice(0, 8)}`;
let sql: Sql;
let observer: postgres.Sql;
let server: Awaited<ReturnType<typeof listen>>;
let port: number;
const logs: { level: number; msg: string; err?: { message: string } }[] = [];
let lastStats: StreamStats | undefined;
const pulled = { rows: 0 };

/** Export-shaped rows; `failAt` makes row number failAt divide by zero inside PostgreSQL. */
const rowsQuery = (tx: postgres.ReservedSql<Record<string, never>>, n: number, failAt: number) => tx<ExportRow[]>`
  select ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0')) as id,
    'user-' || (g % 977) as user_id,
    case when g % 3 = 0 then 'held' else 'confirmed' end as status,
    'A' as zone_code,
    1 + g % 4 + 0 * (1 / (${failAt}::int - g)) as quantity,
    array['A-' || (g % 50 + 1) || '-' || (g % 40 + 1)] as seats,
    (9000 * (1 + g % 4))::bigint as total_cents,
    timestamptz '2026-01-01T00:00:00Z' + make_interval(secs => g) as created_at,
    case when g % 3 = 0 then null else timestamptz '2026-01-02T00:00:00Z' end as confirmed_at
  from generate_series(1, ${n}::int) g`;

async function* counted<T>(src: AsyncIterable<T[]>) {
  for await (const batch of src) {
    pulled.rows += batch.length;
    yield batch;
  }
}

const states = async () =>
  (await observer<{ state: string }[]>`select state from pg_stat_activity where application_name = ${appName}`).map((r) => r.state);

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  // One connection, and the test harness's short statement_timeout: a leaked connection or a
  // cursor killed by the timeout shows up at once.
  const cfg = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: TEST_DATABASE_URL,
    PG_POOL_MAX: '1',
    PG_STATEMENT_TIMEOUT_MS: '250',
  } as NodeJS.ProcessEnv);
  sql = createSql(cfg.db, { applicationName: appName });
  observer = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s)) });

  const app = new Hono();
  app.get('/rows', gzipWhenAccepted(), (c) => {
    const n = Number(c.req.query('n') ?? 0);
    const failAt = Number(c.req.query('failAt') ?? 0);
    const csv = c.req.query('format') === 'csv';
    const source = counted(cursorBatches(sql, (tx) => rowsQuery(tx, n, failAt), 500));
    return streamResponse(source, csv ? exportCsv : exportNdjson, {
      contentType: csv ? 'text/csv' : 'application/x-ndjson',
      chunkBytes: Number(c.req.query('chunk') ?? CHUNK),
      signal: c.req.raw.signal,
      logger,
      onFinish: (s) => (lastStats = s),
    });
  });
  app.get('/slow', (c) =>
    streamResponse(cursorBatches(sql, (tx) => tx<{ g: number }[]>`select g, pg_sleep(0.002) from generate_series(1, 300) g`, 50), { row: (r) => `${r.g}\n` }, {
      contentType: 'text/plain',
      logger,
    }),
  );
  server = await listen(app.fetch);
  port = server.port;
  await sql`select 1`;
});

afterAll(async () => {
  await server?.close();
  await sql?.end({ timeout: 5 });
  await observer?.end({ timeout: 5 });
});

const lines = (body: Buffer) => body.toString('utf8').split('\n').filter(Boolean);

describe('streaming from a PostgreSQL cursor', () => {
  it('leaves the process in chunks of at least 32 KiB, each ending at a row end', async () => {
    const res = await rawGet(port, '/rows?n=20000');
    expect(res.status).toBe(200);
    expect(res.complete).toBe(true);
    expect(res.chunks.length).toBeGreaterThan(20);
    res.chunks.forEach((c, i) => {
      if (i < res.chunks.length - 1) expect(c.length).toBeGreaterThanOrEqual(CHUNK);
      expect(c.at(-1)).toBe(0x0a);
    });
    const rows = lines(Buffer.concat(res.chunks)).map((l) => JSON.parse(l));
    expect(rows).toHaveLength(20_000);
    expect(rows[0]).toEqual({
      id: '00000000-0000-4000-8000-000000000001',
      userId: 'user-1',
      status: 'confirmed',
      zone: 'A',
      quantity: 2,
      seats: ['A-2-2'],
      totalCents: 18000,
      createdAt: '2026-01-01T00:00:01.000Z',
      confirmedAt: '2026-01-02T00:00:00.000Z',
    });
    expect(rows.at(-1).id).toBe('00000000-0000-4000-8000-000000004e20');
    expect(lastStats).toMatchObject({ rows: 20_000, chunks: res.chunks.length, outcome: 'complete' });
  });

  it('per-row mode (chunk=1) writes one HTTP chunk per row: the count the 32 KiB chunks save', async () => {
    const res = await rawGet(port, '/rows?n=2000&chunk=1');
    expect(res.chunks.length).toBe(2000);
  });

  it('an empty result is an empty 200 (CSV: the header only); one row is one chunk', async () => {
    const empty = await rawGet(port, '/rows?n=0');
    expect([empty.status, empty.complete, empty.chunks.length]).toEqual([200, true, 0]);
    const emptyCsv = await rawGet(port, '/rows?n=0&format=csv');
    expect(Buffer.concat(emptyCsv.chunks).toString()).toBe('id,userId,status,zone,quantity,seats,totalCents,createdAt,confirmedAt\r\n');
    const one = await rawGet(port, '/rows?n=1');
    expect(one.chunks).toHaveLength(1);
    expect(lines(one.chunks[0]!).map((l) => JSON.parse(l).id)).toEqual(['00000000-0000-4000-8000-000000000001']);
  });

  it('a cursor outlives the pool statement_timeout (250 ms here)', async () => {
    // control: the same work as a plain pooled query is cancelled by the timeout
    await expect(sql`select count(pg_sleep(0.002)) from generate_series(1, 300)`).rejects.toMatchObject({ code: '57014' });
    const res = await rawGet(port, '/slow');
    expect(res.complete).toBe(true);
    expect(lines(Buffer.concat(res.chunks))).toHaveLength(300);
  });

  it('NDJSON: an error part-way ends with an error line, is logged, and frees the connection', async () => {
    logs.length = 0;
    const res = await rawGet(port, '/rows?n=20000&failAt=5000');
    expect(res.status).toBe(200);
    const body = lines(Buffer.concat(res.chunks)).map((l) => JSON.parse(l));
    const last = body.pop();
    expect(last.error.code).toBe('STREAM_INCOMPLETE');
    expect(last.error.details.rowsSent).toBe(body.length);
    expect(body.length).toBeGreaterThan(0);
    expect(body.length).toBeLessThan(5000);
    body.forEach((r, i) => expect(r.id).toBe(`00000000-0000-4000-8000-${(i + 1).toString(16).padStart(12, '0')}`));
    expect(logs.some((l) => l.level === 50 && /division by zero/.test(l.err?.message ?? ''))).toBe(true);
    expect(lastStats?.outcome).toBe('failed');
    expect(await sql`select 1 as ok`).toEqual([{ ok: 1 }]);
    expect(await states()).toEqual(['idle']);
  });

  it('CSV: an error part-way cuts the transfer (no terminating chunk)', async () => {
    const res = await rawGet(port, '/rows?n=20000&failAt=5000&format=csv');
    expect(res.status).toBe(200);
    expect(res.complete).toBe(false);
    expect(await sql`select 1 as ok`).toEqual([{ ok: 1 }]);
  });

  it('a client that goes away stops the cursor and returns the connection to the pool', async () => {
    expect(await states()).toEqual(['idle']);
    const req = request({ port, host: '127.0.0.1', path: '/rows?n=5000000' });
    const res = await new Promise<IncomingMessage>((resolve) => req.on('response', resolve).end());
    await new Promise((r) => res.once('data', r));
    res.pause();
    // the export holds the pool's only connection, inside its transaction
    expect((await states()).filter((s) => s !== 'idle')).toHaveLength(1);
    req.destroy();
    expect(await until(async () => (await states()).join() === 'idle', 3_000)).toBe(true);
    expect(lastStats?.outcome).toBe('aborted');
    expect(pulled.rows).toBeLessThan(1_000_000);
    // the pool has one connection: this only answers if the export gave it back
    const t = Date.now();
    expect(await sql`select 1 as ok`).toEqual([{ ok: 1 }]);
    expect(Date.now() - t).toBeLessThan(1_000);
  });

  it('a client that goes away from a gzip stream stops the cursor too', async () => {
    const req = request({ port, host: '127.0.0.1', path: '/rows?n=5000000', headers: { 'accept-encoding': 'gzip' } });
    const res = await new Promise<IncomingMessage>((resolve) => req.on('response', resolve).end());
    expect(res.headers['content-encoding']).toBe('gzip');
    await new Promise((r) => res.once('data', r));
    req.destroy();
    expect(await until(async () => (await states()).join() === 'idle', 3_000)).toBe(true);
    expect(await sql`select 1 as ok`).toEqual([{ ok: 1 }]);
  });

  it('a slow reader holds the cursor back instead of the server buffering the export', async () => {
    pulled.rows = 0;
    const req = request({ port, host: '127.0.0.1', path: '/rows?n=1000000' });
    const res = await new Promise<IncomingMessage>((resolve) => req.on('response', resolve).end());
    await new Promise((r) => res.once('data', r));
    res.pause(); // stop reading: the socket buffers fill, then the server must wait
    // wait for the source to stall (a loaded machine fills the buffers more slowly)
    let first = -1;
    for (let i = 0; i < 20 && pulled.rows !== first; i++) {
      first = pulled.rows;
      await sleep(300);
    }
    await sleep(700);
    const second = pulled.rows;
    // ~240 bytes a row: 1M rows are ~240 MB; what was read stays within socket buffers + a chunk or two
    expect(second).toBe(first);
    expect(second * 240).toBeLessThan(32 * 1024 * 1024);
    expect(second).toBeLessThan(200_000);
    // reading again resumes the same export
    res.resume();
    await sleep(200);
    expect(pulled.rows).toBeGreaterThan(second);
    req.destroy();
    expect(await until(async () => (await states()).join() === 'idle', 3_000)).toBe(true);
  });

  it('exports 1,000,000 rows with peak RSS within a fixed budget', async () => {
    // Budget: RSS may grow at most 96 MiB over its level before the export, while the export
    // itself is ~240 MB of NDJSON (and over 1 GB as JS row objects if it were held in memory).
    const BUDGET = 96 * 1024 * 1024;
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    let bytes = 0;
    let newlines = 0;
    let tail = '';
    try {
      await new Promise<void>((resolve, reject) => {
        request({ port, host: '127.0.0.1', path: '/rows?n=1000000' }, (res) => {
          res.on('data', (d: Buffer) => {
            bytes += d.length;
            for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) newlines++;
            tail = d.subarray(Math.max(0, d.length - 400)).toString();
          });
          res.on('end', resolve);
          res.on('error', reject);
        }).on('error', reject).end();
      });
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    const last = JSON.parse(tail.trimEnd().split('\n').at(-1)!);
    expect(last.id).toBe(`00000000-0000-4000-8000-${(1_000_000).toString(16).padStart(12, '0')}`);
    expect(newlines).toBe(1_000_000);
    expect(bytes).toBeGreaterThan(200 * 1024 * 1024);
    console.info(`1M rows: ${(bytes / 2 ** 20).toFixed(0)} MiB sent, RSS ${(baseline / 2 ** 20).toFixed(0)} -> peak ${(peak / 2 ** 20).toFixed(0)} MiB (+${((peak - baseline) / 2 ** 20).toFixed(0)} MiB, budget +${BUDGET / 2 ** 20} MiB), ${lastStats?.chunks} chunks`);
    expect(peak - baseline).toBeLessThan(BUDGET);
    expect(lastStats).toMatchObject({ rows: 1_000_000, outcome: 'complete' });
  }, 120_000);
});
