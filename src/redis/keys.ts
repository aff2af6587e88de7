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
    /** hash capacity, held, sold */
    zoneCounts: (zone: string) => `${base}:z:${zone}:counts`,
    /** every key of the event matches this (used to wipe a half-built state) */
    pattern: `${base}:*`,
  };
}

export const idemField = (userId: string, key: string) => `${userId}\u0000${key}`;
