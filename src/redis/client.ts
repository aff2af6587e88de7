import { readFileSync } from 'node:fs';
import { Cluster, Redis, type ClusterOptions, type Command, type RedisOptions } from 'ioredis';
import type { Histogram } from 'prom-client';
import type { Config } from '../config/config';
import { boundLabels } from '../telemetry/bound-labels';
import { loadScripts, observeScripts, type Scripts } from './scripts';

/**
 * One Redis or a Redis Cluster behind the same command API. Every key of an event carries
 * the hash tag {evt:<id>}, so each script, MULTI and multi-key command lands on one slot
 * and the application code is the same for both.
 */
export type RedisClient = Redis & Scripts;

type Opts = {
  lazy?: boolean;
  onError?: (err: Error) => void;
  /** The process's histograms; without them nothing is timed. */
  metrics?: { redisDuration: Histogram<'command'>; luaDuration: Histogram<'script'> };
};

/** ioredis with auto-pipelining and bounded timeouts; every Lua script registered once. */
export function createRedis(cfg: Config['redis'], opts: Opts = {}): RedisClient {
  return cfg.clusterNodes?.length ? createCluster(cfg, cfg.clusterNodes, opts) : createSingle(cfg, opts);
}

/** What every connection shares, one Redis or each cluster node: timeouts, TLS, AUTH. */
export function nodeOptions(cfg: Config['redis']): RedisOptions {
  return {
    commandTimeout: cfg.commandTimeoutMs,
    connectTimeout: cfg.connectTimeoutMs,
    maxRetriesPerRequest: 2,
    // Commands issued while reconnecting wait in the offline queue, bounded by
    // maxRetriesPerRequest and commandTimeout, so a request answers 503 within seconds.
    enableOfflineQueue: true,
    ...(cfg.tls ? { tls: cfg.tls.caFile ? { ca: readFileSync(cfg.tls.caFile) } : {} } : {}),
    // Unset, a URL's credentials (if any) stay; set, they replace them (singleUrl).
    ...(cfg.username ? { username: cfg.username } : {}),
    ...(cfg.password ? { password: cfg.password } : {}),
  };
}

/** The one Redis: REDIS_URL (rediss:// is TLS too), plus the shared node options. */
export function singleOptions(cfg: Config['redis'], opts: Pick<Opts, 'lazy'> = {}): RedisOptions {
  return {
    ...nodeOptions(cfg),
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    lazyConnect: opts.lazy ?? false,
  };
}

/** REDIS_URL, without the credentials REDIS_USERNAME / REDIS_PASSWORD replace (ioredis lets the URL's win). */
export function singleUrl(cfg: Config['redis']): string {
  if (!cfg.username && !cfg.password) return cfg.url;
  const u = new URL(cfg.url);
  if (cfg.username) u.username = '';
  if (cfg.password) u.password = '';
  return u.toString();
}

function createSingle(cfg: Config['redis'], opts: Opts): RedisClient {
  const redis = new Redis(singleUrl(cfg), singleOptions(cfg, opts));
  reportErrors(redis, opts);
  loadScripts(redis);
  if (opts.metrics) {
    observeScripts(redis, opts.metrics.luaDuration);
    timeCommands(redis, opts.metrics.redisDuration);
  }
  return redis as RedisClient;
}

export function clusterOptions(cfg: Config['redis'], opts: Pick<Opts, 'lazy'> = {}): ClusterOptions {
  return {
    // Auto-pipelining groups commands per node; each command still names one slot.
    enableAutoPipelining: true,
    // Reads go to masters: a replica may lag behind the hold a request just made.
    scaleReads: 'master',
    // TLS and AUTH go to every node connection, the seeds and those the slot map names.
    redisOptions: nodeOptions(cfg),
    // Nodes announce their own (private) addresses in the slot map; behind NAT or a proxy
    // the client connects to the mapped address instead.
    ...(cfg.natMap ? { natMap: cfg.natMap } : {}),
    // With TLS the certificate names the host (a managed service's configuration endpoint),
    // not its IP: ioredis must connect by name, not resolve it first (ElastiCache's advice).
    ...(cfg.tls ? { dnsLookup: (address: string, done: (err: Error | null, address: string) => void) => done(null, address) } : {}),
    // Until the first slot map arrives, commands wait (the cluster's own offline queue).
    enableOfflineQueue: true,
    // A command to a master that died is retried on the refreshed slot map, every
    // retryDelayOnFailover, up to maxRedirections times: a promotion within ~2 s is
    // invisible, a longer one fails the request (503) instead of hanging it.
    maxRedirections: 8,
    retryDelayOnFailover: 250,
    retryDelayOnClusterDown: 250,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: Math.min(cfg.commandTimeoutMs, 2_000),
    slotsRefreshInterval: 2_000,
    clusterRetryStrategy: (times) => Math.min(times * 100, 2_000),
    lazyConnect: opts.lazy ?? false,
  };
}

function createCluster(cfg: Config['redis'], nodes: { host: string; port: number }[], opts: Opts): RedisClient {
  const cluster = new Cluster(nodes, clusterOptions(cfg, opts));
  reportErrors(cluster, opts);
  // ioredis sends each script with EVAL the first time on every node connection and by
  // EVALSHA after, re-sending EVAL on NOSCRIPT: a promoted replica or a node that lost
  // its script cache gets the script on first use, no SCRIPT LOAD round needed.
  loadScripts(cluster);
  if (opts.metrics) {
    const { luaDuration, redisDuration } = opts.metrics;
    observeScripts(cluster as unknown as Redis, luaDuration);
    cluster.on('+node', (node: Redis) => timeCommands(node, redisDuration));
  }
  return cluster as unknown as RedisClient;
}

function reportErrors(redis: Redis | Cluster, opts: Opts) {
  // Connection errors surface as 503s and in /readyz; this only keeps them off stderr.
  let lastReport = 0;
  redis.on('error', (err: Error) => {
    if (Date.now() - lastReport < 5_000) return;
    lastReport = Date.now();
    opts.onError?.(err);
  });
  // A cluster also reports errors of single nodes.
  redis.on('node error', (err: Error) => {
    if (Date.now() - lastReport < 5_000) return;
    lastReport = Date.now();
    opts.onError?.(err);
  });
}

/** One latency sample per command, taken where ioredis sends it (auto-pipelining included). */
function timeCommands(redis: Redis, duration: Histogram<'command'>) {
  const send = redis.sendCommand.bind(redis);
  const byName = boundLabels(duration);
  redis.sendCommand = ((command: Command, stream?: unknown) => {
    const h = byName(command.name);
    const started = performance.now();
    const end = () => h.observe((performance.now() - started) / 1000);
    command.promise.then(end, end);
    return send(command, stream as never);
  }) as typeof redis.sendCommand;
}

export function isCluster(redis: RedisClient): boolean {
  return (redis as unknown) instanceof Cluster;
}

/** The masters of a cluster, or the one Redis: where per-node commands (INFO, SCAN) go. */
export function redisMasters(redis: RedisClient): Redis[] {
  return isCluster(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
}

/**
 * Readiness: the one Redis answers PING; a cluster answers CLUSTER INFO with
 * cluster_state:ok on every master the client knows (a slot without a master fails it).
 */
export async function checkRedis(redis: RedisClient): Promise<void> {
  if (!isCluster(redis)) {
    await redis.ping();
    return;
  }
  const masters = redisMasters(redis);
  if (!masters.length) throw new Error('redis cluster: no master known yet');
  await Promise.all(
    masters.map(async (node) => {
      const info = String(await node.cluster('INFO'));
      const state = /cluster_state:(\w+)/.exec(info)?.[1];
      if (state !== 'ok') throw new Error(`redis cluster: ${node.options.host}:${node.options.port} reports cluster_state:${state ?? '?'}`);
    }),
  );
}
