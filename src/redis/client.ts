import { Redis, type Command } from 'ioredis';
import type { Histogram } from 'prom-client';
import type { Config } from '../config/config';
import { loadScripts, observeScripts, type Scripts } from './scripts';

export type RedisClient = Redis & Scripts;

/** ioredis with auto-pipelining and bounded timeouts; every Lua script registered once. */
export function createRedis(
  cfg: Config['redis'],
  opts: {
    lazy?: boolean;
    onError?: (err: Error) => void;
    metrics?: { redisDuration: Histogram<'command'>; luaDuration: Histogram<'script'> };
  } = {},
): RedisClient {
  const redis = new Redis(cfg.url, {
    enableAutoPipelining: true,
    commandTimeout: cfg.commandTimeoutMs,
    connectTimeout: cfg.connectTimeoutMs,
    maxRetriesPerRequest: 2,
    // Commands issued while reconnecting wait in the offline queue, bounded by
    // maxRetriesPerRequest and commandTimeout, so a request answers 503 within seconds.
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    lazyConnect: opts.lazy ?? false,
  });
  // Connection errors surface as 503s and in /readyz; this only keeps them off stderr.
  let lastReport = 0;
  redis.on('error', (err: Error) => {
    if (Date.now() - lastReport < 5_000) return;
    lastReport = Date.now();
    opts.onError?.(err);
  });
  loadScripts(redis);
  if (!opts.metrics) return redis as RedisClient;
  const { redisDuration, luaDuration } = opts.metrics;
  observeScripts(redis, luaDuration);
  // One latency sample per command, taken where ioredis sends it (auto-pipelining included).
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: Command, stream?: unknown) => {
    const end = redisDuration.startTimer({ command: command.name });
    command.promise.then(() => end(), () => end());
    return send(command, stream as never);
  }) as typeof redis.sendCommand;
  return redis as RedisClient;
}
