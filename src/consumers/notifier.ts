import type { Logger } from 'pino';
import type { Db } from '../db/client';
import { confirmationMail, recipientFor } from '../mail/confirmation';
import type { Mailer } from '../mail/mailer';
import { messageReservationId, type BookingMessage } from '../outbox/message';
import { paidEmail } from '../payments/repository';
import type { TicketService } from '../tickets/service';
import type { Handler } from './dedupe';

/** The notification text for a booking message: what the consumer records as handled. */
export function notificationText(msg: BookingMessage): string {
  if (msg.type === 'ticket.checked_in') return `Ticket ${msg.ticket.id} checked in`;
  const r = msg.reservation;
  const what = `${r.quantity} x ${r.zone}${r.seats.length ? ` (${r.seats.join(', ')})` : ''}`;
  switch (msg.type) {
    case 'booking.confirmed':
      return `Booking ${r.bookingCode} confirmed: ${what}`;
    case 'booking.cancelled':
      return `Reservation ${r.id} cancelled: ${what}`;
    case 'booking.expired':
      return `Your hold on ${what} expired`;
    case 'booking.refunded':
      return `Booking of ${what} refunded${msg.refund ? ` (${msg.refund.amountCents} ${msg.refund.currency})` : ''}`;
  }
}

export type ConfirmationMail = {
  mailer: Mailer;
  tickets: TicketService;
  /** Bookings paid without an address in the token: subjects that are not addresses get `<sub>@<userDomain>`. */
  userDomain: string;
};

/**
 * Logs every message; with `mail`, a booking.confirmed also sends the buyer the confirmation
 * with their tickets. A failed send throws, so the message is redelivered (nothing recorded).
 */
export function notificationHandler(logger: Logger, mail?: ConfirmationMail): Handler {
  return async (msg, tx) => {
    let text = notificationText(msg);
    if (mail && msg.type === 'booking.confirmed') text += await sendConfirmation(mail, msg.userId, msg.reservation, tx);
    logger.info({ messageId: msg.id, reservationId: messageReservationId(msg), type: msg.type }, text);
    return text;
  };
}

async function sendConfirmation(
  mail: ConfirmationMail,
  userId: string,
  r: { id: string; eventId: string; bookingCode: string | null },
  tx: Db,
): Promise<string> {
  const [event] = await tx<{ name: string; starts_at: Date }[]>`select name, starts_at from events where id = ${r.eventId}`;
  const tickets = await mail.tickets.forMail(tx, r.id);
  // The address the buyer's token gave at the checkout that paid; otherwise the subject's rule.
  const to = (await paidEmail(tx, r.id)) ?? recipientFor(userId, mail.userDomain);
  await mail.mailer.send(
    confirmationMail({ to, bookingCode: r.bookingCode ?? '', eventName: event?.name ?? 'your event', startsAt: event?.starts_at ?? new Date(), tickets }),
  );
  return `; mailed ${tickets.length} ticket(s) to ${to}`;
}
