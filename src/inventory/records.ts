/**
 * The Redis encodings the Lua scripts share with TypeScript (the formats are documented
 * with the keys in src/redis/keys.ts): a hold record `h|zone|qty|seat,seat|user` (h held,
 * s sold; the user comes last because it may contain any character) and a seat's value
 * "" (free), `h:<reservationId>` or `s:<reservationId>`.
 */
export type HoldState = 'h' | 's';
export type SeatStatus = 'available' | 'held' | 'sold';

export function holdRecord(state: HoldState, zone: string, quantity: number, seats: string[], userId: string): string {
  return `${state}|${zone}|${quantity}|${seats.join(',')}|${userId}`;
}

export function parseHoldRecord(v: string): { state: HoldState; zone: string } {
  const [state, zone = ''] = v.split('|', 2);
  return { state: state === 's' ? 's' : 'h', zone };
}

export const seatValue = (state: HoldState, reservationId: string) => `${state}:${reservationId}`;

export function seatStatus(v: string): SeatStatus {
  return v === '' ? 'available' : v[0] === 's' ? 'sold' : 'held';
}

/** An idempotency record `reservationId|requestHash` (lua/reserve-8.lua writes the same). */
export const idemRecord = (reservationId: string, requestHash: string) => `${reservationId}|${requestHash}`;

export function parseIdemRecord(v: string): { reservationId: string; requestHash: string } {
  const i = v.indexOf('|');
  return { reservationId: v.slice(0, i), requestHash: v.slice(i + 1) };
}

/** What a rebuild needs of PostgreSQL for one event: its live reservations and idempotency records. */
export type LiveHold = {
  id: string;
  status: 'held' | 'confirmed';
  zone: string;
  quantity: number;
  seats: string[];
  userId: string;
};
export type IdemEntry = { reservationId: string; userId: string; key: string; requestHash: string };
export type InventorySnapshot = { live: LiveHold[]; idempotency: IdemEntry[] };
