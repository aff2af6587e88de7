import Stripe from 'stripe';
import {
  InvalidSignature,
  SIGNATURE_TOLERANCE_S,
  type CreatePayment,
  type CreatedPayment,
  type PaymentEvent,
  type PaymentProvider,
  type RefundRequest,
} from './provider';

export type StripeOptions = {
  secretKey: string;
  webhookSecret: string;
  /** Only for tests and stand-ins: where the SDK sends its API calls. */
  api?: { host: string; port: number; protocol: 'http' | 'https' };
  timeoutMs?: number;
};

/**
 * Stripe through its official SDK: one PaymentIntent per checkout attempt (our payment id
 * is its idempotency key, so a retried checkout never creates a second one), webhooks
 * checked by the SDK against STRIPE_WEBHOOK_SECRET, refunds by PaymentIntent.
 */
export class StripeProvider implements PaymentProvider {
  readonly name = 'stripe' as const;
  private readonly stripe: Stripe;

  constructor(private readonly o: StripeOptions) {
    this.stripe = new Stripe(o.secretKey, {
      // Retries reuse the idempotency key, so they are safe; a longer outage is the refund job's business.
      maxNetworkRetries: 2,
      timeout: o.timeoutMs ?? 10_000,
      telemetry: false,
      ...(o.api ?? {}),
    });
  }

  async create(p: CreatePayment): Promise<CreatedPayment> {
    const intent = await this.stripe.paymentIntents.create(
      {
        amount: p.amountCents,
        currency: p.currency.toLowerCase(),
        metadata: { reservationId: p.reservationId, paymentId: p.paymentId },
        automatic_payment_methods: { enabled: true },
      },
      { idempotencyKey: `checkout-${p.paymentId}` },
    );
    if (!intent.client_secret) throw new Error('Stripe returned a PaymentIntent without client_secret');
    return { providerPaymentId: intent.id, clientSecret: intent.client_secret };
  }

  async refund(r: RefundRequest): Promise<{ providerRefundId: string }> {
    const refund = await this.stripe.refunds.create(
      { payment_intent: r.providerPaymentId, amount: r.amountCents, metadata: { refundId: r.refundId } },
      { idempotencyKey: `refund-${r.refundId}` },
    );
    return { providerRefundId: refund.id };
  }

  parseWebhook(rawBody: string, signature: string | undefined): PaymentEvent {
    let event: Stripe.Event;
    try {
      if (!signature) throw new Error('no Stripe-Signature header');
      event = this.stripe.webhooks.constructEvent(rawBody, signature, this.o.webhookSecret, SIGNATURE_TOLERANCE_S);
    } catch (err) {
      throw new InvalidSignature((err as Error).message);
    }
    if (event.type !== 'payment_intent.succeeded' && event.type !== 'payment_intent.payment_failed') {
      return { eventId: event.id, type: event.type, outcome: 'ignored' };
    }
    const intent = event.data.object as Stripe.PaymentIntent;
    return {
      eventId: event.id,
      type: event.type,
      outcome: event.type === 'payment_intent.succeeded' ? 'succeeded' : 'failed',
      paymentId: intent.metadata?.paymentId,
      providerPaymentId: intent.id,
      // What was actually collected decides, not what was asked for.
      amountCents: event.type === 'payment_intent.succeeded' ? intent.amount_received : intent.amount,
      currency: intent.currency?.toUpperCase(),
    };
  }
}
