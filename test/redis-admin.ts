import { isCluster, redisMasters, type RedisClient } from '../src/redis/client';
import { eventKeys, queueKeys } from '../src/redis/keys';
import type { Harness } from './harness';

/**
 * Test-side Redis chores that must work the same on one Redis and on a Redis Cluster,
 * where KEYS, SCRIPT and FLUSHDB reach one node only and a DEL may name one slot only.
 */

/** KEYS on every master (test data sets are small). */
export async function keysMatching(redis: RedisClient, pattern: string): Promise<string[]> {
  const perNode = await Promise.all(redisMasters(redis).map((n) => n.keys(pattern)));
  return perNode.flat();
}

/** One DEL per key: keys of different events live in different slots. */
export async function delEach(redis: RedisClient, keys: string[]): Promise<void> {
  await Promise.all(keys.map((k) => redis.del(k)));
}

/**
 * Redis loses an event like a restart would, at one instant: a single Redis owned by the
 * test file is flushed; on a cluster (shared by parallel test files) the event's keys,
 * all in one slot, go in one DEL.
 */
export async function loseRedis(h: Harness, eventIds: string[]): Promise<void> {
  if (!isCluster(h.core.redis)) {
    await h.core.redis.flushdb();
    return;
  }
  const prefix = h.config.redis.prefix;
  await Promise.all(
    eventIds.map(async (id) => {
      const event = await h.core.catalog.get(id);
      const k = eventKeys(prefix, id);
      const q = queueKeys(prefix, id);
      await h.core.redis.del(
        k.meta, k.holds, k.users, k.idem, k.rebuildLock,
        ...(event?.zones ?? []).flatMap((z) => [k.zoneSeats(z.code), k.zoneCounts(z.code)]),
        ...Object.values(q).filter((v): v is string => typeof v === 'string'),
      );
    }),
  );
}

/** SCRIPT FLUSH everywhere: the next script call on each node meets NOSCRIPT. */
export async function flushScripts(redis: RedisClient): Promise<void> {
  if (!isCluster(redis)) {
    await redis.script('FLUSH');
    return;
  }
  await Promise.all(redisMasters(redis).map((n) => n.script('FLUSH')));
}
