import { randomBytes } from 'node:crypto';
import { DEV_JWT_SECRET, DEV_PAYMENT_SECRET, DEV_QUEUE_SECRET, DEV_TICKET_KEY, envSchema, type Env } from './env';

export { CONFIG_VARIABLES, configDefaults } from './env';

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
    /** TLS on every connection; `caFile`: the PEM file of a private CA. */
    tls?: { caFile?: string };
    username?: string;
    password?: string;
    /** Cluster only: announced "host:port" -> the address to connect to instead. */
    natMap?: Record<string, { host: string; port: number }>;
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
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  const s = secretsOf(e);
  const problems = [...s.problems, ...inconsistencies(e)];
  if (problems.length) throw new ConfigError(problems);
  return assemble(e, s);
}

type Secrets = ReturnType<typeof secretsOf>;

/** The secrets, the identity and payment settings that depend on each other, and what is wrong with them. */
function secretsOf(e: Env) {
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
  return { hs256Secret, queueSecret, devPaymentSecret, ticketSigningKey, provider, stripeApi, insecureDefaults, problems };
}

/** Settings that are each valid but wrong together. */
function inconsistencies(e: Env): string[] {
  const problems: string[] = [];
  if (e.REBUILD_QUIESCE_MS < e.PG_STATEMENT_TIMEOUT_MS + 500) {
    problems.push(
      'REBUILD_QUIESCE_MS: must exceed PG_STATEMENT_TIMEOUT_MS by at least 500 (a rebuild waits out in-flight writes; the difference is how long a hold may take to reach PostgreSQL)',
    );
  }
  if (e.REDIS_CLUSTER_NAT_MAP && !e.REDIS_CLUSTER_NODES) {
    problems.push('REDIS_CLUSTER_NAT_MAP: applies to a Redis Cluster only (REDIS_CLUSTER_NODES)');
  }
  if (e.RECONCILE_ORPHAN_GRACE_MS <= e.PG_STATEMENT_TIMEOUT_MS) {
    problems.push('RECONCILE_ORPHAN_GRACE_MS: must exceed PG_STATEMENT_TIMEOUT_MS');
  }
  return problems;
}

function assemble(e: Env, s: Secrets): Config {
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
    jwtSecret: s.hs256Secret ?? randomBytes(32).toString('base64url'),
    auth: {
      hs256Secret: s.hs256Secret,
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
    queueSecret: s.queueSecret,
    queueSecretsPrevious: e.QUEUE_SECRET_PREVIOUS.split(',').map((v) => v.trim()).filter(Boolean),
    insecureDefaults: s.insecureDefaults,
    devRoutes: e.NODE_ENV === 'development' && s.hs256Secret === DEV_JWT_SECRET,
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
      tls: e.REDIS_TLS || e.REDIS_TLS_CA_FILE ? { caFile: e.REDIS_TLS_CA_FILE } : undefined,
      username: e.REDIS_USERNAME,
      password: e.REDIS_PASSWORD,
      natMap: e.REDIS_CLUSTER_NAT_MAP
        ? Object.fromEntries(
            e.REDIS_CLUSTER_NAT_MAP.split(',').map((pair) => {
              const [from, to] = pair.split('=').map((v) => v.trim());
              const [host, port] = to!.split(':');
              return [from!, { host: host!, port: Number(port) }];
            }),
          )
        : undefined,
    },
    kafka: {
      brokers: e.KAFKA_BROKERS.split(',').map((v) => v.trim()).filter(Boolean),
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
      provider: s.provider,
      windowSeconds: e.PAYMENT_WINDOW_SECONDS,
      devSecret: s.devPaymentSecret,
      stripe:
        s.provider === 'stripe'
          ? {
              secretKey: e.STRIPE_SECRET_KEY!,
              webhookSecret: e.STRIPE_WEBHOOK_SECRET!,
              ...(s.stripeApi
                ? {
                    api: {
                      host: s.stripeApi.hostname,
                      port: Number(s.stripeApi.port || (s.stripeApi.protocol === 'https:' ? 443 : 80)),
                      protocol: s.stripeApi.protocol === 'https:' ? ('https' as const) : ('http' as const),
                    },
                  }
                : {}),
            }
          : null,
      refundIntervalMs: e.REFUND_INTERVAL_MS,
      refundBackoffMaxMs: e.REFUND_BACKOFF_MAX_MS,
    },
    ticketSigningKey: s.ticketSigningKey,
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
