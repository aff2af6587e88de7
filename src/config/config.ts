import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const DEV_JWT_SECRET = 'dev-secret-change-me';
const DEV_QUEUE_SECRET = 'dev-queue-secret-change-me';
const DEV_PAYMENT_SECRET = 'dev-payment-secret-change-me';
/** base64url seed of the development ticket-signing key (public: never use it in production). */
const DEV_TICKET_KEY = 'ZGV2LXRpY2tldC1rZXktY2hhbmdlLW1lLXBsZWFzZSE';

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  // Unset (or empty) means development, as api.md says; what that unlocks is decided below.
  NODE_ENV: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['development', 'production', 'test']).default('development')),
  HOST: z.string().default('127.0.0.1'),
  PORT: int(3000, 0, 65535),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Share of requests logged at info ("request" lines): 0 off, 1 every one, 0.01 one in a hundred. */
  ACCESS_LOG: z.coerce.number().min(0).max(1).default(0),
  BODY_LIMIT_BYTES: int(64 * 1024, 1024, 16 * 1024 * 1024),
  REQUEST_TIMEOUT_MS: int(30_000, 100),
  /** Request line plus headers; a request over it gets 431 (Node's default, set explicitly). */
  HTTP_MAX_HEADER_BYTES: int(16 * 1024, 1024, 1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: int(30_000, 100),
  RATE_LIMIT_WINDOW_MS: int(10_000, 100),
  /** Writes per caller per window per API process; 0 turns the limit off. */
  RATE_LIMIT_MAX: int(300, 0),

  JWT_SECRET: z.string().min(16).optional(),
  /** An identity provider's JWKS: RS256/ES256 tokens verified against it (with issuer and audience). */
  JWT_JWKS_URL: z.string().url().optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  /** No refetch of the JWKS sooner than this after the last one, even for an unknown kid. */
  JWT_JWKS_COOLDOWN_MS: int(30_000, 0),
  JWT_JWKS_CACHE_MAX_AGE_MS: int(600_000, 1_000),
  JWT_JWKS_TIMEOUT_MS: int(5_000, 100),
  /** A token whose exp lies further ahead than this is refused (a token that never expires). */
  JWT_MAX_TTL_SECONDS: int(86_400, 60),
  QUEUE_SECRET: z.string().min(16).optional(),
  /** Earlier QUEUE_SECRETs (comma-separated), still accepted for tickets and passes they signed. */
  QUEUE_SECRET_PREVIOUS: z.string().default(''),

  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/boxoffice'),
  PG_POOL_MAX: int(10, 1, 500),
  /** Connections of the exports' own pool (each running export holds one for its whole download). */
  PG_EXPORT_POOL_MAX: int(2, 1, 100),
  /** API processes behind one port (npm start, src/cluster.ts); 0 = one per core. */
  API_PROCESSES: int(0, 0, 256),
  /** PostgreSQL connections all API processes share; each gets its part (at most PG_POOL_MAX). */
  API_PG_CONNECTIONS: int(40, 1, 5_000),
  PG_IDLE_TIMEOUT_S: int(30, 0),
  PG_MAX_LIFETIME_S: int(30 * 60, 0),
  PG_CONNECT_TIMEOUT_S: int(5, 1),
  PG_PREPARE: bool(true),
  PG_STATEMENT_TIMEOUT_MS: int(3_000, 100),
  /** Optional schema (search_path); tests give each stack its own. */
  PG_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).optional(),

  REDIS_URL: z.string().default('redis://127.0.0.1:6379/0'),
  /** host:port,host:port,...: run every Redis use on this Redis Cluster instead of REDIS_URL. */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*$/, 'expected host:port,host:port,...')
    .optional(),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('bo'),
  REDIS_COMMAND_TIMEOUT_MS: int(2_000, 50),
  REDIS_CONNECT_TIMEOUT_MS: int(3_000, 50),

  KAFKA_BROKERS: z.string().default('127.0.0.1:9092'),
  KAFKA_TOPIC: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/).default('booking.events'),
  KAFKA_CLIENT_ID: z.string().default('boxoffice'),
  /** Partitions of the topic the worker creates when it does not exist yet. */
  KAFKA_PARTITIONS: int(3, 1, 10_000),

  /** Circuit breakers (PostgreSQL, Redis, Kafka): open at this failure share over the window. */
  BREAKER_ERROR_PERCENT: int(50, 1, 100),
  BREAKER_VOLUME: int(5, 1),
  BREAKER_WINDOW_MS: int(10_000, 100),
  BREAKER_RESET_MS: int(2_000, 50),

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
  RETENTION_INTERVAL_MS: int(600_000, 1_000),
  RETENTION_BATCH: int(5_000, 1, 100_000),
  /** Sent outbox rows are kept this long (for audit and replay by hand), then purged. */
  OUTBOX_RETENTION_HOURS: int(7 * 24, 1),
  /** Consumer dedupe rows: keep them longer than Kafka keeps the topic, or a redelivery passes twice. */
  DEDUPE_RETENTION_HOURS: int(14 * 24, 1),

  RELAY_BATCH_SIZE: int(500, 1, 10_000),
  RELAY_LINGER_MS: int(5, 0, 1_000),
  RELAY_POLL_MS: int(2_000, 50),
  RELAY_BACKOFF_MAX_MS: int(10_000, 100),
  NOTIFICATIONS_GROUP_ID: z.string().min(1).default('boxoffice-notifications'),
  CONSUMER_METRICS_PORT: int(9465, 0, 65535),

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

  PAYMENT_PROVIDER: z.enum(['dev', 'stripe', 'none']).optional(),
  PAYMENT_WINDOW_SECONDS: int(600, 30, 86_400),
  DEV_PAYMENT_SECRET: z.string().min(16).optional(),
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(live|test)_[A-Za-z0-9_]+$/, 'a Stripe secret key (sk_live_... or sk_test_...)').optional(),
  STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_[A-Za-z0-9_]+$/, 'a Stripe webhook signing secret (whsec_...)').optional(),
  /** Only for tests and stand-ins: where the Stripe SDK sends its calls (e.g. http://127.0.0.1:12111). */
  STRIPE_API_URL: z.string().url().optional(),
  REFUND_INTERVAL_MS: int(5_000, 100),
  REFUND_BACKOFF_MAX_MS: int(300_000, 100),
  /** Ed25519 private key (PEM) or base64url 32-byte seed that signs ticket codes. */
  TICKET_SIGNING_KEY: z.string().min(32).optional(),

  /** smtp://user:pass@host:port (or smtps://); unset: mails are written to MAIL_DIR as .eml files. */
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().min(3).default('boxoffice <tickets@boxoffice.invalid>'),
  MAIL_DIR: z.string().min(1).default('var/mail'),
  MAIL_USER_DOMAIN: z.string().min(1).default('users.boxoffice.invalid'),
});

/** Every variable loadConfig reads: deployment manifests and docs/configuration.md are checked against it. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

/** Each variable's default as it would be written in the environment (undefined: none). */
export function configDefaults(): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(schema.shape).map(([name, type]) => {
      const r = (type as z.ZodType).safeParse(undefined);
      return [name, r.success && r.data !== undefined ? String(r.data) : undefined];
    }),
  );
}

export type Config = {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: string;
  accessLogSample: number;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  maxHeaderBytes: number;
  shutdownTimeoutMs: number;
  rateLimit: { windowMs: number; limit: number };
  /** How src/cluster.ts runs the API: process count (0 = cores) and their PostgreSQL budget. */
  cluster: { processes: number; pgConnections: number };
  /**
   * HS256 signing key for development tools and tests (scripts/token, dev sign-in). When HS256
   * is off (production with an identity provider and no JWT_SECRET), a random key nothing is
   * verified against. Verification reads `auth` only.
   */
  jwtSecret: string;
  auth: {
    /** HS256 tokens are accepted only when set (JWT_SECRET, or the development default). */
    hs256Secret?: string;
    jwks?: { url: string; issuer: string; audience: string; cooldownMs: number; cacheMaxAgeMs: number; timeoutMs: number };
    maxTtlSeconds: number;
  };
  queueSecret: string;
  /** Earlier queue secrets, accepted for verification only. */
  queueSecretsPrevious: string[];
  /** Secrets fell back to development defaults: the entry points warn about it. */
  insecureDefaults: string[];
  /**
   * Development-only routes (/v1/dev/*) exist: NODE_ENV is development AND the JWT secret is
   * the development default (api.md, Identity), so a deployment with a real secret that
   * forgot NODE_ENV never mints tokens signed with that secret for anyone.
   */
  devRoutes: boolean;
  db: {
    url: string;
    max: number;
    exportMax: number;
    idleTimeoutS: number;
    maxLifetimeS: number;
    connectTimeoutS: number;
    prepare: boolean;
    statementTimeoutMs: number;
    schema?: string;
  };
  redis: {
    url: string;
    /** Seed nodes of a Redis Cluster; when set, REDIS_URL is not used. */
    clusterNodes?: { host: string; port: number }[];
    prefix: string;
    commandTimeoutMs: number;
    connectTimeoutMs: number;
  };
  kafka: { brokers: string[]; topic: string; clientId: string; partitions: number };
  groupCommit: { maxBatch: number; concurrency: number };
  breakers: { errorThresholdPercentage: number; volumeThreshold: number; windowMs: number; resetTimeoutMs: number };
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
  retention: { intervalMs: number; batch: number; outboxAgeMs: number; dedupeAgeMs: number };
  relay: { batchSize: number; lingerMs: number; pollMs: number; backoffMaxMs: number };
  notificationsGroupId: string;
  /** The notifications consumer's /metrics and /healthz. */
  consumerMetricsPort: number;
  /** Exports and big seat maps leave the process in chunks of at least this many bytes. */
  stream: { chunkBytes: number };
  payments: {
    provider: 'dev' | 'stripe' | 'none';
    /** A checkout extends the hold once so it lasts at least this long from then. */
    windowSeconds: number;
    devSecret: string;
    stripe: { secretKey: string; webhookSecret: string; api?: { host: string; port: number; protocol: 'http' | 'https' } } | null;
    refundIntervalMs: number;
    refundBackoffMaxMs: number;
  };
  ticketSigningKey: string;
  mail: { smtpUrl?: string; from: string; dir: string; userDomain: string };
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
  const secret = (name: 'JWT_SECRET' | 'QUEUE_SECRET' | 'DEV_PAYMENT_SECRET' | 'TICKET_SIGNING_KEY', dev: string): string => {
    const v = e[name];
    if (v) return v;
    if (e.NODE_ENV === 'production') problems.push(`${name}: required when NODE_ENV=production`);
    insecureDefaults.push(name);
    return dev;
  };
  // With an identity provider, production needs no shared JWT secret (HS256 is then off).
  const providerOnly = Boolean(e.JWT_JWKS_URL) && !e.JWT_SECRET && e.NODE_ENV === 'production';
  const hs256Secret = providerOnly ? undefined : secret('JWT_SECRET', DEV_JWT_SECRET);
  const queueSecret = secret('QUEUE_SECRET', DEV_QUEUE_SECRET);
  if (hs256Secret === queueSecret) problems.push('QUEUE_SECRET: must differ from JWT_SECRET');
  if (e.JWT_JWKS_URL && (!e.JWT_ISSUER || !e.JWT_AUDIENCE)) {
    problems.push('JWT_JWKS_URL: needs JWT_ISSUER and JWT_AUDIENCE (a token for another application must not pass)');
  }
  if (!e.PAYMENT_PROVIDER && e.NODE_ENV === 'production') {
    problems.push('PAYMENT_PROVIDER: required when NODE_ENV=production (stripe, dev or none)');
  }
  const provider = e.PAYMENT_PROVIDER ?? 'dev';
  // Only a provider chosen as dev needs its secret (a missing PAYMENT_PROVIDER is reported above).
  const devPaymentSecret =
    provider === 'dev' && (e.PAYMENT_PROVIDER || e.NODE_ENV !== 'production')
      ? secret('DEV_PAYMENT_SECRET', DEV_PAYMENT_SECRET)
      : (e.DEV_PAYMENT_SECRET ?? DEV_PAYMENT_SECRET);
  const ticketSigningKey = secret('TICKET_SIGNING_KEY', DEV_TICKET_KEY);
  if (provider === 'stripe') {
    if (!e.STRIPE_SECRET_KEY) problems.push('STRIPE_SECRET_KEY: required when PAYMENT_PROVIDER=stripe');
    if (!e.STRIPE_WEBHOOK_SECRET) problems.push('STRIPE_WEBHOOK_SECRET: required when PAYMENT_PROVIDER=stripe');
  }
  const stripeApi = e.STRIPE_API_URL ? new URL(e.STRIPE_API_URL) : null;
  if (stripeApi && stripeApi.protocol !== 'http:' && stripeApi.protocol !== 'https:') {
    problems.push('STRIPE_API_URL: must be http or https');
  }
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
    accessLogSample: e.ACCESS_LOG,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    maxHeaderBytes: e.HTTP_MAX_HEADER_BYTES,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    rateLimit: { windowMs: e.RATE_LIMIT_WINDOW_MS, limit: e.RATE_LIMIT_MAX },
    cluster: { processes: e.API_PROCESSES, pgConnections: e.API_PG_CONNECTIONS },
    jwtSecret: hs256Secret ?? randomBytes(32).toString('base64url'),
    auth: {
      hs256Secret,
      jwks: e.JWT_JWKS_URL
        ? {
            url: e.JWT_JWKS_URL,
            issuer: e.JWT_ISSUER!,
            audience: e.JWT_AUDIENCE!,
            cooldownMs: e.JWT_JWKS_COOLDOWN_MS,
            cacheMaxAgeMs: e.JWT_JWKS_CACHE_MAX_AGE_MS,
            timeoutMs: e.JWT_JWKS_TIMEOUT_MS,
          }
        : undefined,
      maxTtlSeconds: e.JWT_MAX_TTL_SECONDS,
    },
    queueSecret,
    queueSecretsPrevious: e.QUEUE_SECRET_PREVIOUS.split(',').map((s) => s.trim()).filter(Boolean),
    insecureDefaults,
    devRoutes: e.NODE_ENV === 'development' && hs256Secret === DEV_JWT_SECRET,
    db: {
      url: e.DATABASE_URL,
      max: e.PG_POOL_MAX,
      exportMax: e.PG_EXPORT_POOL_MAX,
      idleTimeoutS: e.PG_IDLE_TIMEOUT_S,
      maxLifetimeS: e.PG_MAX_LIFETIME_S,
      connectTimeoutS: e.PG_CONNECT_TIMEOUT_S,
      prepare: e.PG_PREPARE,
      statementTimeoutMs: e.PG_STATEMENT_TIMEOUT_MS,
      schema: e.PG_SCHEMA,
    },
    redis: {
      url: e.REDIS_URL,
      clusterNodes: e.REDIS_CLUSTER_NODES?.split(',').map((s) => {
        const [host, port] = s.trim().split(':');
        return { host: host!, port: Number(port) };
      }),
      prefix: e.REDIS_PREFIX,
      commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
      connectTimeoutMs: e.REDIS_CONNECT_TIMEOUT_MS,
    },
    kafka: {
      brokers: e.KAFKA_BROKERS.split(',').map((s) => s.trim()).filter(Boolean),
      topic: e.KAFKA_TOPIC,
      clientId: e.KAFKA_CLIENT_ID,
      partitions: e.KAFKA_PARTITIONS,
    },
    groupCommit: { maxBatch: e.GROUP_COMMIT_MAX_BATCH, concurrency: e.GROUP_COMMIT_CONCURRENCY },
    breakers: {
      errorThresholdPercentage: e.BREAKER_ERROR_PERCENT,
      volumeThreshold: e.BREAKER_VOLUME,
      windowMs: e.BREAKER_WINDOW_MS,
      resetTimeoutMs: e.BREAKER_RESET_MS,
    },
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
    retention: {
      intervalMs: e.RETENTION_INTERVAL_MS,
      batch: e.RETENTION_BATCH,
      outboxAgeMs: e.OUTBOX_RETENTION_HOURS * 3_600_000,
      dedupeAgeMs: e.DEDUPE_RETENTION_HOURS * 3_600_000,
    },
    relay: {
      batchSize: e.RELAY_BATCH_SIZE,
      lingerMs: e.RELAY_LINGER_MS,
      pollMs: e.RELAY_POLL_MS,
      backoffMaxMs: e.RELAY_BACKOFF_MAX_MS,
    },
    notificationsGroupId: e.NOTIFICATIONS_GROUP_ID,
    consumerMetricsPort: e.CONSUMER_METRICS_PORT,
    stream: { chunkBytes: e.STREAM_CHUNK_BYTES },
    payments: {
      provider,
      windowSeconds: e.PAYMENT_WINDOW_SECONDS,
      devSecret: devPaymentSecret,
      stripe:
        provider === 'stripe'
          ? {
              secretKey: e.STRIPE_SECRET_KEY!,
              webhookSecret: e.STRIPE_WEBHOOK_SECRET!,
              ...(stripeApi
                ? {
                    api: {
                      host: stripeApi.hostname,
                      port: Number(stripeApi.port || (stripeApi.protocol === 'https:' ? 443 : 80)),
                      protocol: stripeApi.protocol === 'https:' ? ('https' as const) : ('http' as const),
                    },
                  }
                : {}),
            }
          : null,
      refundIntervalMs: e.REFUND_INTERVAL_MS,
      refundBackoffMaxMs: e.REFUND_BACKOFF_MAX_MS,
    },
    ticketSigningKey,
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM, dir: e.MAIL_DIR, userDomain: e.MAIL_USER_DOMAIN },
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
