import type { Logger } from 'pino';
import { enqueueBookingEvents } from '../outbox/outbox';
import { reservationJson, type Reservation } from './model';
import { cancelLiveOfEvent } from './repository';
import type { TransitionDeps } from './transition';

const CANCEL_BATCH = 500;

export type EventCancelDeps = TransitionDeps & {
  logger: Logger;
  /**
   * Refund hook for a confirmed reservation cancelled with its event. Without a payments
   * capability the booking is cancelled (and its message sent) and nothing is refunded.
   */
  refund?: (r: Reservation) => Promise<void>;
};

/**
 * Cancels every live reservation of an event in batches, each batch in one transaction with
 * its booking.cancelled messages; held seats go back to Redis, paid bookings are refunded.
 */
export async function cancelLiveReservations(d: EventCancelDeps, eventId: string): Promise<void> {
  for (;;) {
    const batch = await d.sql.begin(async (tx) => {
      const rows = await cancelLiveOfEvent(tx, eventId, CANCEL_BATCH);
      await enqueueBookingEvents(tx, d.topic, 'booking.cancelled', rows.map((r) => ({ reservation: reservationJson(r), userId: r.userId })), d.outboxHeaders?.());
      return rows;
    });
    // Held seats go back to Redis; sold ones stay counted there (the event sells nothing more).
    await d.follower.apply(batch.filter((r) => r.confirmedAt === null), 'release');
    const paid = batch.filter((r) => r.confirmedAt !== null && r.totalCents > 0);
    if (d.refund) {
      for (const r of paid) {
        await d.refund(r).catch((err) => d.logger.error({ err, reservationId: r.id }, 'refund after event cancel failed'));
      }
    } else if (paid.length) {
      d.logger.warn({ eventId, paid: paid.length }, 'event cancelled: paid bookings cancelled, no payments capability to refund them');
    }
    if (batch.length < CANCEL_BATCH) return;
  }
}
