import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventKeys } from '../../src/redis/keys';
import { startHarness, type Harness } from '../harness';
import { expectRedisToAgree } from '../invariants';
import { freePort, rawRequest, spawnEntry, waitHealthy, type RawResult } from '../process';
import { drillEnv, startPrivateCluster, type PrivateCluster } from './private-cluster';

// Lost-writes drill: the replica of the event's master is cut off from its replication
// stream (SIGSTOP, and the master drops the link), the sale goes on on the master alone, and
// the stale replica is then promoted with CLUSTER FAILOVER TAKEOVER. The old master rejoins
// as its replica and resyncs from it: Redis has really forgotten the last acknowledged
// writes, while PostgreSQL has them. PostgreSQL must refuse what Redis now wrongly allows.
// (test/limit-guard.test.ts rolls counters back by hand on one Redis; this is the real loss,
// on a cluster, through real processes.)
const MAX_PER_USER = 4;

let cluster: PrivateCluster;
let h: Harness;
let apiPort: number;
let env: Record<string, string>;
const children: ReturnType<typeof spawnEntry>[] = [];
const conns: Redis[] = [];

beforeAll(async () => {
  // A node timeout longer than the drill keeps the stopped replica from being flagged as
  // failed meanwhile: the only failover is the one the drill asks for.
  cluster = await startPrivateCluster(5_000);
  h = await startHarness({ REDIS_CLUSTER_NODES: cluster.nodes });
  apiPort = await freePort();
  env = drillEnv(h, cluster);
  // No worker yet: its reconciler would repair Redis before the drill could show the gap.
  const api = spawnEntry('api', { ...env, PORT: String(apiPort) });
  children.push(api);
  await waitHealthy(apiPort, api);
}, 120_000);

afterAll(async () => {
  for (const c of conns) c.disconnect();
  await Promise.all(
    children.map((c) => new Promise<void>((r) => (c.exitCode !== null ? r() : (c.once('exit', () => r()), c.kill('SIGTERM'))))),
  );
  await h?.close();
  await cluster?.stop();
});

const status = (r: RawResult) => ('error' in r ? r.error : `${r.status}${r.status >= 400 ? ` ${r.body?.error?.code}` : ''}`);

it('a stale replica promoted with CLUSTER FAILOVER TAKEOVER: Redis allows what it forgot, PostgreSQL refuses it (409/429, never 500), Redis is corrected', async () => {
  const ev = await h.createEvent({
    maxSeatsPerUser: MAX_PER_USER,
    zones: [
      { code: 'A', name: 'Block A', priceCents: 9000, kind: 'seated', rows: 2, seatsPerRow: 5 },
      { code: 'FLOOR', name: 'Floor', priceCents: 15000, kind: 'ga', capacity: 20 },
      { code: 'BALC', name: 'Balcony', priceCents: 5000, kind: 'ga', capacity: 5000 },
    ],
  });
  const k = eventKeys(h.config.redis.prefix, ev.id);
  const hold = (token: string, body: unknown) =>
    rawRequest(apiPort, 'POST', `/v1/events/${ev.id}/reservations`, { token, body, headers: { 'idempotency-key': randomUUID() } });
  const tokens = (n: number, tag: string) => Promise.all(Array.from({ length: n }, (_, i) => h.token(`${tag}-${i}-${randomUUID()}`)));

  // The event is loaded into Redis (the first holds wait out the load) and replicated.
  const warm = await h.token(`warm-${randomUUID()}`);
  let first: RawResult = { error: 'none' };
  for (let i = 0; i < 50 && status(first) !== '201'; i++) {
    first = await hold(warm, { zone: 'BALC', quantity: 1 });
    if (status(first) !== '201') await sleep(200);
  }
  expect(status(first)).toBe('201');
  // Beside the drill, the sale never stops: buyers hold balcony seats throughout, through
  // the cut-off, the takeover and the wave. Their answers are decisions or 503 + Retry-After.
  const crowd = await tokens(200, 'crowd');
  const background: { at: number; status: string; retryAfter: boolean; id?: string }[] = [];
  let selling = true;
  const sale = Array.from({ length: 4 }, async (_, n) => {
    for (let i = n; selling; i += 4) {
      const at = Date.now();
      const x = await hold(crowd[i % crowd.length]!, { zone: 'BALC', quantity: 1 });
      const retryAfter = !('status' in x) || x.status !== 503 || Boolean(x.headers?.['retry-after']);
      background.push({ at, status: status(x), retryAfter, id: status(x) === '201' ? (x as { body: { id: string } }).body.id : undefined });
      await sleep(50);
    }
  });

  const master = await cluster.masterOf(k.meta);
  const replica = await cluster.replicaOf(master);
  const [m, r] = [await cluster.connect(master), await cluster.connect(replica)];
  conns.push(m, r);
  const offset = async (c: Redis, field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(await c.info('replication'))![1]);
  // The replica has caught up once it holds everything the master had a moment before (the
  // crowd keeps writing, so the two offsets are never read equal at one instant for sure).
  let caughtUp = false;
  for (let i = 0; i < 100 && !caughtUp; i++) {
    const masterAt = await offset(m, 'master_repl_offset');
    caughtUp = (await offset(r, 'slave_repl_offset')) >= masterAt;
    if (!caughtUp) await sleep(50);
  }
  expect(caughtUp).toBe(true);

  // Cut off: the replica stops reading, the master drops its link. From here on every write
  // is acknowledged by the master alone.
  cluster.pause(replica);
  const pausedAt = Date.now();
  await m.client('KILL', 'TYPE', 'replica');
  expect(await m.info('replication')).toMatch(/connected_slaves:0/);

  // The last writes: the floor sold out, five buyers at their limit, two seats taken, two
  // of the floor holds confirmed. Every one acknowledged, so every one in PostgreSQL.
  const earlySubs = Array.from({ length: 5 }, (_, i) => `early-${i}-${randomUUID()}`);
  const early = await Promise.all(earlySubs.map((s) => h.token(s)));
  const earlyHolds = await Promise.all(early.map((t) => hold(t, { zone: 'FLOOR', quantity: 4 })));
  expect(earlyHolds.map(status)).toEqual(Array(5).fill('201'));
  const seatOwners = await tokens(2, 'seat');
  const seatHolds = await Promise.all(seatOwners.map((t, i) => hold(t, { seats: [`A-1-${i + 1}`] })));
  expect(seatHolds.map(status)).toEqual(['201', '201']);
  const confirmed = await Promise.all([0, 1].map((i) =>
    rawRequest(apiPort, 'POST', `/v1/reservations/${(earlyHolds[i] as { body: { id: string } }).body.id}/confirm`, { token: early[i]! })));
  expect(confirmed.map(status)).toEqual(['200', '200']);
  expect(status(await hold(warm, { zone: 'FLOOR', quantity: 1 }))).toBe('409 SOLD_OUT'); // the master still knows

  // The stale replica takes over without the master's agreement and without catching up
  // (the command is queued while it is stopped, so it runs before any reconnect).
  const takeover = r.cluster('FAILOVER', 'TAKEOVER');
  const resumedAt = Date.now();
  cluster.resume(replica);
  expect(await takeover).toBe('OK');
  // Promoted once the cluster routes the slot to it and the old master follows it (the old
  // master's full resync, which wipes its copy of the lost writes, runs in the background).
  let promotedAt = 0;
  for (let i = 0; i < 100 && !promotedAt; i++) {
    const [owner, oldRole] = await Promise.all([cluster.masterOf(k.meta).catch(() => 0), m.role().catch(() => [])]);
    if (owner === replica && oldRole[0] === 'slave') promotedAt = Date.now();
    else await sleep(100);
  }
  expect(promotedAt).toBeGreaterThan(0);

  // The loss is real: the promoted node (and the old master, resynced from it) forgot them.
  const floorCounts = await h.core.redis.hmget(k.zoneCounts('FLOOR'), 'held', 'sold');
  expect(floorCounts.map(Number)).toEqual([0, 0]);
  expect(await h.core.redis.hmget(k.users, ...earlySubs)).toEqual(Array(5).fill(null));
  expect(await h.core.redis.hmget(k.zoneSeats('A'), 'A-1-1', 'A-1-2')).toEqual(['', '']);

  // The same sale goes on, and Redis now lets through what it forgot: 30 buyers for the
  // sold-out floor, the five early buyers (at their limit) for the balcony, four buyers for
  // the two taken seats; beside them, buyers Redis and PostgreSQL both rightly allow.
  const [floorBuyers, seatBuyers, balcBuyers] = await Promise.all([tokens(30, 'late'), tokens(4, 'seat2'), tokens(5, 'balc')]);
  const waveAt = Date.now();
  const [floor, limit, seats, fine] = await Promise.all([
    Promise.all(floorBuyers.map((t) => hold(t, { zone: 'FLOOR', quantity: 2 }))),
    Promise.all(early.map((t) => hold(t, { zone: 'BALC', quantity: 1 }))),
    Promise.all(seatBuyers.map((t, i) => hold(t, { seats: [`A-1-${(i % 2) + 1}`] }))),
    Promise.all(balcBuyers.map((t) => hold(t, { zone: 'BALC', quantity: 2 }))),
  ]);
  const waveMs = Date.now() - waveAt;
  await sleep(1_000);
  selling = false;
  await Promise.all(sale);
  const tally = (rs: RawResult[]) => rs.map(status).reduce<Record<string, number>>((o, s) => ((o[s] = (o[s] ?? 0) + 1), o), {});
  console.log('lost-writes drill', {
    master,
    replica,
    cutOffMs: resumedAt - pausedAt,
    promotedAfterResumeMs: promotedAt - resumedAt,
    waveMs,
    floor: tally(floor),
    overLimit: tally(limit),
    takenSeats: tally(seats),
    balcony: tally(fine),
    alongside: {
      beforeCutOff: tally(background.filter((b) => b.at < pausedAt) as never),
      cutOff: tally(background.filter((b) => b.at >= pausedAt && b.at < resumedAt) as never),
      takeover: tally(background.filter((b) => b.at >= resumedAt && b.at < promotedAt) as never),
      after: tally(background.filter((b) => b.at >= promotedAt) as never),
    },
  });
  expect(tally(floor)).toEqual({ '409 SOLD_OUT': 30 });
  expect(tally(limit)).toEqual({ '429 LIMIT_EXCEEDED': 5 });
  expect(tally(seats)).toEqual({ '409 SEATS_UNAVAILABLE': 4 });
  expect(tally(fine)).toEqual({ '201': 5 });
  for (const b of background) expect([b.status, b.retryAfter]).toEqual([expect.stringMatching(/^(201|429 LIMIT_EXCEEDED|503 UNAVAILABLE)$/), true]);
  const crowdHeld = background.filter((b) => b.id).map((b) => b.id!);
  expect(background.filter((b) => b.at >= promotedAt && b.id).length).toBeGreaterThan(0);

  // PostgreSQL never went past a limit, and has every acknowledged hold and confirm.
  const live = await h.core.sql<{ zone_code: string; q: number }[]>`select zone_code, sum(quantity)::int as q from reservations
    where event_id = ${ev.id} and status in ('held', 'confirmed') group by zone_code order by zone_code`;
  expect(Object.fromEntries(live.map((z) => [z.zone_code, z.q]))).toEqual({ A: 2, BALC: 11 + crowdHeld.length, FLOOR: 20 });
  const acked = [...earlyHolds, ...seatHolds].map((x) => (x as { body: { id: string } }).body.id);
  const rows = await h.core.sql<{ id: string; status: string }[]>`select id, status from reservations where id = any(${[...acked, ...crowdHeld]}::uuid[])`;
  const statusOf = new Map(rows.map((x) => [x.id, x.status]));
  expect(acked.map((id) => statusOf.get(id))).toEqual(['confirmed', 'confirmed', 'held', 'held', 'held', 'held', 'held']);
  for (const id of crowdHeld) expect(statusOf.get(id)).toBe('held');

  // Redis corrected at once for what the refusals touched: the floor full again, the early
  // buyers at their limit, the seats taken by their owners.
  const [held, sold] = (await h.core.redis.hmget(k.zoneCounts('FLOOR'), 'held', 'sold')).map(Number);
  expect(held! + sold!).toBe(20);
  expect(await h.core.redis.hmget(k.users, ...earlySubs)).toEqual(Array(5).fill(String(MAX_PER_USER)));
  expect(await h.core.redis.hmget(k.zoneSeats('A'), 'A-1-1', 'A-1-2')).toEqual(seatHolds.map((x) => `h:${(x as { body: { id: string } }).body.id}`));

  // The worker's reconciler settles the exact figures (held vs sold) from PostgreSQL.
  children.push(spawnEntry('worker', { ...env, WORKER_METRICS_PORT: String(await freePort()), RECONCILE_INTERVAL_MS: '1000', RECONCILE_ORPHAN_GRACE_MS: '2000' }));
  const ms = await expectRedisToAgree(h, ev.id, { maxPerUser: MAX_PER_USER });
  console.log('lost-writes drill: Redis agreed with PostgreSQL', ms, 'ms after the worker started');
}, 120_000);
