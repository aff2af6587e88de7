import { randomUUID } from 'node:crypto';
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

export type DevPaymentEvent = {
  id: string;
  type: 'payment.succeeded' | 'payment.failed';
  created: number;
  data: { paymentId: string; providerPaymentId: string; amountCents: number; currency: string };
};

/**
 * Development provider: no outside calls. Its webhooks use Stripe's signature scheme
 * (`t=<unix>,v1=<HMAC-SHA256 of "t.body">`) with DEV_PAYMENT_SECRET, checked by the same SDK
 * function, so the webhook path under `dev` is the one `stripe` takes.
 */
export class DevProvider implements PaymentProvider {
  readonly name = 'dev' as const;

  constructor(private readonly secret: string) {}

  async create(p: CreatePayment): Promise<CreatedPayment> {
    return { providerPaymentId: `devpay_${p.paymentId.replaceAll('-', '')}`, redirectUrl: `/pay/${p.paymentId}` };
  }

  async refund(r: RefundRequest): Promise<{ providerRefundId: string }> {
    return { providerRefundId: `devre_${r.refundId.replaceAll('-', '')}` };
  }

  /** The signed delivery the dev routes (`/v1/dev/payments/:id/succeed|fail`) post to the webhook. */
  sign(event: Omit<DevPaymentEvent, 'id' | 'created'> & { id?: string }, timestamp = Math.floor(Date.now() / 1000)) {
    const body = JSON.stringify({ id: event.id ?? `devevt_${randomUUID()}`, created: timestamp, ...event });
    const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret: this.secret, timestamp });
    return { body, signature };
  }

  parseWebhook(rawBody: string, signature: string | undefined): PaymentEvent {
    let event: DevPaymentEvent;
    try {
      if (!signature) throw new Error('no signature header');
      event = Stripe.webhooks.constructEvent(rawBody, signature, this.secret, SIGNATURE_TOLERANCE_S) as unknown as DevPaymentEvent;
    } catch (err) {
      throw new InvalidSignature((err as Error).message);
    }
    const d = event.data;
    const handled = event.type === 'payment.succeeded' || event.type === 'payment.failed';
    if (typeof event.id !== 'string' || (handled && (typeof d?.paymentId !== 'string' || !Number.isInteger(d.amountCents)))) {
      throw new InvalidSignature('malformed event');
    }
    return {
      eventId: event.id,
      type: event.type,
      outcome: event.type === 'payment.succeeded' ? 'succeeded' : event.type === 'payment.failed' ? 'failed' : 'ignored',
      paymentId: d?.paymentId,
      providerPaymentId: d?.providerPaymentId,
      amountCents: d?.amountCents,
      currency: d?.currency?.toUpperCase(),
    };
  }
}
