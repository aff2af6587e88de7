import type { RedisClient } from '../redis/client';
import { runScript } from '../redis/scripts';
import type { EventKeys } from '../redis/keys';

/** Outcome of lua/reserve-8.lua, decoded from its return codes. */
export type ReserveOutcome =
  | { kind: 'held'; seats: string[] }
  | { kind: 'replay'; reservationId: string }
  | { kind: 'not-loaded' }
  | { kind: 'idempotency-mismatch' }
  | { kind: 'sales-closed'; state: string }
  | { kind: 'limit'; current: number }
  | { kind: 'seats-taken'; seats: string[] }
  | { kind: 'ga-short'; available: number }
  | { kind: 'unknown-seat'; seat: string }
  | { kind: 'no-block'; largestBlock: number }
  | { kind: 'index-drift' };

export type ReserveArgs = {
  now: number;
  reservationId: string;
  userId: string;
  idemField: string;
  requestHash: string;
  zone: string;
  quantity: number;
  seats: string[];
  /** Seated zone, no seats named: the script picks the best block of `quantity`. */
  best?: boolean;
};

/** The keys of one zone every seat script takes (the seat index ones are unused for GA). */
const zoneKeys = (k: EventKeys, zone: string) => [k.zoneSeats(zone), k.zoneCounts(zone), k.zoneFree(zone), k.zoneIndex(zone)];

export async function reserveScript(
  redis: RedisClient,
  k: EventKeys,
  a: ReserveArgs,
): Promise<ReserveOutcome> {
  const r = (await runScript(
    redis,
    'reserve',
    [k.meta, k.holds, k.users, k.idem, ...zoneKeys(k, a.zone)],
    [
      a.now, a.reservationId, a.userId, a.idemField, a.requestHash, a.zone, a.quantity,
      a.best ? 'best' : a.seats.length ? 'pick' : 'ga',
      ...(a.best ? [] : a.seats),
    ],
    { 'boxoffice.reservation_id': a.reservationId, 'boxoffice.zone': a.zone },
  )) as [number, ...(string | number)[]];
  switch (r[0]) {
    case 1: return { kind: 'held', seats: a.best ? r.slice(1).map(String) : a.seats };
    case 0: return { kind: 'replay', reservationId: String(r[1]) };
    case -1: return { kind: 'not-loaded' };
    case -2: return { kind: 'idempotency-mismatch' };
    case -3: return { kind: 'sales-closed', state: String(r[1] ?? '') };
    case -4: return { kind: 'limit', current: Number(r[1]) };
    case -5: return { kind: 'seats-taken', seats: r.slice(1).map(String) };
    case -6: return { kind: 'ga-short', available: Number(r[1]) };
    case -7: return { kind: 'unknown-seat', seat: String(r[1]) };
    case -8: return { kind: 'no-block', largestBlock: Number(r[1]) };
    case -9: return { kind: 'index-drift' };
    default: throw new Error(`reserve script returned ${JSON.stringify(r)}`);
  }
}

export type ReleaseOutcome = 'released' | 'absent' | 'not-loaded' | 'sold';

/** lua/release-8.lua: frees the seats still held by this reservation. */
export async function releaseScript(
  redis: RedisClient,
  k: EventKeys,
  a: { reservationId: string; zone: string; forgetIdempotencyKey?: boolean },
): Promise<ReleaseOutcome> {
  const r = Number(
    await runScript(
      redis,
      'release',
      [k.meta, k.holds, k.users, k.idem, ...zoneKeys(k, a.zone)],
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

/** lua/tighten-6.lua: Redis made at least as strict as PostgreSQL after a refusal. */
export async function tightenScript(
  redis: RedisClient,
  k: EventKeys,
  zone: string,
  a: TightenArgs,
): Promise<{ user: number; zone: number; seats: number } | 'not-loaded'> {
  const r = (await runScript(
    redis,
    'tighten',
    [k.meta, k.users, ...zoneKeys(k, zone)],
    [a.userId, a.userLive ?? '', a.zoneLive ?? '', ...(a.seats ?? []).flat()],
  )) as number[];
  if (r[0] === -1) return 'not-loaded';
  return { user: r[0]!, zone: r[1]!, seats: r[2]! };
}

/** Seats added per grow call: bounds each call's run time whatever the zone's width. */
const GROW_SEATS_PER_CALL = 5_000;

/**
 * lua/grow-5.lua, repeated until done: raises a GA zone's capacity or adds free rows at the
 * back of a seated zone, leaving held and sold exactly as they are. 'not-loaded' when the
 * event is not in Redis (the loader builds it from PostgreSQL, already at the new size).
 */
export async function growScript(
  redis: RedisClient,
  k: EventKeys,
  a: { zone: string; kind: 'ga' | 'seated'; target: number; perRow?: number },
): Promise<'grown' | 'not-loaded'> {
  const step = Math.max(1, Math.floor(GROW_SEATS_PER_CALL / (a.perRow ?? 1)));
  for (;;) {
    const r = (await runScript(
      redis,
      'grow',
      [k.meta, k.zoneSeats(a.zone), k.zoneCounts(a.zone), k.zoneFree(a.zone), k.zoneIndex(a.zone)],
      [a.zone, a.kind, a.target, step],
      { 'boxoffice.zone': a.zone },
    )) as number[];
    if (r[0] === -1) return 'not-loaded';
    if (r[0] === 1) return 'grown';
    if (r[0] !== 0) throw new Error(`grow script returned ${JSON.stringify(r)}`);
  }
}

/** lua/configure-1.lua: the edited window, limit and state, on a loaded event only. */
export async function configureScript(
  redis: RedisClient,
  k: EventKeys,
  a: { open: number; close: number; max: number; state: string },
): Promise<'applied' | 'not-loaded'> {
  const r = Number(await runScript(redis, 'configure', [k.meta], [a.open, a.close, a.max, a.state]));
  return r === 1 ? 'applied' : 'not-loaded';
}

export type UnsellOutcome = 'freed' | 'absent' | 'not-loaded' | 'held';

/** lua/unsell-7.lua: a refunded reservation's sold seats go back on sale (seat index included). */
export async function unsellScript(
  redis: RedisClient,
  k: EventKeys,
  a: { reservationId: string; zone: string },
): Promise<UnsellOutcome> {
  const r = Number(
    await runScript(
      redis,
      'unsell',
      [k.meta, k.holds, k.users, ...zoneKeys(k, a.zone)],
      [a.reservationId],
      { 'boxoffice.reservation_id': a.reservationId },
    ),
  );
  const outcome = ({ 1: 'freed', 0: 'absent', [-1]: 'not-loaded', [-2]: 'held' } as const)[r];
  if (!outcome) throw new Error(`unsell script returned ${r}`);
  return outcome;
}
