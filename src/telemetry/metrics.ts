import client from 'prom-client';

/**
 * Every Prometheus series boxoffice exports, in one place. prom-client's default registry
 * is process-wide by design (one scrape per process); series that read live state
 * (pool, outbox backlog, open streams) are bound at start-up by the process that owns it.
 */
export const registry = client.register;
client.collectDefaultMetrics({ register: registry, prefix: 'boxoffice_process_' });

/** Live state read at scrape time, bound by the process that owns it. */
export const liveSources: {
  pool?: () => { process: string; busy: number; waiting: number };
  outbox?: () => Promise<{ backlog: number; oldestAgeSeconds: number }>;
} = {};

const LATENCY = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const metrics = {
  httpDuration: new client.Histogram({
    name: 'boxoffice_http_request_duration_seconds',
    help: 'HTTP request latency by route template, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY,
  }),
  luaDuration: new client.Histogram({
    name: 'boxoffice_lua_script_duration_seconds',
    help: 'Latency of each Lua script call',
    labelNames: ['script'] as const,
    buckets: LATENCY,
  }),
  holdOutcomes: new client.Counter({
    name: 'boxoffice_hold_outcomes_total',
    help: 'Hold attempts decided by the reserve script: held, or rejected and why',
    labelNames: ['outcome'] as const,
  }),
  redisDuration: new client.Histogram({
    name: 'boxoffice_redis_command_duration_seconds',
    help: 'Redis command latency as seen by the client (auto-pipelined)',
    labelNames: ['command'] as const,
    buckets: LATENCY,
  }),
  pgDuration: new client.Histogram({
    name: 'boxoffice_pg_query_duration_seconds',
    help: 'PostgreSQL query latency by query name',
    labelNames: ['query'] as const,
    buckets: LATENCY,
  }),
  pgPoolMax: new client.Gauge({ name: 'boxoffice_pg_pool_max', help: 'Configured pool size', labelNames: ['process'] as const }),
  pgPoolBusy: new client.Gauge({
    name: 'boxoffice_pg_pool_busy',
    help: 'Queries running on pool connections',
    labelNames: ['process'] as const,
    collect() {
      const p = liveSources.pool?.();
      if (p) this.set({ process: p.process }, p.busy);
    },
  }),
  pgPoolWaiting: new client.Gauge({
    name: 'boxoffice_pg_pool_waiting',
    help: 'Queries waiting for a free pool connection',
    labelNames: ['process'] as const,
    collect() {
      const p = liveSources.pool?.();
      if (p) this.set({ process: p.process }, p.waiting);
    },
  }),
  groupCommitBatch: new client.Histogram({
    name: 'boxoffice_group_commit_batch_size',
    help: 'Holds written per group-commit statement',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
  }),
  breakerState: new client.Gauge({
    name: 'boxoffice_breaker_state',
    help: 'Circuit breaker per dependency: 0 closed, 1 half-open, 2 open',
    labelNames: ['breaker'] as const,
  }),
  queueLength: new client.Gauge({ name: 'boxoffice_queue_length', help: 'Tickets issued and not yet admitted', labelNames: ['event'] as const }),
  queueAdmitRate: new client.Gauge({ name: 'boxoffice_queue_admission_rate', help: 'Measured admissions per second', labelNames: ['event'] as const }),
  sseStreams: new client.Gauge({ name: 'boxoffice_sse_streams_open', help: 'Open queue SSE streams in this process', labelNames: ['event'] as const }),
  outboxBacklog: new client.Gauge({
    name: 'boxoffice_outbox_backlog',
    help: 'Outbox rows not yet acknowledged by Kafka',
    async collect() {
      const o = await liveSources.outbox?.().catch(() => undefined);
      if (o) this.set(o.backlog);
    },
  }),
  outboxOldestAge: new client.Gauge({
    name: 'boxoffice_outbox_oldest_unsent_age_seconds',
    help: 'Age of the oldest unsent outbox row',
    async collect() {
      const o = await liveSources.outbox?.().catch(() => undefined);
      if (o) this.set(o.oldestAgeSeconds);
    },
  }),
  relayBatch: new client.Histogram({
    name: 'boxoffice_outbox_relay_batch_size',
    help: 'Messages per relay publish',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
  }),
  relayPublished: new client.Counter({ name: 'boxoffice_outbox_published_total', help: 'Outbox messages acknowledged by Kafka' }),
  workerReleases: new client.Counter({
    name: 'boxoffice_worker_releases_total',
    help: 'Holds released by the worker',
    labelNames: ['reason'] as const,
  }),
};

export type Metrics = typeof metrics;
