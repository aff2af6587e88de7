// npm run bench:cluster-slot [-- --seconds 5 --in-flight 64]
//
// What one event can do on a Redis Cluster. Every key of an event carries the hash tag
// {evt:<id>}, so an event lives in one slot on one master: its holds are bounded by what one
// Redis core does with lua/reserve-8.lua, however many masters the cluster has. Measured
// through the application's own client (ioredis Cluster, auto-pipelining, the reserveScript
// wrapper): 1 event, then 3 events whose slots sit on 3 different masters, side by side.
// Uses REDIS_CLUSTER_NODES, or the local cluster of scripts/services.sh (started if needed).
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/config';
import { reserveScript } from '../../src/inventory/scripts';
import { createRedis, redisMasters } from '../../src/redis/client';
import { eventKeys } from '../../src/redis/keys';
import { readScripts } from '../../src/redis/scripts';

const { values: args } = parseArgs({ options: { seconds: { type: 'string' }, 'in-flight': { type: 'string' } } });
const seconds = Number(args.seconds ?? 5);
const inFlight = Number(args['in-flight'] ?? 64);
let nodes = process.env.REDIS_CLUSTER_NODES;
if (!nodes) {
  execFileSync('bash', ['scripts/services.sh', 'redis-cluster-up'], { stdio: 'inherit' });
  nodes = execFileSync('bash', ['scripts/services.sh', 'redis-cluster-nodes']).toString().trim();
}
const config = loadConfig({ ...process.env, REDIS_CLUSTER_NODES: nodes, REDIS_PREFIX: `bench${randomUUID().slice(0, 6)}` });
const prefix = config.redis.prefix;
const redis = createRedis(config.redis);
await redis.ping();

/** Event ids whose slots are served by `n` different masters. */
async function eventsOnDistinctMasters(n: number): Promise<string[]> {
  const chosen = new Map<string, string>();
  const slots = (await redis.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
  const owner = (slot: number) => slots.find(([a, b]) => slot >= a && slot <= b)![2].join(':');
  while (chosen.size < n) {
    const id = randomUUID();
    const slot = Number(await redis.cluster('KEYSLOT', eventKeys(prefix, id).meta));
    const node = owner(slot);
    if (![...chosen.values()].includes(node)) chosen.set(id, node);
  }
  return [...chosen.keys()];
}

async function setUp(id: string) {
  const k = eventKeys(prefix, id);
  const now = Date.now();
  await redis.hset(k.zoneCounts('GA'), { capacity: 1e12, held: 0, sold: 0 });
  await redis.hset(k.meta, { open: now - 60_000, close: now + 3_600_000, max: 1e9 });
}

async function drive(ids: string[]) {
  const calls = new Map(ids.map((id) => [id, 0]));
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    ids.flatMap((id) =>
      Array.from({ length: inFlight }, async (_, w) => {
        const k = eventKeys(prefix, id);
        for (let i = 0; performance.now() < end; i++) {
          await reserveScript(redis, k, { now: Date.now(), reservationId: randomUUID(), userId: `u${w}-${i}`, idemField: '', requestHash: 'h', zone: 'GA', quantity: 1, seats: [] });
          calls.set(id, calls.get(id)! + 1);
        }
      }),
    ),
  );
  const s = (performance.now() - started) / 1000;
  return ids.map((id) => Math.round(calls.get(id)! / s));
}

try {
  const three = await eventsOnDistinctMasters(3);
  for (const id of three) await setUp(id);
  const one = await drive([three[0]!]);
  console.log(`1 event (one slot, one master): ${one[0]} holds/s in Redis`);
  const spread = await drive(three);
  console.log(`3 events on 3 masters: ${spread.join(' + ')} = ${spread.reduce((a, b) => a + b, 0)} holds/s in Redis`);
  console.log(`(${seconds} s per run, ${inFlight} calls in flight per event, masters: ${redisMasters(redis).length}, this client on one Node.js thread)`);

  // The slot's own ceiling, without Node in the way: redis-benchmark sends the same script
  // (EVALSHA, pipelined) straight to the master that owns the event's slot.
  const id = three[0]!;
  const k = eventKeys(prefix, id);
  const keys = [k.meta, k.holds, k.users, k.idem, k.zoneSeats('GA'), k.zoneCounts('GA'), k.zoneFree('GA'), k.zoneIndex('GA')];
  const lua = readScripts().get('reserve')!.lua;
  const sha = createHash('sha1').update(lua).digest('hex');
  const slot = Number(await redis.cluster('KEYSLOT', k.meta));
  const slots = (await redis.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
  const [host, port] = slots.find(([a, b]) => slot >= a && slot <= b)![2];
  const master = redisMasters(redis).find((m) => m.options.port === port)!;
  await master.script('LOAD', lua);
  const out = execFileSync('redis-benchmark', ['-h', host, '-p', String(port), '-c', '50', '-P', '16', '-n', '300000', '-r', '1000000000', '--csv',
    'EVALSHA', sha, String(keys.length), ...keys, String(Date.now()), 'r:__rand_int__', 'u:__rand_int__', '', 'h', 'GA', '1', 'ga']).toString();
  const lines = out.trim().split('\n').filter((l) => l.startsWith('"'));
  const head = JSON.parse(`[${lines[0]}]`) as string[];
  const row = JSON.parse(`[${lines.at(-1)}]`) as string[];
  console.log(`1 event, redis-benchmark on its master ${host}:${port} (-c 50 -P 16): ${Math.round(Number(row[head.indexOf('rps')]))} holds/s`);
} finally {
  // The bench's keys: one DEL per event (one slot each).
  for (const m of redisMasters(redis)) {
    const keys = await m.keys(`${prefix}:*`);
    for (const key of keys) await m.del(key);
  }
  redis.disconnect();
}
