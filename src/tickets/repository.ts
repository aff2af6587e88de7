import { randomUUID } from 'node:crypto';
import type { Db } from '../db/client';
import type { Reservation } from '../reservations/model';

export type Ticket = {
  id: string;
  reservationId: string;
  eventId: string;
  zone: string;
  seat: string | null;
  unit: number;
  status: 'valid' | 'revoked';
  checkedInAt: Date | null;
};

type Row = {
  id: string;
  reservation_id: string;
  event_id: string;
  zone_code: string;
  seat_label: string | null;
  unit: number;
  status: 'valid' | 'revoked';
  checked_in_at: Date | null;
};

const toTicket = (r: Row): Ticket => ({
  id: r.id,
  reservationId: r.reservation_id,
  eventId: r.event_id,
  zone: r.zone_code,
  seat: r.seat_label,
  unit: r.unit,
  status: r.status,
  checkedInAt: r.checked_in_at,
});

/** One ticket per seat (GA: per unit), in the transaction that confirms; a replay adds none. */
export async function issueTickets(tx: Db, r: Reservation): Promise<void> {
  const units = Array.from({ length: r.quantity }, (_, i) => i + 1);
  await tx`insert into tickets (id, reservation_id, event_id, zone_code, seat_label, unit)
    select t.id, ${r.id}, ${r.eventId}, ${r.zone}, t.seat, t.unit
    from unnest(${units.map(() => randomUUID())}::uuid[], ${units.map((i) => r.seats[i - 1] ?? null)}::text[],
      ${units}::int[]) as t(id, seat, unit)
    on conflict (reservation_id, unit) do nothing`;
}

export async function revokeTickets(tx: Db, reservationId: string): Promise<void> {
  await tx`update tickets set status = 'revoked' where reservation_id = ${reservationId}`;
}

export async function ticketsFor(sql: Db, reservationId: string): Promise<Ticket[]> {
  const rows = await sql<Row[]>`select * from tickets where reservation_id = ${reservationId} order by unit`;
  return rows.map(toTicket);
}

/** The one decision of a check-in: only a valid, unscanned ticket of this event flips. */
export async function checkIn(tx: Db, a: { ticketId: string; eventId: string; by: string }) {
  const [row] = await tx<(Row & { user_id: string })[]>`
    update tickets t set checked_in_at = now(), checked_in_by = ${a.by}
    from reservations r
    where t.id = ${a.ticketId} and t.event_id = ${a.eventId} and t.status = 'valid' and t.checked_in_at is null
      and r.id = t.reservation_id
    returning t.*, r.user_id`;
  return row ? { ticket: toTicket(row), userId: row.user_id } : null;
}

export async function findTicket(sql: Db, id: string): Promise<Ticket | null> {
  const [row] = await sql<Row[]>`select * from tickets where id = ${id}`;
  return row ? toTicket(row) : null;
}
