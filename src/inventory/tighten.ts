import type { RedisClient } from '../redis/client';
import { eventKeys } from '../redis/keys';
import { tightenScript } from './scripts';

/** The refused hold, as far as tightening needs it. */
export type RefusedHold = { eventId: string; zone: string; userId: string };
/** PostgreSQL's live usage of the hold's zone, user and seats (the limit guard's counters). */
export type PostgresUsage = { user: { used: number }; zone: { used: number; capacity: number }; seats: [label: string, value: string][] };

/**
 * Redis corrected from PostgreSQL after a refusal, for exactly the counters and seats the
 * refused hold touched: the next buyer of that zone, seat or user is refused by Redis
 * again, without another PostgreSQL round trip. An event Redis has not loaded needs
 * nothing (it is rebuilt from PostgreSQL before it serves).
 */
export function tightenFromPostgres(d: { redis: RedisClient; prefix: string }) {
  return async (hold: RefusedHold, live: PostgresUsage): Promise<void> => {
    await tightenScript(d.redis, eventKeys(d.prefix, hold.eventId), hold.zone, {
      userId: hold.userId,
      userLive: live.user.used,
      zoneLive: live.zone.capacity === Number.MAX_SAFE_INTEGER ? undefined : live.zone.used,
      seats: live.seats,
    });
  };
}
