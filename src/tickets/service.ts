import type { Db, Sql } from '../db/client';
import { enqueueMessages } from '../outbox/outbox';
import { AppError, Errors } from '../shared/errors';
import { loadTicketKeys, publicJwks, ticketCode, verifyTicketCode, type TicketKeys } from './codes';
import { qrSvg } from './qr';
import * as repo from './repository';

export type TicketDeps = {
  sql: Sql;
  signingKey: string;
  topic: string;
  outboxHeaders?: () => Record<string, string>;
};

export const ticketJson = (t: repo.Ticket, code: string) => ({
  id: t.id,
  eventId: t.eventId,
  reservationId: t.reservationId,
  zone: t.zone,
  seat: t.seat,
  status: t.status,
  checkedInAt: t.checkedInAt?.toISOString() ?? null,
  code,
});

/** Tickets of confirmed bookings: signed codes, QR images, and the once-only check-in. */
export class TicketService {
  readonly keys: TicketKeys;

  constructor(private readonly d: TicketDeps) {
    this.keys = loadTicketKeys(d.signingKey);
  }

  jwks() {
    return publicJwks(this.keys);
  }

  code(t: repo.Ticket): string {
    return ticketCode(this.keys, t.id, t.eventId);
  }

  /** The reservation must be the caller's and confirmed (the caller checked ownership). */
  async list(reservation: { id: string; status: string }) {
    if (reservation.status !== 'confirmed') {
      throw Errors.conflict('NOT_CONFIRMED', `a ${reservation.status} reservation has no tickets`, { status: reservation.status });
    }
    const tickets = await repo.ticketsFor(this.d.sql, reservation.id);
    return Promise.all(
      tickets.map(async (t) => {
        const code = this.code(t);
        return { ...ticketJson(t, code), qrSvg: await qrSvg(code) };
      }),
    );
  }

  /** Tickets with codes and QR images for the confirmation mail (read in the consumer's transaction). */
  async forMail(sql: Db, reservationId: string) {
    const tickets = await repo.ticketsFor(sql, reservationId);
    return Promise.all(
      tickets.map(async (ticket) => {
        const code = this.code(ticket);
        return { ticket, code, qrSvg: await qrSvg(code) };
      }),
    );
  }

  async checkIn(eventId: string, code: string, by: string) {
    // A forged code, or a real one of another event, is refused before any database read.
    const claim = verifyTicketCode(this.keys.publicKey, code);
    if (!claim || claim.eventId !== eventId) throw Errors.notFound('ticket');
    const done = await this.d.sql.begin(async (t) => {
      const hit = await repo.checkIn(t, { ticketId: claim.ticketId, eventId, by });
      if (hit) {
        await enqueueMessages(
          t,
          this.d.topic,
          'ticket.checked_in',
          [
            {
              key: hit.ticket.reservationId,
              userId: hit.userId,
              body: {
                ticket: {
                  id: hit.ticket.id,
                  reservationId: hit.ticket.reservationId,
                  eventId: hit.ticket.eventId,
                  zone: hit.ticket.zone,
                  seat: hit.ticket.seat,
                  checkedInAt: hit.ticket.checkedInAt!.toISOString(),
                },
              },
            },
          ],
          this.d.outboxHeaders?.(),
        );
      }
      return hit;
    });
    if (done) return ticketJson(done.ticket, code);
    const t = await repo.findTicket(this.d.sql, claim.ticketId);
    if (!t || t.eventId !== eventId) throw Errors.notFound('ticket');
    if (t.status === 'revoked') throw Errors.conflict('TICKET_REVOKED', 'this ticket was revoked (the booking was refunded)');
    throw new AppError(409, 'ALREADY_CHECKED_IN', 'this ticket was already checked in', {
      checkedInAt: t.checkedInAt!.toISOString(),
    });
  }
}
