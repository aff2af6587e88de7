// The system under test, started the way `npm start` starts it (node --import tsx --import
// ./src/telemetry/register.ts src/api.ts | src/worker.ts), but pointed at the bench database
// (own schema per run), Redis db 3 with a fresh key prefix and a Kafka topic of this run.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { signAccessToken } from '../../../src/auth/jwt';
import { loadConfig, type Config } from '../../../src/config/config';
import { createSql, type Sql } from '../../../src/db/client';
import { ensureDatabase, migrate } from '../../../src/db/migrate';
import { createKafka, ensureTopic } from '../../../src/outbox/kafka';
import { createLogger } from '../../../src/shared/logger';
import { freePort, rawRequest } from '../../../test/process';
import { prefixPattern } from '../../../src/redis/keys';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export type BenchEnv = {
  runId: string;
  env: Record<string, string>;
  config: Config;
  /** Pool on the run's schema, for setup and the correctness checks. */
  sql: Sql;
  adminToken: string;
  close(opts: { keep: boolean }): Promise<void>;
};

/** Creates the run's schema (migrated), topic and key prefix; `close` drops them again. */
export async function benchEnv(runId: string): Promise<BenchEnv> {
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/boxoffice_bench',
    PG_SCHEMA: `bench_${runId}`,
    REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/3',
    REDIS_PREFIX: `bench${runId}`,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    KAFKA_TOPIC: `bench.booking.${runId}`,
    // Expired holds are swept every second instead of every two: the flash sale's abandoned
    // holds come back sooner. Everything else is the default configuration.
    RELEASE_INTERVAL_MS: '1000',
    // Every simulated buyer comes from 127.0.0.1: a per-address join limit would refuse them.
    QUEUE_JOIN_LIMIT_PER_ADDRESS: '0',
    // The scenarios measuring routes confirm directly (v1); the flash sale restarts the stack
    // with flashPaymentEnv() so its buyers pay.
    PAYMENT_PROVIDER: 'none',
  };
  const config = loadConfig(env);
  await ensureDatabase(config.db.url);
  const admin = createSql({ ...config.db, schema: undefined, max: 1 });
  await admin.unsafe(`create schema if not exists "${env.PG_SCHEMA}"`);
  await admin.end({ timeout: 5 });
  const sql = createSql({ ...config.db, max: 4, statementTimeoutMs: 600_000 }, { applicationName: 'boxoffice-bench' });
  await migrate(sql);
  const logger = createLogger('warn', 'bench');
  await ensureTopic(createKafka(config.kafka, logger, 'bench-setup'), config.kafka.topic, 3);
  const adminToken = await signAccessToken(config.jwtSecret, { sub: 'bench-admin', admin: true, ttlSeconds: 4 * 3600 });
  return {
    runId,
    env,
    config,
    sql,
    adminToken,
    async close({ keep }) {
      if (!keep) {
        await sql.unsafe(`drop schema if exists "${env.PG_SCHEMA}" cascade`).catch(() => {});
        const { Redis } = await import('ioredis');
        const redis = new Redis(config.redis.url);
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', prefixPattern(config.redis.prefix), 'COUNT', 1000);
          cursor = next;
          if (keys.length) await redis.unlink(...keys);
        } while (cursor !== '0');
        await redis.quit();
        const kadmin = createKafka(config.kafka, logger, 'bench-cleanup').admin();
        await kadmin.connect();
        await kadmin.deleteTopics({ topics: [config.kafka.topic] }).catch(() => {});
        await kadmin.disconnect();
      }
      await sql.end({ timeout: 5 });
    },
  };
}

/**
 * The flash sale's payments: the dev provider by default (BENCH_PAYMENT_PROVIDER=none confirms
 * as in v1), and the shortest payment window the config allows, so late payers (after the hold
 * extended by checkout expired) and failed payments' holds come back within the sale.
 */
export function flashPaymentEnv(): { PAYMENT_PROVIDER: string; PAYMENT_WINDOW_SECONDS: string } {
  return {
    PAYMENT_PROVIDER: process.env.BENCH_PAYMENT_PROVIDER ?? 'dev',
    PAYMENT_WINDOW_SECONDS: process.env.BENCH_PAYMENT_WINDOW_SECONDS ?? '30',
  };
}

export type Proc = ChildProcess & {
  name: string;
  port: number;
  inspectPort: number;
  output: () => string;
  stopping: boolean;
  /** Every process of this one (a cluster's primary and its API processes), for CPU figures. */
  pids: () => number[];
};

/** Node child processes of pid (a cluster's API processes; tsx's esbuild helper left out). */
export function nodeChildren(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'node';
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/**
 * One api or worker process, exactly like scripts/start.sh starts it (inspector port for
 * profile.sh), or `cluster`: src/cluster.ts with API_PROCESSES from `extraEnv`, as npm start
 * runs the API; it is ready once every API process answers.
 */
export async function startProcess(be: BenchEnv, entry: 'api' | 'worker' | 'cluster', name: string, extraEnv: Record<string, string> = {}): Promise<Proc> {
  const port = await freePort();
  const inspectPort = await freePort();
  const args = entry === 'cluster'
    ? ['--import', 'tsx', 'src/cluster.ts']
    : [`--inspect-port=127.0.0.1:${inspectPort}`, '--import', 'tsx', '--import', './src/telemetry/register.ts', `src/${entry}.ts`];
  const child = spawn(
    process.execPath,
    args,
    {
      cwd: process.env.BENCH_API_ROOT ?? ROOT,
      env: { ...process.env, ...be.env, PORT: String(entry === 'worker' ? 0 : port), WORKER_METRICS_PORT: String(port), ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const pids = () => (child.pid ? [child.pid, ...(entry === 'cluster' ? nodeChildren(child.pid) : [])] : []);
  const p = Object.assign(child, { name, port, inspectPort, output: () => out, stopping: false, pids });
  child.on('exit', (code, signal) => {
    if (!p.stopping) process.stdout.write(`[bench] ${name} (pid ${child.pid}) exited unexpectedly: code ${code}, signal ${signal}\n${out.slice(-3000)}\n`);
  });
  const path = entry === 'worker' ? '/metrics' : '/healthz';
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await rawRequest(port, 'GET', path);
    if ('status' in r && r.status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${name} did not start:\n${out}`);
    await sleep(150);
  }
  if (entry === 'cluster') {
    // The first API process answers before the others listen: wait for all of them.
    const want = Number(extraEnv.API_PROCESSES ?? 1);
    while (nodeChildren(child.pid!).length < want && Date.now() < deadline) await sleep(150);
    await sleep(3_000 + 1_500 * want);
  }
  return p;
}

export async function stopProcess(p: Proc): Promise<void> {
  if (p.exitCode !== null) return;
  p.stopping = true;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000)]);
  if (p.exitCode === null) p.kill('SIGKILL');
}

export const shortId = () => randomUUID().replaceAll('-', '').slice(0, 8);
