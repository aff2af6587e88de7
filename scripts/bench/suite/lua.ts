// Scenario 2: the Lua ceiling. lua/reserve-8.lua alone, through the application's own
// ioredis client (auto-pipelining, EVALSHA via defineCommand, the reserveScript wrapper)
// against redis-benchmark sending the same EVALSHA with the same keys; rounds interleaved.
// Each call holds one GA seat for a new user and reservation (the success path); the zone's
// capacity is raised in Redis so no run ever sells out.
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { reserveScript } from '../../../src/inventory/scripts';
import { createRedis } from '../../../src/redis/client';
import { eventKeys, idemField } from '../../../src/redis/keys';
import { readScripts } from '../../../src/redis/scripts';
import { CpuMeter } from './cpu';
import { createEvent, mdTable, progress, type ScenarioResult } from './common';
import { ROOT, type BenchEnv, type Proc } from './stack';
import { fmt, median, ratio } from './stats';

type Run = { client: string; round: number; callsPerSecond: number; outcomes: Record<string, number>; redisCores: number; driverCores: number; p50?: number; p99?: number };

export async function luaCeiling(be: BenchEnv, api: Proc, cpu: CpuMeter, o: { seconds: number; rounds: number; inFlight: number; rbClients: number; rbPipeline: number }): Promise<ScenarioResult> {
  const eventId = await createEvent(api.port, be.adminToken, {
    name: 'bench lua',
    zones: [{ code: 'GA', name: 'GA', priceCents: 100, kind: 'ga', capacity: 1000 }],
  });
  const k = eventKeys(be.config.redis.prefix, eventId);
  const redis = createRedis(be.config.redis);
  // The script as the application loads it (shared includes spliced in).
  const lua = readScripts().get('reserve')!.lua;
  const sha = createHash('sha1').update(lua).digest('hex');
  await redis.script('LOAD', lua);
  const keys = [k.meta, k.holds, k.users, k.idem, k.zoneSeats('GA'), k.zoneCounts('GA'), k.zoneFree('GA'), k.zoneIndex('GA')];
  const reset = () => redis.hset(k.zoneCounts('GA'), 'capacity', 1_000_000_000_000, 'held', 0);
  const url = new URL(be.config.redis.url);
  const db = url.pathname.slice(1) || '0';

  const ctx: LuaCtx = { redis, k, cpu, reset, sha, keys, url, db, o };
  const viaIoredis = (round: number) => ioredisRun(ctx, round);
  const viaRedisBenchmark = (round: number, clients: number, pipeline: number, n: number) => redisBenchmarkRun(ctx, round, clients, pipeline, n);

  const runs: Run[] = [];
  let rbN = 200_000;
  try {
    for (let round = 1; round <= o.rounds; round++) {
      const io = await viaIoredis(round);
      runs.push(io);
      progress(`lua: round ${round} ioredis: ${fmt(io.callsPerSecond)} calls/s (Redis ${io.redisCores} cores, client ${io.driverCores}) ${JSON.stringify(io.outcomes)}`);
      // Size redis-benchmark's run to about the same duration.
      const rb = await viaRedisBenchmark(round, o.rbClients, o.rbPipeline, rbN);
      rbN = Math.max(50_000, Math.round(rb.callsPerSecond * o.seconds));
      runs.push(rb);
      progress(`lua: round ${round} redis-benchmark: ${fmt(rb.callsPerSecond)} calls/s (Redis ${rb.redisCores} cores) ${JSON.stringify(rb.outcomes)}`);
    }
    const single = await viaRedisBenchmark(0, o.rbClients, 1, Math.max(50_000, Math.round(rbN / 4)));
    runs.push(single);
    progress(`lua: redis-benchmark without pipelining: ${fmt(single.callsPerSecond)} calls/s`);
  } finally {
    redis.disconnect();
  }
  const io = median(runs.filter((r) => r.client.startsWith('ioredis')).map((r) => r.callsPerSecond));
  const rb = median(runs.filter((r) => r.round > 0 && r.client.startsWith('redis-benchmark')).map((r) => r.callsPerSecond));
  const figures = { sha, runs, ioredisMedian: io, redisBenchmarkMedian: rb, ratioIoredisToRedisBenchmark: ratio(io, rb) };
  let md = `### 2. Lua ceiling: lua/reserve-8.lua alone (1 GA seat per call, new user and reservation each time)\n\n`;
  md += mdTable(
    ['client', 'round', 'calls/s', 'Redis cores used', 'client process cores', 'p50 / p99 ms (redis-benchmark)', 'outcomes'],
    runs.map((r) => [r.client, r.round || '-', fmt(r.callsPerSecond), r.redisCores, r.client.startsWith('ioredis') ? r.driverCores : '(own process)', r.p50 !== undefined ? `${r.p50} / ${r.p99}` : '', JSON.stringify(r.outcomes)]),
  );
  md += `\n\n**Ratio ioredis/redis-benchmark (medians, pipelined): ${figures.ratioIoredisToRedisBenchmark}** (${fmt(io)} vs ${fmt(rb)} calls/s).\n`;
  return { name: 'lua', figures, markdown: md, histograms: [] };
}

type LuaCtx = {
  redis: ReturnType<typeof createRedis>;
  k: ReturnType<typeof eventKeys>;
  cpu: CpuMeter;
  reset: () => Promise<unknown>;
  sha: string;
  keys: string[];
  url: URL;
  db: string;
  o: { seconds: number; inFlight: number };
};

/** lua/reserve-6.lua through the application's ioredis wrapper, o.inFlight calls at a time. */
async function ioredisRun({ redis, k, cpu, reset, o }: LuaCtx, round: number): Promise<Run> {
  await reset();
  const outcomes: Record<string, number> = {};
  let calls = 0;
  const tag = randomUUID().slice(0, 8);
  const a = cpu.sample();
  const end = performance.now() + o.seconds * 1000;
  await Promise.all(
    Array.from({ length: o.inFlight }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const user = `l${tag}-${w}-${i}`;
        const r = await reserveScript(redis, k, {
          now: Date.now(),
          reservationId: randomUUID(),
          userId: user,
          idemField: idemField(user, 'k'),
          requestHash: 'h',
          zone: 'GA',
          quantity: 1,
          seats: [],
        });
        outcomes[r.kind] = (outcomes[r.kind] ?? 0) + 1;
        calls++;
      }
    }),
  );
  const s = (performance.now() - (end - o.seconds * 1000)) / 1000;
  const c = CpuMeter.cores(a, cpu.sample());
  return { client: `ioredis (auto-pipelining, ${o.inFlight} calls in flight, 1 connection)`, round, callsPerSecond: Math.round(calls / s), outcomes, redisCores: c.redis ?? 0, driverCores: c['bench driver'] ?? 0 };
}


/** The same EVALSHA and keys from redis-benchmark, in its own process. */
async function redisBenchmarkRun({ redis, k, cpu, reset, sha, keys, url, db }: LuaCtx, round: number, clients: number, pipeline: number, n: number): Promise<Run> {
  await reset();
  const a = cpu.sample();
  const args = ['-h', url.hostname, '-p', url.port || '6379', '--dbnum', db, '-c', String(clients), '-P', String(pipeline), '-n', String(n), '-r', '1000000000', '--csv',
    'EVALSHA', sha, String(keys.length), ...keys, String(Date.now()), 'r:__rand_int__', 'u:__rand_int__', 'i:__rand_int__', 'h', 'GA', '1', 'ga'];
  const { stdout } = await promisify(execFile)('redis-benchmark', args, { maxBuffer: 1 << 20 });
  const c = CpuMeter.cores(a, cpu.sample());
  const lines = stdout.trim().split('\n').filter((l) => l.startsWith('"'));
  const head = JSON.parse(`[${lines[0]}]`) as string[];
  const row = JSON.parse(`[${lines.at(-1)}]`) as string[];
  const col = (name: string) => Number(row[head.indexOf(name)]);
  const held = Number(await redis.hget(k.zoneCounts('GA'), 'held'));
  return {
    client: `redis-benchmark (-c ${clients} -P ${pipeline})`,
    round,
    callsPerSecond: Math.round(col('rps')),
    outcomes: { held, other: n - held },
    redisCores: c.redis ?? 0,
    driverCores: c['bench driver'] ?? 0,
    p50: col('p50_latency_ms'),
    p99: col('p99_latency_ms'),
  };
}

