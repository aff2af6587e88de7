import { z } from 'zod';

const DEV_JWT_SECRET = 'dev-secret-change-me';
const DEV_QUEUE_SECRET = 'dev-queue-secret-change-me';

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: int(3000, 0, 65535),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: int(64 * 1024, 1024, 16 * 1024 * 1024),
  REQUEST_TIMEOUT_MS: int(30_000, 100),
  SHUTDOWN_TIMEOUT_MS: int(30_000, 100),
  RATE_LIMIT_WINDOW_MS: int(10_000, 100),
  /** Writes per caller per window per API process; 0 turns the limit off. */
  RATE_LIMIT_MAX: int(300, 0),

  JWT_SECRET: z.string().min(16).optional(),
  QUEUE_SECRET: z.string().min(16).optional(),
  /** Earlier QUEUE_SECRETs (comma-separated), still accepted for tickets and passes they signed. */
  QUEUE_SECRET_PREVIOUS: z.string().default(''),

  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/boxoffice'),
  PG_POOL_MAX: int(10, 1, 500),
  PG_IDLE_TIMEOUT_S: int(30, 0),
  PG_MAX_LIFETIME_S: int(30 * 60, 0),
  PG_CONNECT_TIMEOUT_S: int(5, 1),
  PG_PREPARE: bool(true),
  PG_STATEMENT_TIMEOUT_MS: int(3_000, 100),
  /** Optional schema (search_path); tests give each stack its own. */
  PG_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).optional(),

  REDIS_URL: z.string().default('redis://127.0.0.1:6379/0'),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('bo'),
  REDIS_COMMAND_TIMEOUT_MS: int(2_000, 50),
  REDIS_CONNECT_TIMEOUT_MS: int(3_000, 50),

  KAFKA_BROKERS: z.string().default('127.0.0.1:9092'),
  KAFKA_TOPIC: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/).default('booking.events'),
  KAFKA_CLIENT_ID: z.string().default('boxoffice'),

  GROUP_COMMIT_MAX_BATCH: int(256, 1, 5_000),
  GROUP_COMMIT_CONCURRENCY: int(4, 1, 64),
  REBUILD_LOCK_MS: int(30_000, 1_000),
  /** How long a rebuild waits, after taking its lock, for writes whose Lua ran before Redis was lost. */
  REBUILD_QUIESCE_MS: int(5_000, 0),
  IDEMPOTENCY_WAIT_MS: int(2_000, 0),

  RELEASE_INTERVAL_MS: int(2_000, 50),
  RELEASE_BATCH: int(500, 1, 10_000),
  RECONCILE_INTERVAL_MS: int(60_000, 1_000),
  RECONCILE_ORPHAN_GRACE_MS: int(30_000, 1_000),
  RECONCILE_LOOKBACK_MS: int(2 * 86_400_000, 0),
  WORKER_METRICS_PORT: int(9464, 0, 65535),

  RELAY_BATCH_SIZE: int(500, 1, 10_000),
  RELAY_LINGER_MS: int(5, 0, 1_000),
  RELAY_POLL_MS: int(2_000, 50),
  RELAY_BACKOFF_MAX_MS: int(10_000, 100),
  NOTIFICATIONS_GROUP_ID: z.string().min(1).default('boxoffice-notifications'),

  STREAM_CHUNK_BYTES: int(32 * 1024, 1, 16 * 1024 * 1024),

  QUEUE_TICK_MS: int(200, 20, 5_000),
  QUEUE_IDLE_SKIP_SECONDS: int(60, 1, 86_400),
  QUEUE_PING_SECONDS: int(15, 1, 300),
  QUEUE_RETRY_MS: int(2_000, 100, 60_000),
  QUEUE_ETA_WINDOW_SECONDS: int(10, 1, 600),
  QUEUE_MAX_SCAN: int(1_000, 100, 1_000_000),
  /** Joins per minute per user / per client address (0: no limit), shared by every process. */
  QUEUE_JOIN_LIMIT_PER_USER: int(60, 0),
  QUEUE_JOIN_LIMIT_PER_ADDRESS: int(3_000, 0),
  /** Proxies in front of the API that append to X-Forwarded-For (0: the socket's address is the client's). */
  QUEUE_TRUST_PROXY_HOPS: int(0, 0, 10),
  /** Proof of work: the largest number a client may have to try, and how long a challenge lives. */
  QUEUE_CHALLENGE_MAX_NUMBER: int(100_000, 10, 10_000_000),
  QUEUE_CHALLENGE_SECONDS: int(300, 10, 3_600),
});

export type Config = {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: string;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  rateLimit: { windowMs: number; limit: number };
  jwtSecret: string;
  queueSecret: string;
  /** Earlier queue secrets, accepted for verification only. */
  queueSecretsPrevious: string[];
  /** Secrets fell back to development defaults: the entry points warn about it. */
  insecureDefaults: string[];
  db: {
    url: string;
    max: number;
    idleTimeoutS: number;
    maxLifetimeS: number;
    connectTimeoutS: number;
    prepare: boolean;
    statementTimeoutMs: number;
    schema?: string;
  };
  redis: { url: string; prefix: string; commandTimeoutMs: number; connectTimeoutMs: number };
  kafka: { brokers: string[]; topic: string; clientId: string };
  groupCommit: { maxBatch: number; concurrency: number };
  rebuild: { lockMs: number; quiesceMs: number };
  idempotencyWaitMs: number;
  worker: {
    releaseIntervalMs: number;
    releaseBatch: number;
    reconcileIntervalMs: number;
    orphanGraceMs: number;
    closedLookbackMs: number;
    metricsPort: number;
  };
  relay: { batchSize: number; lingerMs: number; pollMs: number; backoffMaxMs: number };
  notificationsGroupId: string;
  /** Exports and big seat maps leave the process in chunks of at least this many bytes. */
  stream: { chunkBytes: number };
  queue: {
    /** How often each process advances admission and pushes to its streams. */
    tickMs: number;
    /** A ticket holder not seen (no stream, no poll) for this long is skipped when reached. */
    idleSkipMs: number;
    pingMs: number;
    /** `retry:` hint sent when a stream opens and when it is drained on shutdown. */
    retryMs: number;
    /** Window over which each process measures the admission rate for ETAs. */
    etaWindowMs: number;
    /** Most tickets one script call passes over (bounds how long it blocks Redis). */
    maxScan: number;
    joinLimitPerUser: number;
    joinLimitPerAddress: number;
    trustProxyHops: number;
    challengeMaxNumber: number;
    challengeTtlMs: number;
  };
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Env in, typed config out; every bad variable is listed at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  const insecureDefaults: string[] = [];
  const secret = (name: 'JWT_SECRET' | 'QUEUE_SECRET', dev: string): string => {
    const v = e[name];
    if (v) return v;
    if (e.NODE_ENV === 'production') problems.push(`${name}: required when NODE_ENV=production`);
    insecureDefaults.push(name);
    return dev;
  };
  const jwtSecret = secret('JWT_SECRET', DEV_JWT_SECRET);
  const queueSecret = secret('QUEUE_SECRET', DEV_QUEUE_SECRET);
  if (jwtSecret === queueSecret) problems.push('QUEUE_SECRET: must differ from JWT_SECRET');
  if (e.REBUILD_QUIESCE_MS < e.PG_STATEMENT_TIMEOUT_MS + 500) {
    problems.push(
      'REBUILD_QUIESCE_MS: must exceed PG_STATEMENT_TIMEOUT_MS by at least 500 (a rebuild waits out in-flight writes; the difference is how long a hold may take to reach PostgreSQL)',
    );
  }
  if (e.RECONCILE_ORPHAN_GRACE_MS <= e.PG_STATEMENT_TIMEOUT_MS) {
    problems.push('RECONCILE_ORPHAN_GRACE_MS: must exceed PG_STATEMENT_TIMEOUT_MS');
  }
  if (problems.length) throw new ConfigError(problems);

  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    rateLimit: { windowMs: e.RATE_LIMIT_WINDOW_MS, limit: e.RATE_LIMIT_MAX },
    jwtSecret,
    queueSecret,
    queueSecretsPrevious: e.QUEUE_SECRET_PREVIOUS.split(',').map((s) => s.trim()).filter(Boolean),
    insecureDefaults,
    db: {
      url: e.DATABASE_URL,
      max: e.PG_POOL_MAX,
      idleTimeoutS: e.PG_IDLE_TIMEOUT_S,
      maxLifetimeS: e.PG_MAX_LIFETIME_S,
      connectTimeoutS: e.PG_CONNECT_TIMEOUT_S,
      prepare: e.PG_PREPARE,
      statementTimeoutMs: e.PG_STATEMENT_TIMEOUT_MS,
      schema: e.PG_SCHEMA,
    },
    redis: {
      url: e.REDIS_URL,
      prefix: e.REDIS_PREFIX,
      commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
      connectTimeoutMs: e.REDIS_CONNECT_TIMEOUT_MS,
    },
    kafka: {
      brokers: e.KAFKA_BROKERS.split(',').map((s) => s.trim()).filter(Boolean),
      topic: e.KAFKA_TOPIC,
      clientId: e.KAFKA_CLIENT_ID,
    },
    groupCommit: { maxBatch: e.GROUP_COMMIT_MAX_BATCH, concurrency: e.GROUP_COMMIT_CONCURRENCY },
    rebuild: { lockMs: e.REBUILD_LOCK_MS, quiesceMs: e.REBUILD_QUIESCE_MS },
    idempotencyWaitMs: e.IDEMPOTENCY_WAIT_MS,
    worker: {
      releaseIntervalMs: e.RELEASE_INTERVAL_MS,
      releaseBatch: e.RELEASE_BATCH,
      reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
      orphanGraceMs: e.RECONCILE_ORPHAN_GRACE_MS,
      closedLookbackMs: e.RECONCILE_LOOKBACK_MS,
      metricsPort: e.WORKER_METRICS_PORT,
    },
    relay: {
      batchSize: e.RELAY_BATCH_SIZE,
      lingerMs: e.RELAY_LINGER_MS,
      pollMs: e.RELAY_POLL_MS,
      backoffMaxMs: e.RELAY_BACKOFF_MAX_MS,
    },
    notificationsGroupId: e.NOTIFICATIONS_GROUP_ID,
    stream: { chunkBytes: e.STREAM_CHUNK_BYTES },
    queue: {
      tickMs: e.QUEUE_TICK_MS,
      idleSkipMs: e.QUEUE_IDLE_SKIP_SECONDS * 1000,
      pingMs: e.QUEUE_PING_SECONDS * 1000,
      retryMs: e.QUEUE_RETRY_MS,
      etaWindowMs: e.QUEUE_ETA_WINDOW_SECONDS * 1000,
      maxScan: e.QUEUE_MAX_SCAN,
      joinLimitPerUser: e.QUEUE_JOIN_LIMIT_PER_USER,
      joinLimitPerAddress: e.QUEUE_JOIN_LIMIT_PER_ADDRESS,
      trustProxyHops: e.QUEUE_TRUST_PROXY_HOPS,
      challengeMaxNumber: e.QUEUE_CHALLENGE_MAX_NUMBER,
      challengeTtlMs: e.QUEUE_CHALLENGE_SECONDS * 1000,
    },
  };
}
