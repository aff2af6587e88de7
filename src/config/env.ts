import { z } from 'zod';

export const DEV_JWT_SECRET = 'dev-secret-change-me';
export const DEV_QUEUE_SECRET = 'dev-queue-secret-change-me';
export const DEV_PAYMENT_SECRET = 'dev-payment-secret-change-me';
/** base64url seed of the development ticket-signing key (public: never use it in production). */
export const DEV_TICKET_KEY = 'ZGV2LXRpY2tldC1rZXktY2hhbmdlLW1lLXBsZWFzZSE';

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Every environment variable the config module reads, with its type, bounds and default. */
export const envSchema = z.object({
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
  /** TLS on every Redis connection (each cluster node, or the one Redis; a rediss:// REDIS_URL needs no flag). */
  REDIS_TLS: bool(false),
  /** PEM file of the CA that signed the Redis certificates (a private CA); unset: Node's CA list. */
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  /** AUTH on every Redis connection: an ACL user (unset: the default user) and its password; they override REDIS_URL's. */
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  /** announced-host:port=reachable-host:port,...: cluster nodes that announce addresses this process cannot reach (NAT, a proxy). */
  REDIS_CLUSTER_NAT_MAP: z
    .string()
    .regex(/^\s*[^\s,:=]+:\d{1,5}\s*=\s*[^\s,:=]+:\d{1,5}\s*(,\s*[^\s,:=]+:\d{1,5}\s*=\s*[^\s,:=]+:\d{1,5}\s*)*$/, 'expected host:port=host:port,...')
    .optional(),

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
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

/** Each variable's default as it would be written in the environment (undefined: none). */
export function configDefaults(): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(envSchema.shape).map(([name, type]) => {
      const r = (type as z.ZodType).safeParse(undefined);
      return [name, r.success && r.data !== undefined ? String(r.data) : undefined];
    }),
  );
}

export type Env = z.output<typeof envSchema>;
