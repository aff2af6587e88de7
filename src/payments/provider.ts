/**
 * What the payment flow needs from a payment provider. The flow (service.ts) owns every
 * decision; a provider only creates payments, turns a signed webhook into a PaymentEvent,
 * and sends refunds.
 */
export type ProviderName = 'dev' | 'stripe';

export type CreatePayment = {
  /** Our payment id: in the provider's metadata, and the root of its idempotency key. */
  paymentId: string;
  reservationId: string;
  amountCents: number;
  /** ISO 4217, upper case. */
  currency: string;
};

export type CreatedPayment = {
  providerPaymentId: string;
  clientSecret?: string;
  redirectUrl?: string;
};

/** A verified webhook delivery, reduced to what the flow decides on. */
export type PaymentEvent = {
  /** The provider's event id: the dedupe key. */
  eventId: string;
  type: string;
  outcome: 'succeeded' | 'failed' | 'ignored';
  /** Our payment id, from the provider's metadata (absent on events we do not handle). */
  paymentId?: string;
  providerPaymentId?: string;
  amountCents?: number;
  currency?: string;
};

export type RefundRequest = {
  /** Our refund id: the idempotency key, so a retried refund is never sent twice. */
  refundId: string;
  providerPaymentId: string;
  amountCents: number;
};

export interface PaymentProvider {
  readonly name: ProviderName;
  create(p: CreatePayment): Promise<CreatedPayment>;
  /** Verifies the signature over the raw body; throws InvalidSignature when it does not hold. */
  parseWebhook(rawBody: string, signature: string | undefined): PaymentEvent;
  refund(r: RefundRequest): Promise<{ providerRefundId: string }>;
}

export class InvalidSignature extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidSignature';
  }
}

/** Seconds a webhook signature stays acceptable (Stripe's default tolerance). */
export const SIGNATURE_TOLERANCE_S = 300;
