import type { Db } from '../db/client';
import { dbQuery } from '../db/observe';

export type PaymentStatus = 'pending' | 'succeeded' | 'failed' | 'refunded';

export type Payment = {
  id: string;
  reservationId: string;
  provider: string;
  providerPaymentId: string | null;
  amountCents: number;
  currency: string;
  status: PaymentStatus;
  clientSecret: string | null;
  redirectUrl: string | null;
  attempt: number;
  /** The buyer's address from the token at checkout, if it carried one (the confirmation mail's recipient). */
  email: string | null;
  createdAt: Date;
};

type Row = {
  id: string;
  reservation_id: string;
  provider: string;
  provider_payment_id: string | null;
  amount_cents: bigint;
  currency: string;
  status: PaymentStatus;
  client_secret: string | null;
  redirect_url: string | null;
  attempt: number;
  email: string | null;
  created_at: Date;
};

const toPayment = (r: Row): Payment => ({
  id: r.id,
  reservationId: r.reservation_id,
  provider: r.provider,
  providerPaymentId: r.provider_payment_id,
  amountCents: Number(r.amount_cents),
  currency: r.currency,
  status: r.status,
  clientSecret: r.client_secret,
  redirectUrl: r.redirect_url,
  attempt: r.attempt,
  email: r.email,
  createdAt: r.created_at,
});

export async function findPayment(sql: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<Payment | null> {
  const [row] = await dbQuery(sql, 'find_payment', { 'boxoffice.payment_id': id }, () =>
    opts.forUpdate
      ? sql<Row[]>`select * from payments where id = ${id} for update`
      : sql<Row[]>`select * from payments where id = ${id}`);
  return row ? toPayment(row) : null;
}

/** The latest attempt of a reservation: what GET /v1/reservations/:id shows. */
export async function latestPayment(sql: Db, reservationId: string): Promise<Payment | null> {
  const [row] = await sql<Row[]>`select * from payments where reservation_id = ${reservationId}
    order by attempt desc limit 1`;
  return row ? toPayment(row) : null;
}

export async function latestPayments(sql: Db, reservationIds: string[]): Promise<Map<string, Payment>> {
  if (!reservationIds.length) return new Map();
  const rows = await sql<Row[]>`select distinct on (reservation_id) * from payments
    where reservation_id = any(${reservationIds}::uuid[]) order by reservation_id, attempt desc`;
  return new Map(rows.map((r) => [r.reservation_id, toPayment(r)]));
}

export async function openPayment(sql: Db, reservationId: string): Promise<Payment | null> {
  const [row] = await sql<Row[]>`select * from payments
    where reservation_id = ${reservationId} and status in ('pending', 'succeeded')`;
  return row ? toPayment(row) : null;
}

export async function insertPayment(
  sql: Db,
  p: { id: string; reservationId: string; provider: string; amountCents: number; currency: string; email?: string | null },
): Promise<Payment> {
  const [row] = await sql<Row[]>`
    insert into payments (id, reservation_id, provider, amount_cents, currency, status, attempt, email)
    select ${p.id}, ${p.reservationId}, ${p.provider}, ${p.amountCents}, ${p.currency}, 'pending',
      coalesce((select max(attempt) from payments where reservation_id = ${p.reservationId}), 0) + 1,
      ${p.email ?? null}
    returning *`;
  return toPayment(row!);
}

export async function setProviderPayment(
  sql: Db,
  id: string,
  p: { providerPaymentId: string; clientSecret?: string; redirectUrl?: string },
): Promise<Payment> {
  const [row] = await sql<Row[]>`update payments set provider_payment_id = ${p.providerPaymentId},
      client_secret = ${p.clientSecret ?? null}, redirect_url = ${p.redirectUrl ?? null}, updated_at = now()
    where id = ${id} returning *`;
  return toPayment(row!);
}

export async function setPaymentStatus(sql: Db, id: string, status: PaymentStatus): Promise<void> {
  await sql`update payments set status = ${status}, updated_at = now() where id = ${id}`;
}

/** Where the buyer of a paid booking asked to be mailed: the address given at the checkout that paid, if any. */
export async function paidEmail(sql: Db, reservationId: string): Promise<string | null> {
  const [row] = await sql<{ email: string | null }[]>`select email from payments
    where reservation_id = ${reservationId} and status = 'succeeded'`;
  return row?.email ?? null;
}

/** Other pending attempts of a reservation lose once one attempt has settled it. */
export async function failOtherPending(sql: Db, reservationId: string, keep: string): Promise<void> {
  await sql`update payments set status = 'failed', updated_at = now()
    where reservation_id = ${reservationId} and status = 'pending' and id <> ${keep}`;
}

/** Records a webhook delivery; false if this provider event was handled before. */
export async function recordWebhookEvent(
  sql: Db,
  e: { provider: string; eventId: string; type: string; paymentId: string | null },
): Promise<boolean> {
  const rows = await sql`insert into payment_webhook_events (provider, event_id, type, payment_id, outcome)
    values (${e.provider}, ${e.eventId}, ${e.type}, ${e.paymentId}, '')
    on conflict (provider, event_id) do nothing returning event_id`;
  return rows.length === 1;
}

export async function setWebhookOutcome(sql: Db, provider: string, eventId: string, outcome: string): Promise<void> {
  await sql`update payment_webhook_events set outcome = ${outcome} where provider = ${provider} and event_id = ${eventId}`;
}

export type RefundReason = 'late' | 'mismatch' | 'duplicate' | 'admin' | 'event_cancelled';

export async function insertRefund(
  sql: Db,
  r: { id: string; paymentId: string; reason: RefundReason; amountCents: number },
): Promise<void> {
  await sql`insert into refunds (id, payment_id, reason, status, amount_cents)
    values (${r.id}, ${r.paymentId}, ${r.reason}, 'pending', ${r.amountCents})
    on conflict (payment_id) do nothing`;
}

export type DueRefund = { id: string; paymentId: string; providerPaymentId: string | null; amountCents: number; attempts: number };

/**
 * Claims due refunds for one attempt each: SKIP LOCKED keeps two workers apart, and the
 * lease (next_attempt_at pushed out) keeps a crashed worker's claim from being lost.
 */
export async function claimDueRefunds(sql: Db, limit: number, leaseMs: number, only?: string): Promise<DueRefund[]> {
  const rows = await sql<{ id: string; payment_id: string; provider_payment_id: string | null; amount_cents: bigint; attempts: number }[]>`
    with due as (
      select id from refunds
      where status = 'pending' and next_attempt_at <= now() ${only ? sql`and id = ${only}` : sql``}
      order by next_attempt_at limit ${limit}
      for update skip locked
    )
    update refunds f set next_attempt_at = now() + ${leaseMs} * interval '1 millisecond', attempts = f.attempts + 1
    from due, payments p
    where f.id = due.id and p.id = f.payment_id
    returning f.id, f.payment_id, p.provider_payment_id, f.amount_cents, f.attempts`;
  return rows.map((r) => ({
    id: r.id,
    paymentId: r.payment_id,
    providerPaymentId: r.provider_payment_id,
    amountCents: Number(r.amount_cents),
    attempts: r.attempts,
  }));
}

export async function refundSucceeded(sql: Db, id: string, providerRefundId: string): Promise<void> {
  await sql`update refunds set status = 'succeeded', provider_refund_id = ${providerRefundId}, done_at = now(), last_error = null
    where id = ${id}`;
}

export async function refundFailed(sql: Db, id: string, error: string, retryInMs: number): Promise<void> {
  await sql`update refunds set last_error = ${error.slice(0, 500)},
      next_attempt_at = now() + ${retryInMs} * interval '1 millisecond'
    where id = ${id} and status = 'pending'`;
}

export async function refundForPayment(sql: Db, paymentId: string) {
  const [row] = await sql<{ id: string; status: string; reason: RefundReason; attempts: number; last_error: string | null }[]>`
    select id, status, reason, attempts, last_error from refunds where payment_id = ${paymentId}`;
  return row ?? null;
}
