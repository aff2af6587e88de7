import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS } from '../env';
import type { Harness } from '../harness';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

/** Six consecutive ports, and their cluster bus ports (+10000), nobody listens on. */
async function freeBase(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    // Below the ephemeral range (32768+) for the bus ports too, so no client socket holds one.
    const base = 12_000 + Math.floor(Math.random() * 900) * 10;
    const ports = Array.from({ length: 6 }, (_, j) => base + j).flatMap((p) => [p, p + 10_000]);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no free port range for a private Redis Cluster');
}

export type PrivateCluster = Awaited<ReturnType<typeof startPrivateCluster>>;

/**
 * A Redis Cluster of its own (3 masters, 3 replicas, started by scripts/services.sh on
 * random ports), so a drill can kill nodes while the shared cluster serves other suites.
 */
export async function startPrivateCluster(nodeTimeoutMs = 1_000) {
  const base = await freeBase();
  const dir = mkdtempSync(path.join(tmpdir(), 'bo-cluster-'));
  const env = { ...process.env, BOXOFFICE_REDIS_CLUSTER_NODE_TIMEOUT: String(nodeTimeoutMs) };
  const services = (cmd: string) =>
    run('bash', ['scripts/services.sh', cmd, '--port', String(base), '--data-dir', dir], { cwd: ROOT, env });
  await services('redis-cluster-up').catch(async (err) => {
    await services('redis-cluster-down').catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const ports = Array.from({ length: 6 }, (_, i) => base + i);
  const pid = (port: number) => Number(readFileSync(path.join(dir, String(port), 'redis.pid'), 'utf8'));
  const paused = new Set<number>();
  const admin = (port: number) => new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });

  /** Ask a live node (not `exclude`) a question about the cluster. */
  async function ask<T>(fn: (r: Redis) => Promise<T>, exclude: number[] = []): Promise<T> {
    let last: unknown;
    for (const port of ports.filter((p) => !exclude.includes(p))) {
      const r = admin(port);
      try {
        await r.connect();
        return await fn(r);
      } catch (err) {
        last = err;
      } finally {
        r.disconnect();
      }
    }
    throw last;
  }

  return {
    base,
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    /** Port of the master serving the slot of `key`, as the live nodes see it. */
    async masterOf(key: string, exclude: number[] = []): Promise<number> {
      return ask(async (r) => {
        const slot = Number(await r.cluster('KEYSLOT', key));
        const slots = await r.cluster('SLOTS');
        const range = slots.find(([from, to]) => slot >= from && slot <= to);
        if (!range) throw new Error(`slot ${slot} not served`);
        return range[2]![1];
      }, exclude);
    },
    /** SIGKILL the redis-server on `port`: no shutdown, no last replication. */
    kill(port: number): void {
      process.kill(pid(port), 'SIGKILL');
    },
    /** Port of the replica of the master on `port`. */
    async replicaOf(port: number): Promise<number> {
      return ask(async (r) => {
        const id = String(await r.cluster('MYID'));
        const lines = (await r.cluster('REPLICAS', id)) as string[];
        const addr = lines[0]?.split(' ')[1];
        if (!addr) throw new Error(`master ${port} has no replica`);
        return Number(addr.split('@')[0]!.split(':')[1]);
      }, ports.filter((p) => p !== port));
    },
    /**
     * SIGSTOP / SIGCONT the redis-server on `port`: a stopped node reads nothing, neither
     * commands nor its replication stream, and cannot reconnect to anyone.
     */
    pause(port: number): void {
      process.kill(pid(port), 'SIGSTOP');
      paused.add(port);
    },
    resume(port: number): void {
      process.kill(pid(port), 'SIGCONT');
      paused.delete(port);
    },
    /** A connection of the test's own to one node (connect it before pausing that node). */
    async connect(port: number): Promise<Redis> {
      const r = admin(port);
      await r.connect();
      return r;
    },
    /** Restart missing nodes (they rejoin as replicas) and wait for a healthy cluster. */
    heal: () => services('redis-cluster-up'),
    async stop(): Promise<void> {
      for (const port of paused) process.kill(pid(port), 'SIGCONT');
      await services('redis-cluster-down').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a drill's API and worker processes run with: the harness's schema and key prefix, on this cluster. */
export function drillEnv(h: Harness, cluster: PrivateCluster): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: TEST_DATABASE_URL,
    PG_SCHEMA: h.config.db.schema!,
    REDIS_CLUSTER_NODES: cluster.nodes,
    REDIS_PREFIX: h.config.redis.prefix,
    KAFKA_BROKERS: TEST_KAFKA_BROKERS,
    RATE_LIMIT_MAX: '0',
    REBUILD_QUIESCE_MS: '2000',
    PG_STATEMENT_TIMEOUT_MS: '1000',
  };
}
