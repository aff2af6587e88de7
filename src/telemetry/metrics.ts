import client, { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus series of each kind of process, each in a registry of its own, created by
 * the entry point and passed in: a process exports only what it does (the API no worker
 * series, the worker no HTTP series), and two stacks in one test process never mix.
 */

const LATENCY = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const JOB_LATENCY = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** postgres.js exposes no pool statistics; the pool counts its own load (db/observe.ts). */
export type PoolGaugeSource = () => { process: string; max: number; busy: number; waiting: number };

/** Default Node.js process series, named `boxoffice_process_*` / `boxoffice_nodejs_*`. */
function processSeries(registry: Registry): void {
  client.collectDefaultMetrics({ register: registry, prefix: 'boxoffice_' });
  // prom-client names these gauges `_total`, which Prometheus reserves for counters.
  for (const name of ['active_handles', 'active_requests', 'active_resources']) {
    registry.removeSingleMetric(`boxoffice_nodejs_${name}`);
    registry.removeSingleMetric(`boxoffice_nodejs_${name}_total`);
  }
  new Gauge({
    name: 'boxoffice_nodejs_active_resources',
    help: 'Resources keeping the event loop alive, by type',
    labelNames: ['type'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const t of process.getActiveResourcesInfo()) counts.set(t, (counts.get(t) ?? 0) + 1);
      for (const [type, n] of counts) this.set({ type }, n);
    },
  });
}

/** What every process that builds a core records: PostgreSQL, Redis and Lua, and its pools. */
function coreSeries(registry: Registry) {
  const r = [registry];
  const pools: PoolGaugeSource[] = [];
  const poolGauge = (name: string, help: string, pick: (p: ReturnType<PoolGaugeSource>) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['process'] as const,
      registers: r,
      collect() {
        for (const p of pools) {
          const s = p();
          this.set({ process: s.process }, pick(s));
        }
      },
    });
  poolGauge('boxoffice_pg_pool_max', 'Configured pool size', (s) => s.max);
  poolGauge('boxoffice_pg_pool_busy', 'Queries running on pool connections', (s) => s.busy);
  poolGauge('boxoffice_pg_pool_waiting', 'Queries waiting for a free pool connection', (s) => s.waiting);
  return {
    registry,
    /** Adds a pool to the pool gauges (each pool of this process). */
    watchPool: (source: PoolGaugeSource) => void pools.push(source),
    pgDuration: new Histogram({
      name: 'boxoffice_pg_query_duration_seconds',
      help: 'PostgreSQL query latency by query name',
      labelNames: ['query'] as const,
      buckets: LATENCY,
      registers: r,
    }),
    redisDuration: new Histogram({
      name: 'boxoffice_redis_command_duration_seconds',
      help: 'Redis command latency as seen by the client (auto-pipelined)',
      labelNames: ['command'] as const,
      buckets: LATENCY,
      registers: r,
    }),
    breakerState: new Gauge({
      name: 'boxoffice_breaker_state',
      help: 'Circuit breaker per dependency: 0 closed, 1 half-open, 2 open',
      labelNames: ['breaker'] as const,
      registers: r,
    }),
    luaDuration: new Histogram({
      name: 'boxoffice_lua_script_duration_seconds',
      help: 'Latency of each Lua script call',
      labelNames: ['script'] as const,
      buckets: LATENCY,
      registers: r,
    }),
  };
}

export type CoreMetrics = ReturnType<typeof coreSeries> & {
  /** Holds are decided only where buyers are served (the API). */
  holds?: { outcomes: Counter<'outcome'>; batch: Histogram };
};

function newRegistry(): Registry {
  const registry = new Registry();
  processSeries(registry);
  return registry;
}

/** The API process: HTTP, holds, and the streams it serves. */
export function createApiMetrics() {
  const core = coreSeries(newRegistry());
  const r = [core.registry];
  let streams: () => Map<string, number> = () => new Map();
  return {
    ...core,
    httpDuration: new Histogram({
      name: 'boxoffice_http_request_duration_seconds',
      help: 'HTTP request latency by route template, method and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: LATENCY,
      registers: r,
    }),
    holds: {
      outcomes: new Counter({
        name: 'boxoffice_hold_outcomes_total',
        help: 'Hold attempts decided by the reserve script: held, or rejected and why',
        labelNames: ['outcome'] as const,
        registers: r,
      }),
      batch: new Histogram({
        name: 'boxoffice_group_commit_batch_size',
        help: 'Holds written per group-commit statement',
        buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
        registers: r,
      }),
    },
    sseStreams: new Gauge({
      name: 'boxoffice_sse_streams_open',
      help: 'Open queue SSE streams in this process, by event',
      labelNames: ['event'] as const,
      registers: r,
      collect() {
        this.reset();
        for (const [event, n] of streams()) this.set({ event }, n);
      },
    }),
    /** The open streams per event, read at scrape time (the queue hub of this process). */
    watchStreams(source: () => Map<string, number>) {
      streams = source;
    },
  };
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;

export type OutboxSource = () => Promise<{ backlog: number; oldestAgeSeconds: number }>;
export type QueueSample = { event: string; waiting: number; admitted: number; admitPerSecond: number; paused: boolean };

/** The worker: its jobs, the outbox relay, and the waiting rooms it admits from. */
export function createWorkerMetrics() {
  const core = coreSeries(newRegistry());
  const r = [core.registry];
  let outbox: OutboxSource | undefined;
  // A scrape during a database outage still answers, without these two.
  const readOutbox = async () => outbox?.().catch(() => undefined);
  const queueGauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ['event'] as const, registers: r });
  const queue = {
    waiting: queueGauge('boxoffice_queue_waiting', 'Waiting-room tickets issued and not yet admitted'),
    admitted: queueGauge('boxoffice_queue_admitted', 'Buyers admitted from the waiting room so far (monotonic per event)'),
    rate: queueGauge('boxoffice_queue_admit_rate_limit', 'Configured admissions per second'),
    paused: queueGauge('boxoffice_queue_paused', '1 while admission is paused'),
  };
  let queued = new Set<string>();
  const jobRuns = new Counter({
    name: 'boxoffice_job_runs_total',
    help: 'Worker job runs by job and result (success or failure)',
    labelNames: ['job', 'result'] as const,
    registers: r,
  });
  const jobDuration = new Histogram({
    name: 'boxoffice_job_duration_seconds',
    help: 'Worker job run time, failed runs included',
    labelNames: ['job'] as const,
    buckets: JOB_LATENCY,
    registers: r,
  });
  return {
    ...core,
    /** JobRunner's onRun hook: every run counted, a failed one (a statement timeout) too. */
    onJobRun(job: string, ms: number, ok: boolean) {
      jobRuns.inc({ job, result: ok ? 'success' : 'failure' });
      jobDuration.observe({ job }, ms / 1000);
    },
    releases: new Counter({
      name: 'boxoffice_worker_releases_total',
      help: 'Holds released by the worker',
      labelNames: ['reason'] as const,
      registers: r,
    }),
    purged: new Counter({
      name: 'boxoffice_retention_purged_rows_total',
      help: 'Rows deleted by the retention job',
      labelNames: ['table'] as const,
      registers: r,
    }),
    relayBatch: new Histogram({
      name: 'boxoffice_outbox_relay_batch_size',
      help: 'Messages per relay publish',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: r,
    }),
    relayPublished: new Counter({
      name: 'boxoffice_outbox_published_total',
      help: 'Outbox messages acknowledged by Kafka',
      registers: r,
    }),
    outboxBacklog: new Gauge({
      name: 'boxoffice_outbox_backlog',
      help: 'Outbox rows not yet acknowledged by Kafka',
      registers: r,
      async collect() {
        const o = await readOutbox();
        if (o) this.set(o.backlog);
      },
    }),
    outboxOldestAge: new Gauge({
      name: 'boxoffice_outbox_oldest_unsent_age_seconds',
      help: 'Age of the oldest unsent outbox row',
      registers: r,
      async collect() {
        const o = await readOutbox();
        if (o) this.set(o.oldestAgeSeconds);
      },
    }),
    watchOutbox(source: OutboxSource) {
      outbox = source;
    },
    /** One admission pass: every open room's state, whatever transport its buyers use. */
    recordQueues(samples: QueueSample[]) {
      const now = new Set(samples.map((s) => s.event));
      for (const event of queued) if (!now.has(event)) for (const g of Object.values(queue)) g.remove({ event });
      queued = now;
      for (const s of samples) {
        queue.waiting.set({ event: s.event }, s.waiting);
        queue.admitted.set({ event: s.event }, s.admitted);
        queue.rate.set({ event: s.event }, s.admitPerSecond);
        queue.paused.set({ event: s.event }, s.paused ? 1 : 0);
      }
    },
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

/** A downstream consumer: messages handled and how far behind the topic it is. */
export function createConsumerMetrics() {
  const core = coreSeries(newRegistry());
  const r = [core.registry];
  return {
    ...core,
    messages: new Counter({
      name: 'boxoffice_consumer_messages_total',
      help: 'Messages taken from Kafka, by consumer and result (handled, duplicate)',
      labelNames: ['consumer', 'result'] as const,
      registers: r,
    }),
    lag: new Gauge({
      name: 'boxoffice_consumer_lag_messages',
      help: 'Messages behind the partition high watermark, by consumer and partition',
      labelNames: ['consumer', 'partition'] as const,
      registers: r,
    }),
  };
}
export type ConsumerMetrics = ReturnType<typeof createConsumerMetrics>;
