import type { Logger } from 'pino';
import type { BookingMessage } from '../outbox/message';
import type { Handler } from './dedupe';

/**
 * The notification a buyer would receive for a booking message. Sending is a log line here
 * (no mail provider in this project); the text is what the consumer records as handled.
 */
export function notificationText(msg: BookingMessage): string {
  const r = msg.reservation;
  const what = `${r.quantity} x ${r.zone}${r.seats.length ? ` (${r.seats.join(', ')})` : ''}`;
  switch (msg.type) {
    case 'booking.confirmed':
      return `Booking ${r.bookingCode} confirmed: ${what}`;
    case 'booking.cancelled':
      return `Reservation ${r.id} cancelled: ${what}`;
    case 'booking.expired':
      return `Your hold on ${what} expired`;
  }
}

export function notificationHandler(logger: Logger): Handler {
  return async (msg) => {
    const text = notificationText(msg);
    logger.info({ messageId: msg.id, reservationId: msg.reservation.id, type: msg.type }, text);
    return text;
  };
}
