import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventKeys } from '../../src/redis/keys';
import { startHarness, type Harness } from '../harness';
import { expectRedisToAgree } from '../invariants';
import { freePort, rawRequest, spawnEntry, waitHealthy, type RawResult } from '../process';
import { drillEnv, startPrivateCluster, type PrivateCluster } from './private-cluster';

// Failover drill: a real API process and a real worker on a private Redis Cluster; the
// master serving the event's slot is SIGKILLed mid-sale and its replica takes over.
const MAX_PER_USER = 4;
const CLIENTS = 30;

let cluster: PrivateCluster;
let h: Harness;
let apiPort: number;
const children: ReturnType<typeof spawnEntry>[] = [];

beforeAll(async () => {
  cluster = await startPrivateCluster(1_000);
  h = await startHarness({ REDIS_CLUSTER_NODES: cluster.nodes });
  apiPort = await freePort();
  const env = drillEnv(h, cluster);
  const api = spawnEntry('api', { ...env, PORT: String(apiPort) });
  // The worker's reconciler repairs what a failover loses; short intervals keep the drill short.
  const worker = spawnEntry('worker', {
    ...env,
    WORKER_METRICS_PORT: String(await freePort()),
    RECONCILE_INTERVAL_MS: '1000',
    RECONCILE_ORPHAN_GRACE_MS: '2000',
  });
  children.push(api, worker);
  await waitHealthy(apiPort, api);
}, 120_000);

afterAll(async () => {
  await Promise.all(
    children.map((c) => new Promise<void>((r) => (c.exitCode !== null ? r() : (c.once('exit', () => r()), c.kill('SIGTERM'))))),
  );
  await h?.close();
  await cluster?.stop();
});

type Sample = { at: number; ms: number; status: number | string; retryAfter?: boolean; kind: 'hold' | 'confirm' };

it('SIGKILL of the event\'s master mid-sale: 503 + Retry-After while it fails over, never 500; nothing oversold; PostgreSQL has every acknowledged write', async () => {
  const ev = await h.createEvent({ maxSeatsPerUser: MAX_PER_USER });
  const seats = Array.from({ length: 100 }, (_, i) => `A-${Math.floor(i / 10) + 1}-${(i % 10) + 1}`);
  const users = await Promise.all(Array.from({ length: 120 }, (_, i) => h.token(`fo-${i}-${randomUUID()}`)));
  const master = await cluster.masterOf(eventKeys(h.config.redis.prefix, ev.id).meta);

  const samples: Sample[] = [];
  const held = new Map<string, string>(); // reservation id -> token (201s)
  const confirmed = new Set<string>(); // 200s on confirm
  let stop = false;
  const record = (kind: Sample['kind'], r: RawResult, at: number) => {
    const ms = Date.now() - at;
    if ('error' in r) samples.push({ at, ms, status: r.error, kind });
    else samples.push({ at, ms, status: r.status, kind, retryAfter: r.status !== 503 || Boolean(r.headers?.['retry-after']) });
  };
  async function client(n: number) {
    for (let i = 0; !stop; i++) {
      const token = users[(n * 7 + i) % users.length]!;
      const body = i % 2 ? { seats: [seats[(n * 13 + i * 3) % 100]!] } : { zone: 'FLOOR', quantity: 1 + (i % 3) };
      const at = Date.now();
      const r = await rawRequest(apiPort, 'POST', `/v1/events/${ev.id}/reservations`, { token, body, headers: { 'idempotency-key': randomUUID() } });
      record('hold', r, at);
      if ('status' in r && r.status === 201) {
        held.set(r.body.id, token);
        if (i % 3 === 0) {
          const cAt = Date.now();
          const c = await rawRequest(apiPort, 'POST', `/v1/reservations/${r.body.id}/confirm`, { token });
          record('confirm', c, cAt);
          if ('status' in c && c.status === 200) confirmed.add(r.body.id);
        }
      }
      await sleep(20);
    }
  }

  const sale = Array.from({ length: CLIENTS }, (_, n) => client(n));
  await sleep(1_500);
  const killedAt = Date.now();
  cluster.kill(master);
  // Promotion: the replica of the killed master serves the slot.
  let promotedAt = 0;
  while (Date.now() - killedAt < 20_000) {
    const now = await cluster.masterOf(eventKeys(h.config.redis.prefix, ev.id).meta, [master]).catch(() => master);
    if (now !== master) {
      promotedAt = Date.now();
      break;
    }
    await sleep(100);
  }
  expect(promotedAt).toBeGreaterThan(0);
  // Keep selling until holds succeed again, and a little longer.
  let recoveredAt = 0;
  while (Date.now() - killedAt < 30_000) {
    recoveredAt = samples.find((s) => s.kind === 'hold' && s.at > promotedAt && (s.status === 201 || s.status === 409 || s.status === 429))?.at ?? 0;
    if (recoveredAt) break;
    await sleep(100);
  }
  await sleep(2_000);
  stop = true;
  await Promise.all(sale);

  const byStatus = (from: number, to: number) =>
    samples.filter((s) => s.at >= from && s.at < to).reduce<Record<string, number>>((m, s) => ((m[String(s.status)] = (m[String(s.status)] ?? 0) + 1), m), {});
  const inFlight = samples.filter((s) => s.at < killedAt && s.at + s.ms > killedAt);
  console.log('failover drill', {
    master,
    inFlightAtKill: { n: inFlight.length, maxMs: Math.max(0, ...inFlight.map((s) => s.ms)), statuses: byStatus(0, 0) && [...new Set(inFlight.map((s) => s.status))] },
    promotedMs: promotedAt - killedAt,
    recoveredMs: recoveredAt - killedAt,
    before: byStatus(0, killedAt),
    duringFailover: byStatus(killedAt, recoveredAt || Infinity),
    after: byStatus(recoveredAt || Infinity, Infinity),
  });

  // Every answer is a decision or a 503 with Retry-After: never a 500, never a dropped connection.
  for (const s of samples) expect([200, 201, 409, 429, 503]).toContain(s.status);
  for (const s of samples) expect(s.retryAfter).toBe(true);
  expect(recoveredAt).toBeGreaterThan(0);

  // PostgreSQL has every acknowledged hold and confirm.
  const ids = [...held.keys()];
  const rows = await h.core.sql<{ id: string; status: string }[]>`select id, status from reservations where id = any(${ids}::uuid[])`;
  const status = new Map(rows.map((r) => [r.id, r.status]));
  for (const id of ids) expect(status.has(id)).toBe(true);
  for (const id of confirmed) expect(status.get(id)).toBe('confirmed');

  // Redis converges on PostgreSQL (the reconciler repairs whatever the dead master took along).
  const ms = await expectRedisToAgree(h, ev.id, { maxPerUser: MAX_PER_USER });
  console.log('failover drill: Redis agreed with PostgreSQL', ms, 'ms after the sale ended');
  // The killed node comes back as a replica and the cluster is whole again.
  await cluster.heal();
}, 120_000);
