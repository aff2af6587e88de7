import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Tx } from '../db/client';
import type { RefundWire } from '../outbox/message';
import { enqueueBookingEvents } from '../outbox/outbox';
import type { Breakers } from '../resilience/breakers';
import type { Reservation } from '../reservations/model';
import * as reservations from '../reservations/repository';
import { bookingItem, transition, type TransitionDeps } from '../reservations/transition';
import { AppError, Errors } from '../shared/errors';
import { issueTickets, revokeTickets } from '../tickets/repository';
import { InvalidSignature, type PaymentEvent, type PaymentProvider } from './provider';
import * as repo from './repository';

export type PaymentDeps = TransitionDeps & {
  logger: Logger;
  /** null under PAYMENT_PROVIDER=none: confirm works as in v1 and checkout is refused. */
  provider: PaymentProvider | null;
  windowSeconds: number;
  refundBackoffMaxMs: number;
  /** Circuit breakers: checkout and webhooks fail fast while PostgreSQL is known to be down. */
  breakers?: Breakers;
};

export type RefundState = { status: string; attempts: number; lastError: string | null };

export type Checkout = { payment: repo.Payment; reservation: Reservation; created: boolean };

const BOOKING_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const bookingCode = () => [...randomBytes(10)].map((b) => BOOKING_ALPHABET[b & 31]).join('');

/** Wait between attempts of one refund while the provider refuses: 2 s, 4 s, 8 s ... up to the max. */
const refundBackoffMs = (attempts: number, maxMs: number) => Math.min(maxMs, 1_000 * 2 ** Math.min(attempts, 20));

/**
 * Checkout, webhook and refunds. PostgreSQL decides everything: the payment row, the
 * reservation's transition (the same conditional update as confirm), tickets, the refund
 * owed and the Kafka message commit in one transaction; the provider is called outside it
 * with idempotency keys, so retries never charge or refund twice.
 */
export class PaymentService {
  constructor(private readonly d: PaymentDeps) {}

  find(paymentId: string) {
    return repo.findPayment(this.d.sql, paymentId);
  }

  latest(reservationId: string) {
    return repo.latestPayment(this.d.sql, reservationId);
  }

  latestMany(reservationIds: string[]) {
    return repo.latestPayments(this.d.sql, reservationIds);
  }

  /** `email`: the buyer's address from the verified token, kept on the payment for the confirmation mail. */
  async checkout(userId: string, reservationId: string, email?: string): Promise<Checkout> {
    const provider = this.d.provider;
    this.d.breakers?.failFast('postgres');
    const decided = await this.postgres(() => this.d.sql.begin(async (t) => {
      // The row lock serializes concurrent checkouts of one reservation.
      const [row] = await t<{ user_id: string; status: string; expired: boolean; total_cents: bigint; currency: string }[]>`
        select r.user_id, r.status, r.expires_at <= now() as expired, r.total_cents, e.currency
        from reservations r join events e on e.id = r.event_id
        where r.id = ${reservationId} for update of r`;
      if (!row || row.user_id !== userId) throw Errors.notFound('reservation');
      const open = await repo.openPayment(t, reservationId);
      if (row.status === 'confirmed' && open?.status === 'succeeded') return { payment: open, created: false };
      if (row.status === 'confirmed') throw Errors.conflict('ALREADY_CONFIRMED', 'the reservation is already confirmed');
      if (row.status === 'cancelled' || row.status === 'refunded') {
        throw Errors.conflict('RESERVATION_CANCELLED', `the reservation was ${row.status}`);
      }
      if (row.status === 'expired' || row.expired) throw Errors.holdExpired();
      if (!provider) throw Errors.conflict('PAYMENTS_DISABLED', 'this server takes no payments (PAYMENT_PROVIDER=none); confirm directly');
      if (Number(row.total_cents) === 0) throw Errors.conflict('NOTHING_TO_PAY', 'a zero-total reservation is confirmed directly');
      if (open) return { payment: open, created: false };
      const payment = await repo.insertPayment(t, {
        id: randomUUID(),
        reservationId,
        provider: provider.name,
        amountCents: Number(row.total_cents),
        currency: row.currency,
        email,
      });
      // Once per reservation, and never beyond the window: a buyer cannot stretch a hold by
      // failing payments on purpose.
      await t`update reservations set payment_window_at = now(),
          expires_at = greatest(expires_at, now() + ${this.d.windowSeconds} * interval '1 second')
        where id = ${reservationId} and payment_window_at is null`;
      return { payment, created: true };
    }));
    let payment = decided.payment;
    if (payment.providerPaymentId === null && payment.status === 'pending') {
      // Not yet at the provider (first checkout, or one whose provider call failed): the
      // idempotency key is our payment id, so a retry finds the same provider payment.
      let created;
      try {
        created = await provider!.create({
          paymentId: payment.id,
          reservationId,
          amountCents: payment.amountCents,
          currency: payment.currency,
        });
      } catch (err) {
        this.d.logger.warn({ err, paymentId: payment.id }, 'payment provider call failed');
        throw Errors.unavailable('the payment provider is unavailable, retry shortly', 2);
      }
      payment = await repo.setProviderPayment(this.d.sql, payment.id, created);
    }
    const reservation = (await reservations.findReservation(this.d.sql, reservationId))!;
    return { payment, reservation, created: decided.created };
  }

  /** Only the PostgreSQL work counts against its breaker (a provider outage is not PostgreSQL's). */
  private postgres<T>(fn: () => Promise<T>): Promise<T> {
    return this.d.breakers ? this.d.breakers.run('postgres', fn) : fn();
  }

  /** POST /v1/payments/webhooks/:provider with the raw body and signature header. */
  async handleWebhook(providerName: string, rawBody: string, signature: string | undefined) {
    // 503 while PostgreSQL is known to be down: the provider redelivers later.
    this.d.breakers?.failFast('postgres');
    const provider = this.d.provider;
    if (!provider || provider.name !== providerName) throw Errors.notFound('payment provider');
    let event: PaymentEvent;
    try {
      event = provider.parseWebhook(rawBody, signature);
    } catch (err) {
      if (err instanceof InvalidSignature) {
        throw new AppError(400, 'INVALID_SIGNATURE', `webhook signature refused: ${err.message}`);
      }
      throw err;
    }
    return this.apply(provider.name, event);
  }

  /**
   * Applies one verified provider event exactly once: the dedupe row, the decision, the
   * confirmation (the same conditional update as confirm, through `transition`: outbox row and
   * Redis follow) or the refund owed all commit together.
   */
  async apply(provider: string, event: PaymentEvent): Promise<{ outcome: string; duplicate: boolean }> {
    let result = { outcome: 'duplicate', duplicate: true };
    let refundId: string | undefined;
    await this.postgres(() => transition(this.d, 'booking.confirmed', 'sell', async (tx) => {
      const first = await repo.recordWebhookEvent(tx, {
        provider,
        eventId: event.eventId,
        type: event.type,
        paymentId: event.paymentId && isUuid(event.paymentId) ? event.paymentId : null,
      });
      if (!first) return [];
      const d = await this.decide(tx, provider, event);
      await repo.setWebhookOutcome(tx, provider, event.eventId, d.outcome);
      result = { outcome: d.outcome, duplicate: false };
      refundId = d.refundId;
      return d.confirmed ? [d.confirmed] : [];
    }));
    if (refundId) await this.sendRefunds(refundId);
    return result;
  }

  private async decide(
    t: Tx,
    provider: string,
    event: PaymentEvent,
  ): Promise<{ outcome: string; confirmed?: Reservation; refundId?: string }> {
    if (event.outcome === 'ignored') return { outcome: 'ignored' };
    if (!event.paymentId || !isUuid(event.paymentId)) return { outcome: 'unknown-payment' };
    const payment = await repo.findPayment(t, event.paymentId, { forUpdate: true });
    if (!payment || payment.provider !== provider) return { outcome: 'unknown-payment' };
    if (event.providerPaymentId && payment.providerPaymentId && event.providerPaymentId !== payment.providerPaymentId) {
      return { outcome: 'unknown-payment' };
    }
    if (event.outcome === 'failed') {
      // A failure after a success (out of order) changes nothing; the hold stays until it expires.
      if (payment.status !== 'pending') return { outcome: `failed-ignored-${payment.status}` };
      await repo.setPaymentStatus(t, payment.id, 'failed');
      return { outcome: 'failed' };
    }
    if (payment.status === 'succeeded' || payment.status === 'refunded') return { outcome: `already-${payment.status}` };

    const r = (await reservations.findReservation(t, payment.reservationId))!;
    const expected =
      event.amountCents === payment.amountCents && event.currency === payment.currency && payment.amountCents === r.totalCents;
    const owe = async (reason: repo.RefundReason) => {
      await repo.setPaymentStatus(t, payment.id, 'refunded');
      const refundId = randomUUID();
      // What was collected goes back, whatever was asked for.
      const amountCents = event.amountCents ?? payment.amountCents;
      await repo.insertRefund(t, { id: refundId, paymentId: payment.id, reason, amountCents });
      const refund: RefundWire = { paymentId: payment.id, amountCents, currency: event.currency ?? payment.currency, reason };
      await enqueueBookingEvents(t, this.d.topic, 'booking.refunded', [bookingItem(r, { refund })], this.d.outboxHeaders?.());
      return { outcome: `refunded-${reason}`, refundId };
    };
    // Money that is not what we asked for is returned, whatever the reservation's state.
    if (!expected) return owe('mismatch');
    // A success of an attempt we had given up on replaces the current attempt.
    await repo.failOtherPending(t, r.id, payment.id);
    const confirmed = await reservations.markConfirmed(t, {
      id: r.id,
      userId: r.userId,
      bookingCode: bookingCode(),
      paymentRef: payment.id,
    });
    if (!confirmed) return owe(r.status === 'confirmed' ? 'duplicate' : 'late');
    await repo.setPaymentStatus(t, payment.id, 'succeeded');
    await issueTickets(t, confirmed);
    return { outcome: 'confirmed', confirmed };
  }

  /**
   * Admin refund of a confirmed booking: refunded, seats back on sale, tickets revoked,
   * booking.refunded, and the money owed recorded; the provider call follows, retried by the
   * refund job while the provider is down. Idempotent.
   */
  async refundReservation(reservationId: string): Promise<{ reservation: Reservation; refund: RefundState | null }> {
    let refundId: string | undefined;
    let refund: RefundWire | null = null;
    const [refunded] = await transition(
      this.d,
      'booking.refunded',
      'unsell',
      async (t) => {
        const r = await reservations.markRefunded(t, reservationId);
        if (!r) return [];
        await revokeTickets(t, reservationId);
        const [paid] = await t<{ id: string; amount_cents: bigint; currency: string }[]>`
          select id, amount_cents, currency from payments where reservation_id = ${reservationId} and status = 'succeeded'`;
        if (paid) {
          refundId = randomUUID();
          refund = { paymentId: paid.id, amountCents: Number(paid.amount_cents), currency: paid.currency, reason: 'admin' };
          await repo.setPaymentStatus(t, paid.id, 'refunded');
          await repo.insertRefund(t, { id: refundId, paymentId: paid.id, reason: 'admin', amountCents: refund.amountCents });
        }
        return [r];
      },
      () => ({ refund }),
    );
    if (refundId) await this.sendRefunds(refundId);
    const r = refunded ?? (await reservations.findReservation(this.d.sql, reservationId));
    if (!r) throw Errors.notFound('reservation');
    if (r.status !== 'refunded') {
      throw Errors.conflict('NOT_CONFIRMED', `only a confirmed reservation can be refunded (this one is ${r.status})`, { status: r.status });
    }
    return { reservation: r, refund: await this.refundState(r.id) };
  }

  /**
   * A paid booking of a cancelled event (the event's sweep already cancelled it and sent
   * booking.cancelled): its tickets are revoked and its payment refunded, with booking.refunded.
   */
  async refundCancelledBooking(r: Reservation): Promise<void> {
    let refundId: string | undefined;
    await this.d.sql.begin(async (t) => {
      await revokeTickets(t, r.id);
      const [paid] = await t<{ id: string; amount_cents: bigint; currency: string }[]>`
        select id, amount_cents, currency from payments where reservation_id = ${r.id} and status = 'succeeded' for update`;
      if (!paid) return;
      refundId = randomUUID();
      const refund: RefundWire = { paymentId: paid.id, amountCents: Number(paid.amount_cents), currency: paid.currency, reason: 'event_cancelled' };
      await repo.setPaymentStatus(t, paid.id, 'refunded');
      await repo.insertRefund(t, { id: refundId, paymentId: paid.id, reason: 'event_cancelled', amountCents: refund.amountCents });
      await enqueueBookingEvents(t, this.d.topic, 'booking.refunded', [bookingItem(r, { refund })], this.d.outboxHeaders?.());
    });
    if (refundId) await this.sendRefunds(refundId);
  }

  private async refundState(reservationId: string): Promise<RefundState | null> {
    const [row] = await this.d.sql<{ status: string; attempts: number; last_error: string | null }[]>`
      select f.status, f.attempts, f.last_error from refunds f join payments p on p.id = f.payment_id
      where p.reservation_id = ${reservationId} and f.reason = 'admin'`;
    return row ? { status: row.status, attempts: row.attempts, lastError: row.last_error } : null;
  }

  /**
   * Sends due refunds to the provider (one id right after its decision, or every due one from
   * the worker's job). A failure is recorded and retried with backoff; never dropped.
   */
  async sendRefunds(only?: string, limit = 50): Promise<{ sent: number; failed: number }> {
    const provider = this.d.provider;
    if (!provider) return { sent: 0, failed: 0 };
    const due = await repo.claimDueRefunds(this.d.sql, limit, 60_000, only);
    let sent = 0;
    let failed = 0;
    for (const f of due) {
      try {
        if (!f.providerPaymentId) throw new Error('payment has no provider id');
        const { providerRefundId } = await provider.refund({
          refundId: f.id,
          providerPaymentId: f.providerPaymentId,
          amountCents: f.amountCents,
        });
        await repo.refundSucceeded(this.d.sql, f.id, providerRefundId);
        sent++;
      } catch (err) {
        failed++;
        this.d.logger.warn({ err, refundId: f.id, attempts: f.attempts }, 'refund not accepted by the provider; will retry');
        await repo
          .refundFailed(this.d.sql, f.id, (err as Error).message ?? String(err), refundBackoffMs(f.attempts, this.d.refundBackoffMaxMs))
          .catch((e) => this.d.logger.error({ err: e, refundId: f.id }, 'could not record refund failure; lease expiry retries it'));
      }
    }
    return { sent, failed };
  }
}

const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s);
