// Request builders for POST /v1/events/:id/reservations: every request a new user and a new
// Idempotency-Key; seated requests take the next free seats in row order (so they succeed
// until the zone is sold), GA requests a quantity of 1 to 4.
import { randomUUID } from 'node:crypto';
import type { Shot } from './cannon';

export function reserveShots(o: {
  eventId: string;
  tokens: { token: string }[];
  seated?: { zone: string; rows: number; perRow: number };
  ga?: string;
  /** Seats per seated request (default: 1..4 cycling). */
  seatsPerHold?: number;
}): { next: () => Shot | null; issued: () => number } {
  let i = 0;
  let row = 1;
  let seat = 1;
  const nextSeats = (q: number): string[] | null => {
    const s = o.seated!;
    if (seat + q - 1 > s.perRow) {
      row++;
      seat = 1;
    }
    if (row > s.rows) return null;
    const out = Array.from({ length: q }, (_, k) => `${s.zone}-${row}-${seat + k}`);
    seat += q;
    return out;
  };
  return {
    issued: () => i,
    next: () => {
      const n = i++;
      const t = o.tokens[n % o.tokens.length]!.token;
      const q = o.seatsPerHold ?? 1 + (n % 4);
      let body: unknown;
      if (o.seated && (!o.ga || n % 2 === 1)) {
        const seats = nextSeats(q);
        if (!seats && !o.ga) return null;
        body = seats ? { seats } : { zone: o.ga, quantity: q };
      } else {
        body = { zone: o.ga, quantity: q };
      }
      return {
        method: 'POST',
        path: `/v1/events/${o.eventId}/reservations`,
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify(body),
      };
    },
  };
}
