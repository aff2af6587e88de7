import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the part of Stripe's API boxoffice uses (PaymentIntents and Refunds),
 * answering as Stripe's API reference describes: form-encoded requests, Bearer secret key,
 * objects with `object`, `id` prefixes, `Idempotency-Key` replays (same key + same parameters:
 * the first response again with `Idempotent-Replayed: true`; other parameters: 400
 * `idempotency_error`), errors as `{"error":{"type","code","message","param"}}`.
 * Tests point the official SDK at it (host, port, protocol) and drive payments with
 * succeed()/fail(), which return the event object Stripe would post to the webhook.
 */
export type StandInIntent = {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_received: number;
  currency: string;
  status: 'requires_payment_method' | 'processing' | 'succeeded' | 'canceled';
  client_secret: string;
  metadata: Record<string, string>;
  created: number;
  livemode: false;
  automatic_payment_methods: { enabled: boolean } | null;
  last_payment_error: { code: string; message: string; type: string } | null;
  latest_charge: string | null;
};

export type StandInRefund = {
  id: string;
  object: 'refund';
  amount: number;
  currency: string;
  payment_intent: string;
  charge: string | null;
  status: 'succeeded';
  metadata: Record<string, string>;
  created: number;
  reason: string | null;
};

type Call = { method: string; path: string; idempotencyKey?: string; params: Record<string, unknown>; status: number };

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
const now = () => Math.floor(Date.now() / 1000);

/** Stripe's form encoding: `a[b]=c` nests one level per bracket. */
function parseForm(body: string): Record<string, unknown> {
  const out: Record<string, any> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const parts = k.split(/\[|\]\[|\]/).filter(Boolean);
    let o = out;
    for (const p of parts.slice(0, -1)) o = o[p] ??= {};
    o[parts.at(-1)!] = v;
  }
  return out;
}

export class StripeStandIn {
  readonly intents = new Map<string, StandInIntent>();
  readonly refunds = new Map<string, StandInRefund>();
  readonly calls: Call[] = [];
  /** While true every API call answers 500 api_error, as during a Stripe incident. */
  down = false;
  private readonly idempotent = new Map<string, { hash: string; status: number; body: string }>();
  private server: Server | null = null;
  port = 0;

  constructor(readonly secretKey = 'sk_test_standin') {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server!.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  get api() {
    return { host: '127.0.0.1', port: this.port, protocol: 'http' as const };
  }

  /** The buyer paid: the intent succeeds and this is the `payment_intent.succeeded` event. */
  succeed(intentId: string, opts: { amountReceived?: number } = {}) {
    const pi = this.mustIntent(intentId);
    pi.status = 'succeeded';
    pi.amount_received = opts.amountReceived ?? pi.amount;
    pi.latest_charge = id('ch');
    pi.last_payment_error = null;
    return this.event('payment_intent.succeeded', pi);
  }

  /** The card was declined: `payment_intent.payment_failed`. */
  fail(intentId: string) {
    const pi = this.mustIntent(intentId);
    pi.status = 'requires_payment_method';
    pi.last_payment_error = { code: 'card_declined', message: 'Your card was declined.', type: 'card_error' };
    return this.event('payment_intent.payment_failed', pi);
  }

  event(type: string, object: object) {
    return {
      id: id('evt'),
      object: 'event',
      api_version: '2025-01-27.acacia',
      created: now(),
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
  }

  intentFor(paymentId: string): StandInIntent | undefined {
    return [...this.intents.values()].find((i) => i.metadata.paymentId === paymentId);
  }

  private mustIntent(intentId: string) {
    const pi = this.intents.get(intentId);
    if (!pi) throw new Error(`no PaymentIntent ${intentId}`);
    return pi;
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const url = new URL(req.url ?? '/', 'http://x');
    const params = req.method === 'GET' ? parseForm(url.search.slice(1)) : parseForm(raw);
    const key = req.headers['idempotency-key'] as string | undefined;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      this.calls.push({ method: req.method!, path: url.pathname, idempotencyKey: key, params, status });
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req'), ...headers }).end(text);
      return { status, text };
    };
    const error = (status: number, type: string, message: string, extra: Record<string, string> = {}) =>
      send(status, { error: { type, message, ...extra } });

    if (this.down) return error(500, 'api_error', 'An unknown error occurred');
    if (req.headers.authorization !== `Bearer ${this.secretKey}`) {
      return error(401, 'invalid_request_error', 'Invalid API Key provided');
    }
    const hash = createHash('sha256').update(`${req.method} ${url.pathname} ${raw}`).digest('hex');
    if (key && req.method === 'POST') {
      const prior = this.idempotent.get(key);
      if (prior && prior.hash !== hash) {
        return error(400, 'idempotency_error',
          'Keys for idempotent requests can only be used with the same parameters they were first used with.');
      }
      if (prior) return send(prior.status, prior.body, { 'idempotent-replayed': 'true', 'idempotency-key': key });
    }
    const result = this.route(req.method!, url.pathname, params, send, error);
    if (key && req.method === 'POST' && result.status < 500) {
      this.idempotent.set(key, { hash, status: result.status, body: result.text });
    }
  }

  private route(
    method: string,
    path: string,
    p: Record<string, any>,
    send: (status: number, body: unknown) => { status: number; text: string },
    error: (status: number, type: string, message: string, extra?: Record<string, string>) => { status: number; text: string },
  ) {
    if (method === 'POST' && path === '/v1/payment_intents') {
      const amount = Number(p.amount);
      if (!/^\d+$/.test(String(p.amount ?? '')) || amount < 1) {
        return error(400, 'invalid_request_error', 'Missing required param: amount.', { param: 'amount', code: 'parameter_missing' });
      }
      if (!/^[a-z]{3}$/.test(String(p.currency ?? ''))) {
        return error(400, 'invalid_request_error', 'Invalid currency.', { param: 'currency', code: 'parameter_invalid_empty' });
      }
      const piId = id('pi');
      const pi: StandInIntent = {
        id: piId,
        object: 'payment_intent',
        amount,
        amount_received: 0,
        currency: p.currency,
        status: 'requires_payment_method',
        client_secret: `${piId}_secret_${randomBytes(12).toString('hex')}`,
        metadata: { ...(p.metadata ?? {}) },
        created: now(),
        livemode: false,
        automatic_payment_methods: p.automatic_payment_methods ? { enabled: p.automatic_payment_methods.enabled === 'true' } : null,
        last_payment_error: null,
        latest_charge: null,
      };
      this.intents.set(piId, pi);
      return send(200, pi);
    }
    const m = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
    if (method === 'GET' && m) {
      const pi = this.intents.get(m[1]!);
      return pi ? send(200, pi) : error(404, 'invalid_request_error', `No such payment_intent: '${m[1]}'`, { code: 'resource_missing', param: 'intent' });
    }
    if (method === 'POST' && path === '/v1/refunds') {
      const pi = this.intents.get(p.payment_intent);
      if (!pi) {
        return error(400, 'invalid_request_error', `No such payment_intent: '${p.payment_intent}'`, { code: 'resource_missing', param: 'payment_intent' });
      }
      if (pi.status !== 'succeeded') {
        return error(400, 'invalid_request_error', `This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, { code: 'charge_not_refundable' });
      }
      const already = [...this.refunds.values()].filter((r) => r.payment_intent === pi.id).reduce((s, r) => s + r.amount, 0);
      const amount = p.amount === undefined ? pi.amount_received - already : Number(p.amount);
      if (amount < 1 || already + amount > pi.amount_received) {
        return error(400, 'invalid_request_error', `Refund amount (${amount}) is greater than unrefunded amount on charge (${pi.amount_received - already}).`, { code: 'amount_too_large', param: 'amount' });
      }
      const refund: StandInRefund = {
        id: id('re'),
        object: 'refund',
        amount,
        currency: pi.currency,
        payment_intent: pi.id,
        charge: pi.latest_charge,
        status: 'succeeded',
        metadata: { ...(p.metadata ?? {}) },
        created: now(),
        reason: p.reason ?? null,
      };
      this.refunds.set(refund.id, refund);
      return send(200, refund);
    }
    return error(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
  }
}
