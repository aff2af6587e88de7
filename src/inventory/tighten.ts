import type { RedisClient } from '../redis/client';
import { eventKeys } from '../redis/keys';
import type { NewHold } from '../reservations/model';
import type { LiveUsage } from '../reservations/repository';
import { tightenScript } from './scripts';

/**
 * Redis corrected from PostgreSQL after a refusal, for exactly the counters and seats the
 * refused hold touched: the next buyer of that zone, seat or user is refused by Redis
 * again, without another PostgreSQL round trip. An event Redis has not loaded needs
 * nothing (it is rebuilt from PostgreSQL before it serves).
 */
export function tightenFromPostgres(d: { redis: RedisClient; prefix: string }) {
  return async (hold: NewHold, live: LiveUsage): Promise<void> => {
    await tightenScript(d.redis, eventKeys(d.prefix, hold.eventId), hold.zone, {
      userId: hold.userId,
      userLive: live.user.used,
      zoneLive: live.zone.capacity === Number.MAX_SAFE_INTEGER ? undefined : live.zone.used,
      seats: live.seats,
    });
  };
}
