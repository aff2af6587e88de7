import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../src/config/config';
import { createCore, type Core } from '../src/core';
import { createSql } from '../src/db/client';
import { migrate } from '../src/db/migrate';
import { createApp } from '../src/app';
import { signAccessToken } from '../src/auth/jwt';
import { checkRedis } from '../src/redis/client';
import { createLogger } from '../src/shared/logger';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS, TEST_REDIS_CLUSTER_NODES, TEST_REDIS_URL } from './env';

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/**
 * A whole in-process stack over the real PostgreSQL and Redis, with its own PostgreSQL
 * schema (migrated here, dropped on close) and Redis key prefix, so test files running in
 * parallel never see each other's rows, holds or outbox.
 */
export async function startHarness(env: Record<string, string> = {}) {
  // t_<epoch seconds>_<random>: the global setup can tell stale schemas from live ones.
  const schema = env.PG_SCHEMA ?? `t_${Math.floor(Date.now() / 1000)}_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const ownSchema = !env.PG_SCHEMA;
  const config: Config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    ...(TEST_REDIS_CLUSTER_NODES ? { REDIS_CLUSTER_NODES: TEST_REDIS_CLUSTER_NODES } : {}),
    KAFKA_BROKERS: TEST_KAFKA_BROKERS,
    REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Short enough that the Redis-loss tests stay quick, long enough for a loaded CI machine.
    REBUILD_QUIESCE_MS: '4000',
    PG_STATEMENT_TIMEOUT_MS: '1000',
    // v1 tests confirm directly; payment tests choose dev or stripe.
    PAYMENT_PROVIDER: 'none',
    ...env,
    PG_SCHEMA: schema,
  } as NodeJS.ProcessEnv);
  if (ownSchema) {
    const admin = createSql({ ...config.db, schema: undefined, max: 1 });
    await admin.unsafe(`create schema "${schema}"`);
    await admin.end({ timeout: 5 });
    const mig = createSql({ ...config.db, max: 1, statementTimeoutMs: 60_000 });
    await migrate(mig);
    await mig.end({ timeout: 5 });
  }
  const logger = createLogger(config.logLevel, 'test');
  const core = createCore(config, logger, 'test');
  const built = createApp({
    core,
    readiness: { postgres: () => core.sql`select 1`, redis: () => checkRedis(core.redis) },
  });
  const app = built.app;
  const token = (sub: string, admin = false) => signAccessToken(config.jwtSecret, { sub, admin });
  const signToken = (sub: string, ttlSeconds: number, admin = false) => signAccessToken(config.jwtSecret, { sub, admin, ttlSeconds });
  const adminToken = await token(`admin-${randomUUID()}`, true);

  async function call(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    }
    const res = await app.request(path, { method, headers, body });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  }

  async function createEvent(overrides: Record<string, unknown> = {}) {
    const now = Date.now();
    const res = await call('POST', '/v1/admin/events', {
      token: adminToken,
      body: {
        name: 'Test Night',
        startsAt: new Date(now + 86_400_000).toISOString(),
        salesOpenAt: new Date(now - 60_000).toISOString(),
        maxSeatsPerUser: 6,
        zones: [
          { code: 'A', name: 'Block A', priceCents: 9000, kind: 'seated', rows: 10, seatsPerRow: 10 },
          { code: 'FLOOR', name: 'Floor', priceCents: 15000, kind: 'ga', capacity: 200 },
        ],
        ...overrides,
      },
    });
    if (res.status !== 201) throw new Error(`create event: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { id: string; currency: string; zones: { code: string }[] };
  }

  return { config, core, app, call, token, signToken, adminToken, createEvent, close: async () => {
      await built.drain();
      await core.close();
    },
  };
}
