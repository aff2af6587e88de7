/**
 * The one place Redis key strings are built. Every key of an event carries the hash tag
 * {evt:<id>} so each script touches a single Redis Cluster slot.
 */
export type EventKeys = ReturnType<typeof eventKeys>;

export function eventKeys(prefix: string, eventId: string) {
  const base = `${prefix}:{evt:${eventId}}`;
  return {
    /** hash open, close (epoch ms), max; present only once the event is fully loaded */
    meta: `${base}:meta`,
    /** hash reservationId -> "h|zone|qty|seat,seat|user" (h held, s sold) */
    holds: `${base}:holds`,
    /** hash userId -> seats the user holds or bought */
    users: `${base}:users`,
    /** hash "user\0key" -> "reservationId|requestHash" */
    idem: `${base}:idem`,
    /** string: token of the process rebuilding this event from PostgreSQL */
    rebuildLock: `${base}:rebuild-lock`,
    /** hash label -> "" (free) | "h:<reservationId>" | "s:<reservationId>" */
    zoneSeats: (zone: string) => `${base}:z:${zone}:seats`,
    /** hash capacity, held, sold; seated zones add rows, perRow, leaves (see seat-index.ts) */
    zoneCounts: (zone: string) => `${base}:z:${zone}:counts`,
    /** string, seated zones: one byte per seat in row-major order, "0" free, "1" held or sold */
    zoneFree: (zone: string) => `${base}:z:${zone}:free`,
    /** string, seated zones: segment tree over rows of (run-length mask, longest free run) */
    zoneIndex: (zone: string) => `${base}:z:${zone}:index`,
    /** every key of the event matches this (used to wipe a half-built state) */
    pattern: `${base}:*`,
  };
}

export const idemField = (userId: string, key: string) => `${userId}\u0000${key}`;

export type QueueKeys = ReturnType<typeof queueKeys>;

/** The waiting room of one event: same hash tag as its inventory, so one slot per event. */
export function queueKeys(prefix: string, eventId: string) {
  const base = `${prefix}:{evt:${eventId}}:q`;
  return {
    /** hash open, rate, paused, since, base, count, admitted, issued, lobby, shuffled, skipped, ended */
    state: `${base}:state`,
    /** sorted set userId -> random score drawn at join time: the lobby, ranked = the opening order */
    lobby: `${base}:lobby`,
    /** list: element n-L-1 is the user id holding ticket number n > L (L = lobby size) */
    order: `${base}:order`,
    /** hash userId -> "0" (lobby) | "n" (waiting) | "n|a|<ms>" (admitted at) | "n|s" (skipped) | "n|e" (pass ended) */
    users: `${base}:users`,
    /** hash userId -> when (ms, Redis clock) the holder was last seen */
    seen: `${base}:seen`,
    /** sorted set userId -> pass expiry (ms): live passes, kept only when the event has a cap */
    active: `${base}:active`,
    /** hash userId -> "d|<admittedAt>" (spent) | "r|<admittedAt>" (revoked): the hold path's revocation lookup */
    ended: `${base}:ended`,
    /** hash reason -> joins refused (user, address, challenge, replay) */
    refused: `${base}:refused`,
    /** string counter: joins of one user in the current window (expires with it) */
    joinsByUser: (userId: string) => `${base}:rl:u:${userId}`,
    /** string counter: joins from one client address in the current window (expires with it) */
    joinsByAddress: (address: string) => `${base}:rl:a:${address}`,
    /** string: a proof-of-work solution already used (kept until its challenge expires) */
    challengeUsed: (signature: string) => `${base}:pow:${signature}`,
  };
}

/** Sorted set eventId -> salesCloseAt (ms): waiting rooms a worker's admission ticker drives. */
export const queueIndexKey = (prefix: string) => `${prefix}:queue:active`;

/** Every key under a prefix (tests and benchmarks wipe their own key space with it). */
export const prefixPattern = (prefix: string) => `${prefix}:*`;
