import type { RedisClient } from '../redis/client';
import { runScript } from '../redis/scripts';
import type { EventKeys } from '../redis/keys';

/** Outcome of lua/reserve-6.lua, decoded from its return codes. */
export type ReserveOutcome =
  | { kind: 'held' }
  | { kind: 'replay'; reservationId: string }
  | { kind: 'not-loaded' }
  | { kind: 'idempotency-mismatch' }
  | { kind: 'sales-closed' }
  | { kind: 'limit'; current: number }
  | { kind: 'seats-taken'; seats: string[] }
  | { kind: 'ga-short'; available: number }
  | { kind: 'unknown-seat'; seat: string };

export type ReserveArgs = {
  now: number;
  reservationId: string;
  userId: string;
  idemField: string;
  requestHash: string;
  zone: string;
  quantity: number;
  seats: string[];
};

export async function reserveScript(
  redis: RedisClient,
  k: EventKeys,
  a: ReserveArgs,
): Promise<ReserveOutcome> {
  const r = (await runScript(
    redis,
    'reserve',
    [k.meta, k.holds, k.users, k.idem, k.zoneSeats(a.zone), k.zoneCounts(a.zone)],
    [a.now, a.reservationId, a.userId, a.idemField, a.requestHash, a.zone, a.quantity, ...a.seats],
    { 'boxoffice.reservation_id': a.reservationId, 'boxoffice.zone': a.zone },
  )) as [number, ...(string | number)[]];
  switch (r[0]) {
    case 1: return { kind: 'held' };
    case 0: return { kind: 'replay', reservationId: String(r[1]) };
    case -1: return { kind: 'not-loaded' };
    case -2: return { kind: 'idempotency-mismatch' };
    case -3: return { kind: 'sales-closed' };
    case -4: return { kind: 'limit', current: Number(r[1]) };
    case -5: return { kind: 'seats-taken', seats: r.slice(1).map(String) };
    case -6: return { kind: 'ga-short', available: Number(r[1]) };
    case -7: return { kind: 'unknown-seat', seat: String(r[1]) };
    default: throw new Error(`reserve script returned ${JSON.stringify(r)}`);
  }
}

export type ReleaseOutcome = 'released' | 'absent' | 'not-loaded' | 'sold';

/** lua/release-6.lua: frees the seats still held by this reservation. */
export async function releaseScript(
  redis: RedisClient,
  k: EventKeys,
  a: { reservationId: string; zone: string; forgetIdempotencyKey?: boolean },
): Promise<ReleaseOutcome> {
  const r = Number(
    await runScript(
      redis,
      'release',
      [k.meta, k.holds, k.users, k.idem, k.zoneSeats(a.zone), k.zoneCounts(a.zone)],
      [a.reservationId, a.forgetIdempotencyKey ? '1' : ''],
      { 'boxoffice.reservation_id': a.reservationId },
    ),
  );
  const outcome = ({ 1: 'released', 0: 'absent', [-1]: 'not-loaded', [-2]: 'sold' } as const)[r];
  if (!outcome) throw new Error(`release script returned ${r}`);
  return outcome;
}

export type SellOutcome = 'sold' | 'already-sold' | 'not-loaded' | 'missing';

/** lua/sell-5.lua: marks a confirmed reservation's hold sold. */
export async function sellScript(
  redis: RedisClient,
  k: EventKeys,
  a: { reservationId: string; zone: string },
): Promise<SellOutcome> {
  const r = Number(
    await runScript(
      redis,
      'sell',
      [k.meta, k.holds, k.users, k.zoneSeats(a.zone), k.zoneCounts(a.zone)],
      [a.reservationId],
      { 'boxoffice.reservation_id': a.reservationId },
    ),
  );
  const outcome = ({ 1: 'sold', 0: 'already-sold', [-1]: 'not-loaded', [-3]: 'missing' } as const)[r];
  if (!outcome) throw new Error(`sell script returned ${r}`);
  return outcome;
}

export type TightenArgs = {
  userId: string;
  /** Seats the user has live in PostgreSQL for the event, if known. */
  userLive?: number;
  /** Seats live in the zone in PostgreSQL, if known. */
  zoneLive?: number;
  /** Seats PostgreSQL has live: label -> "h:<id>" | "s:<id>". */
  seats?: [string, string][];
};

/** lua/tighten-4.lua: Redis made at least as strict as PostgreSQL after a refusal. */
export async function tightenScript(
  redis: RedisClient,
  k: EventKeys,
  zone: string,
  a: TightenArgs,
): Promise<{ user: number; zone: number; seats: number } | 'not-loaded'> {
  const r = (await runScript(
    redis,
    'tighten',
    [k.meta, k.users, k.zoneSeats(zone), k.zoneCounts(zone)],
    [a.userId, a.userLive ?? '', a.zoneLive ?? '', ...(a.seats ?? []).flat()],
  )) as number[];
  if (r[0] === -1) return 'not-loaded';
  return { user: r[0]!, zone: r[1]!, seats: r[2]! };
}
