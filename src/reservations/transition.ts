import type { Sql, Tx } from '../db/client';
import type { FollowAction, InventoryFollower } from '../inventory/follow';
import type { BookingEventType } from '../outbox/message';
import { enqueueBookingEvents } from '../outbox/outbox';
import { reservationJson, type Reservation } from './model';

export type TransitionDeps = {
  sql: Sql;
  topic: string;
  follower: InventoryFollower;
  /** Extra outbox headers for the current request (trace context), if any. */
  outboxHeaders?: () => Record<string, string>;
};

/**
 * Every state change after a hold takes the same three steps: PostgreSQL decides in one
 * transaction that also writes the outbox rows (they commit or roll back together), then
 * Redis follows for exactly the reservations that changed.
 */
export async function transition(
  d: TransitionDeps,
  type: BookingEventType,
  action: FollowAction,
  change: (tx: Tx) => Promise<Reservation[]>,
  /** Extra message fields per reservation (booking.refunded carries its refund). */
  extra?: (r: Reservation) => Record<string, unknown>,
): Promise<Reservation[]> {
  const changed = await d.sql.begin(async (tx) => {
    const rows = await change(tx);
    await enqueueBookingEvents(tx, d.topic, type, rows.map((r) => bookingItem(r, extra?.(r))), d.outboxHeaders?.());
    return rows;
  });
  if (changed.length) await d.follower.apply(changed, action);
  return changed;
}

/** A reservation as its booking message carries it. */
export const bookingItem = (r: Reservation, extra?: Record<string, unknown>) => ({ reservation: reservationJson(r), userId: r.userId, extra });
