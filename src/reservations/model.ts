import type { ReservationWire } from '../outbox/message';

export type ReservationStatus = ReservationWire['status'];

export type Reservation = {
  id: string;
  eventId: string;
  userId: string;
  zone: string;
  quantity: number;
  seats: string[];
  totalCents: number;
  status: ReservationStatus;
  idempotencyKey: string | null;
  requestHash: string;
  expiresAt: Date;
  createdAt: Date;
  confirmedAt: Date | null;
  cancelledAt: Date | null;
  expiredAt: Date | null;
  bookingCode: string | null;
};

/** A hold on its way into PostgreSQL: a reservation before it has a status history. */
export type NewHold = Omit<Reservation, 'status' | 'confirmedAt' | 'cancelledAt' | 'expiredAt' | 'bookingCode'> & {
  /**
   * The hold must be in PostgreSQL by then or not at all: a Redis rebuild waits
   * REBUILD_QUIESCE_MS after a loss, and this keeps every write whose Lua ran before the
   * loss inside that window (the row is inserted only while clock_timestamp() < deadline,
   * and the statement itself is bounded by statement_timeout).
   */
  deadline: Date;
};

export const heldReservation = (h: NewHold): Reservation => {
  const { deadline: _deadline, ...rest } = h;
  return { ...rest, status: 'held', confirmedAt: null, cancelledAt: null, expiredAt: null, bookingCode: null };
};

/** The contract's reservation object (api.md); never leaks idempotency internals. */
export function reservationJson(r: Reservation): ReservationWire {
  return {
    id: r.id,
    eventId: r.eventId,
    status: r.status,
    zone: r.zone,
    quantity: r.quantity,
    seats: r.seats,
    totalCents: r.totalCents,
    expiresAt: r.expiresAt.toISOString(),
    createdAt: r.createdAt.toISOString(),
    confirmedAt: r.confirmedAt?.toISOString() ?? null,
    bookingCode: r.bookingCode,
  };
}
