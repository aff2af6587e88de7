export type ReservationStatus = 'held' | 'confirmed' | 'cancelled' | 'expired';

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

/** The contract's reservation object (api.md); never leaks idempotency internals. */
export function reservationJson(r: Reservation) {
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
