// npm run bench:best-available [-- --calls 300 --holds 20000]
//
// Best available on 100,000-seat zones: the worst case per call measured with Redis SLOWLOG,
// and script-level holds/s of best available beside picked seats. Runs on a private
// redis-server (loopback, a free port, no persistence) so that SLOWLOG can log every command
// without touching the shared Redis' settings, and timings are not mixed with other clients.
//
// Worst cases are built on purpose: every row is fragmented into single free seats (the
// most runs a row scan can meet) except the LAST row, which holds the only block that fits,
// so each call descends the whole tree and scans the widest rows; each hold is released
// again (the release rescans that row too), and both are measured.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { BoxEvent, Zone } from '../../src/events/model';
import { InventoryLoader } from '../../src/inventory/loader';
import { buildIndex } from '../../src/inventory/seat-index';
import { releaseScript, reserveScript } from '../../src/inventory/scripts';
import { createRedis, type RedisClient } from '../../src/redis/client';
import { eventKeys, type EventKeys } from '../../src/redis/keys';

const { values: args } = parseArgs({ options: { calls: { type: 'string' }, holds: { type: 'string' } } });
const CALLS = Number(args.calls ?? 300);
const HOLDS = Number(args.holds ?? 20_000);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const port = await freePort();
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
  '--slowlog-log-slower-than', '0', '--slowlog-max-len', '1000000'], { stdio: 'ignore' });
let redis: RedisClient | undefined;
try {
  redis = createRedis({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 60_000, connectTimeoutMs: 5_000 } as never);
  for (let i = 0; i < 50 && (await redis.ping().catch(() => '')) !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));
  await run(redis);
} finally {
  await redis?.quit().catch(() => {});
  server.kill();
}

async function run(redis: RedisClient) {
  const prefix = 'bench';
  const loader = new InventoryLoader({ redis, prefix, snapshot: async () => ({ live: [], idempotency: [] }), findEvent: async () => null, lockMs: 5_000, quiesceMs: 0, logger: pino({ level: 'silent' }) });
  const load = async (zone: Zone) => {
    const event: BoxEvent = {
      id: randomUUID(), name: 'bench', startsAt: new Date(Date.now() + 864e5), salesOpenAt: new Date(0),
      salesCloseAt: new Date(Date.now() + 864e5), holdSeconds: 600, maxSeatsPerUser: 100,
      queue: { enabled: false, admitPerSecond: 1, passSeconds: 60 }, zones: [zone],
    };
    await loader.loadNew(event);
    return eventKeys(prefix, event.id);
  };
  const zone = (rows: number, perRow: number): Zone => ({
    code: 'Z', name: 'Z', priceCents: 1, kind: 'seated', capacity: rows * perRow, rows, seatsPerRow: perRow,
  });
  let user = 0;
  const hold = (k: EventKeys, a: { quantity: number } | { seats: string[] }) =>
    reserveScript(redis, k, {
      now: Date.now(), reservationId: randomUUID(), userId: `u${user++}`, idemField: '', requestHash: 'h', zone: 'Z',
      quantity: 'seats' in a ? a.seats.length : a.quantity, seats: 'seats' in a ? a.seats : [], best: !('seats' in a),
    });

  /** Marks seats sold behind the scripts' back, then rebuilds the index from the bitmap. */
  async function fragment(k: EventKeys, z: Zone, block: number) {
    const rows = z.rows!;
    const perRow = z.seatsPerRow!;
    const free = Buffer.alloc(rows * perRow, '0');
    let fields: string[] = [];
    for (let r = 1; r <= rows; r++)
      for (let n = 1; n <= perRow; n++) {
        // Odd seats free, even seats sold; the last row ends with one free block of `block`.
        const lastBlock = r === rows && n > perRow - block - 1;
        const taken = lastBlock ? n === perRow - block : n % 2 === 0;
        if (taken) {
          free[(r - 1) * perRow + n - 1] = 0x31;
          fields.push(`Z-${r}-${n}`, 's:bench');
        }
        if (fields.length >= 10_000) {
          await redis.hset(k.zoneSeats('Z'), ...fields);
          fields = [];
        }
      }
    if (fields.length) await redis.hset(k.zoneSeats('Z'), ...fields);
    const { index } = buildIndex(free, rows, perRow);
    await redis.set(k.zoneFree('Z'), free);
    await redis.set(k.zoneIndex('Z'), index);
  }

  async function slowlog(k: EventKeys): Promise<number[]> {
    const entries = (await redis.call('SLOWLOG', 'GET', '-1')) as [number, number, number, string[]][];
    await redis.call('SLOWLOG', 'RESET');
    return entries.filter((e) => e[3][0]?.toLowerCase() === 'evalsha' && e[3][3]?.startsWith(k.meta.slice(0, -5))).map((e) => e[2]);
  }
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { calls: s.length, p50: s[Math.floor(s.length / 2)] ?? 0, p99: s[Math.floor(s.length * 0.99)] ?? 0, max: s.at(-1) ?? 0 };
  };
  const fmt = (x: ReturnType<typeof stats>) => `p50 ${x.p50} µs, p99 ${x.p99} µs, max ${x.max} µs (${x.calls} calls)`;

  console.log(`SLOWLOG (µs per script call, Redis's own timing) on 100,000-seat zones, private redis-server :${port}`);
  for (const [rows, perRow, q] of [[20, 5_000, 4], [100, 1_000, 4], [1_000, 100, 4], [5_000, 20, 4], [20, 5_000, 1]] as const) {
    const z = zone(rows, perRow);
    const k = await load(z);
    await fragment(k, z, q + 1);
    await redis.call('SLOWLOG', 'RESET');
    const reserves: number[] = [];
    const releases: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const id = randomUUID();
      const r = await reserveScript(redis, k, {
        now: Date.now(), reservationId: id, userId: `w${i}`, idemField: '', requestHash: 'h', zone: 'Z', quantity: q, seats: [], best: true,
      });
      if (r.kind !== "held" || (q > 1 && !r.seats[0]!.startsWith(`Z-${rows}-`))) throw new Error(`unexpected ${JSON.stringify(r)}`);
      reserves.push(...(await slowlog(k)));
      await releaseScript(redis, k, { reservationId: id, zone: 'Z' });
      releases.push(...(await slowlog(k)));
    }
    // A request nothing fits: the answer comes from the root alone.
    await hold(k, { quantity: perRow + 1 > 100 ? 100 : perRow + 1 });
    const none = await slowlog(k);
    console.log(`  ${rows} rows x ${perRow}, fragmented, best ${q} in the last row: reserve ${fmt(stats(reserves))}; release ${fmt(stats(releases))}; no block ${none[0]} µs`);
  }
  {
    const z = zone(100, 1_000);
    const k = await load(z);
    const fresh: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      await hold(k, { quantity: 1 + (i % 6) });
      fresh.push(...(await slowlog(k)));
    }
    console.log(`  100 rows x 1000, filling from empty, best 1..6: ${fmt(stats(fresh))}`);
  }

  // Throughput: script calls through one ioredis connection (auto-pipelined), 200 in flight.
  console.log(`\nholds/s, script level (one ioredis client, 200 in flight, ${HOLDS} holds of 2 seats, 1000 rows x 100)`);
  await redis.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
  for (const kind of ['picked', 'best'] as const) {
    const k = await load(zone(1_000, 100));
    let next = 0;
    const started = performance.now();
    let held = 0;
    const worker = async () => {
      while (next < HOLDS) {
        const i = next++;
        const r = kind === 'best'
          ? await hold(k, { quantity: 2 })
          : await hold(k, { seats: [`Z-${Math.floor(i / 50) + 1}-${(i % 50) * 2 + 1}`, `Z-${Math.floor(i / 50) + 1}-${(i % 50) * 2 + 2}`] });
        if (r.kind === 'held') held++;
      }
    };
    await Promise.all(Array.from({ length: 200 }, worker));
    const s = (performance.now() - started) / 1000;
    console.log(`  ${kind.padEnd(6)} ${held} held in ${s.toFixed(2)} s = ${Math.round(held / s)} holds/s`);
  }
}
