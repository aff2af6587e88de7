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
