import { Redis } from 'ioredis';
import type { Config } from '../config/config';
import { loadScripts, type Scripts } from './scripts';

export type RedisClient = Redis & Scripts;

/** ioredis with auto-pipelining and bounded timeouts; every Lua script registered once. */
export function createRedis(cfg: Config['redis'], opts: { lazy?: boolean } = {}): RedisClient {
  const redis = new Redis(cfg.url, {
    enableAutoPipelining: true,
    commandTimeout: cfg.commandTimeoutMs,
    connectTimeout: cfg.connectTimeoutMs,
    maxRetriesPerRequest: 2,
    // Fail fast while disconnected so requests answer 503 instead of queueing forever.
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    lazyConnect: opts.lazy ?? false,
  });
  loadScripts(redis);
  return redis as RedisClient;
}
