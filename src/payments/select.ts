import type { Config } from '../config/config';
import { DevProvider } from './dev';
import type { PaymentProvider } from './provider';
import { StripeProvider } from './stripe';

/** PAYMENT_PROVIDER -> the provider (null for `none`: reservations confirm as in v1). */
export function createPaymentProvider(cfg: Config['payments']): PaymentProvider | null {
  switch (cfg.provider) {
    case 'none':
      return null;
    case 'dev':
      return new DevProvider(cfg.devSecret);
    case 'stripe':
      return new StripeProvider({ secretKey: cfg.stripe!.secretKey, webhookSecret: cfg.stripe!.webhookSecret, api: cfg.stripe!.api });
  }
}
