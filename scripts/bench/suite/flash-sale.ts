// The sale as one driver process sees it: every buyer of its slice polls its ticket until
// admitted, holds seats with its pass, then pays (checkout, the dev provider's succeed or
// fail, then waits for its reservation to be confirmed) or walks away. A few pay late, after
// their hold expired and the seats went back, and must be refunded. The coordinator polls
// availability and the seat map for every driver (standing in for every buyer's refresh) and
// pushes them here, and decides when the sale is over.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FlashClient } from './client';

export type SaleLayout = { rows: number; perRow: number; gaCapacity: number; seatedCapacity: number; capacity: number };
export type SaleCounts = {
  admitted: number;
  holds: number;
  holdSeats: number;
  confirmed: number;
  confirmedSeats: number;
  abandoned: number;
  /** Checkout (or v1 confirm) answered 410: the hold had expired before the buyer paid. */
  confirmTooLate: number;
  /** Paid in time but the server refunded (the payment lost the race with the expiry). */
  paidTooLate: number;
  /** Paid on purpose after the hold expired and its seats went back. */
  latePayments: number;
  failedPayments: number;
  /** Checkout or the payment call answered something unexpected (503, 0 …). */
  paymentErrors: number;
  gaveUp: number;
  retries: number;
};

/** What one driver's buyers did; the coordinator merges the drivers' outcomes. */
export type BuyerOutcome = {
  counts: SaleCounts;
  /** Reservation id -> client time it was seen confirmed (epoch ms). */
  confirmedIds: Map<string, number>;
  /** Reservations that must end expired: walked away, too late, failed or late payment. */
  abandonedIds: Set<string>;
  /** Reservations paid after their hold expired: each must be refunded, never confirmed. */
  lateIds: Set<string>;
  failedIds: Set<string>;
  /** The webhook outcome the dev provider reported for each late payment. */
  lateOutcomes: Record<string, number>;
};

export type SaleOutcome = BuyerOutcome & {
  openedPerf: number;
  soldOutAt: number | null;
  allTakenAt: number | null;
  queueSamples: { s: number; admittedUpTo: number; admitted: number }[];
};

export type PayOptions = {
  confirmShare: number;
  /** false under PAYMENT_PROVIDER=none: buyers confirm directly (v1). */
  payments: boolean;
  /** Of the buyers who decide to pay: share paying late (after expiry), share whose payment fails. */
  lateShare: number;
  failShare: number;
  /** This driver's share of all buyers: how many of the seats that came back it wakes buyers for. */
  buyerShare: number;
  /** Buyers' first poll after the opening is spread uniformly over this many ms. */
  firstPollSpreadMs: number;
};

type Buyer = { token: string };

/** What a buyer's page waits after a 503: the server's Retry-After, 1 s without one. */
const retryDelay = (retryAfter: number) => (Number.isFinite(retryAfter) ? retryAfter * 1000 : 1_000);

const newCounts = (): SaleCounts => ({
  admitted: 0, holds: 0, holdSeats: 0, confirmed: 0, confirmedSeats: 0, abandoned: 0, confirmTooLate: 0,
  paidTooLate: 0, latePayments: 0, failedPayments: 0, paymentErrors: 0, gaveUp: 0, retries: 0,
});

export class Sale {
  private over = false;
  private readonly believedFree = new Set<string>();
  private gaAvailable: number;
  private seatedAvailable: number;
  private readonly hopeful: (() => void)[] = [];
  readonly counts = newCounts();
  private readonly out: BuyerOutcome;
  private readonly ev: string;

  constructor(
    private readonly c: FlashClient,
    eventId: string,
    layout: SaleLayout,
    private readonly o: PayOptions,
  ) {
    this.ev = `/v1/events/${eventId}`;
    this.gaAvailable = layout.gaCapacity;
    this.seatedAvailable = layout.seatedCapacity;
    for (let r = 1; r <= layout.rows; r++) for (let n = 1; n <= layout.perRow; n++) this.believedFree.add(`A-${r}-${n}`);
    this.out = { counts: this.counts, confirmedIds: new Map(), abandonedIds: new Set(), lateIds: new Set(), failedIds: new Set(), lateOutcomes: {} };
  }

  get waitingToRetry(): number {
    return this.hopeful.length;
  }

  /** Resolves when every buyer of this driver is done (the sale ended; holds in progress finish). */
  async run(buyers: Buyer[], tickets: (string | undefined)[]): Promise<BuyerOutcome> {
    await Promise.all(buyers.map((b, i) => this.buyer(b, tickets[i])));
    return this.out;
  }

  end(): void {
    this.over = true;
    for (const w of this.hopeful.splice(0)) w();
  }

  /** The availability the coordinator saw; wakes this driver's share of the seats that came back. */
  setAvailability(ga: number, seated: number): void {
    this.gaAvailable = ga;
    this.seatedAvailable = seated;
    const wake = Math.ceil((ga + seated) * this.o.buyerShare);
    for (let k = 0; k < wake && this.hopeful.length; k++) this.hopeful.shift()!();
  }

  setSeatMap(free: string[]): void {
    this.believedFree.clear();
    for (const s of free) this.believedFree.add(s);
  }

  /** Adjacent seats in one row if there are, else any believed-free seats. */
  private pickSeats(q: number): string[] | null {
    if (this.believedFree.size < q) return null;
    const all = [...this.believedFree];
    for (let tries = 0; tries < 8; tries++) {
      const start = all[Math.floor(Math.random() * all.length)]!;
      const [, r, n] = start.split('-');
      const seats = Array.from({ length: q }, (_, k) => `A-${r}-${Number(n) + k}`);
      if (seats.every((s) => this.believedFree.has(s))) return seats;
    }
    const out: string[] = [];
    while (out.length < q) {
      const s = all[Math.floor(Math.random() * all.length)]!;
      if (!out.includes(s)) out.push(s);
    }
    return out;
  }

  private async tryHold(b: Buyer, pass: string): Promise<{ id: string; seats: number } | null> {
    let preferSeated = Math.random() < 0.5;
    let qty = 1 + Math.floor(Math.random() * 4);
    for (let attempt = 0; attempt < 3 && !this.over; attempt++) {
      // The page shows "sold out" (every seat held or sold): wait for seats to come back
      // instead of asking anyway.
      if (this.gaAvailable <= 0 && this.seatedAvailable <= 0) return null;
      if (attempt > 0) this.counts.retries++;
      if (preferSeated && this.seatedAvailable <= 0 && this.gaAvailable > 0) preferSeated = false;
      if (!preferSeated && this.gaAvailable <= 0 && this.seatedAvailable > 0) preferSeated = true;
      const seats = preferSeated ? this.pickSeats(qty) : null;
      const body = seats ? { seats } : { zone: 'FLOOR', quantity: Math.min(qty, Math.max(1, this.gaAvailable)) };
      const r = await this.c.request('POST reservations', 'POST', `${this.ev}/reservations`, {
        token: b.token,
        body,
        headers: { 'x-queue-pass': pass, 'idempotency-key': randomUUID() },
      });
      if (r.status === 201) {
        this.c.mark('holds', r.at);
        for (const s of r.json.seats as string[]) this.believedFree.delete(s);
        return { id: r.json.id, seats: r.json.quantity };
      }
      if (r.status === 409) this.c.mark('rejections', r.at);
      const code = r.json?.error?.code;
      if (code === 'SEATS_UNAVAILABLE' && seats) for (const s of (r.json.error.details?.seats ?? []) as string[]) this.believedFree.delete(s);
      else if (code === 'SEATS_UNAVAILABLE') qty = Math.max(1, Number(r.json.error.details?.available ?? 1));
      else if (code === 'SOLD_OUT') {
        this.gaAvailable = 0;
        preferSeated = true;
      } else if (r.status === 503 || r.status === 0) await sleep(retryDelay(r.retryAfter));
      else if (code !== 'SEATS_UNAVAILABLE') return null; // 403/429/...: counted in the statuses, the buyer gives up
    }
    return null;
  }

  /** Polls the ticket (next poll at the server's ETA) until admitted or the sale is over. */
  private async awaitPass(ticket: string): Promise<string | undefined> {
    if (this.o.firstPollSpreadMs > 0) await sleep(Math.random() * this.o.firstPollSpreadMs);
    while (!this.over) {
      const r = await this.c.request('GET queue (poll)', 'GET', `${this.ev}/queue?ticket=${encodeURIComponent(ticket)}`, { priority: 1 });
      if (r.status === 200 && r.json.status === 'admitted') return r.json.pass;
      const eta = Number(r.json?.etaSeconds ?? 1);
      await sleep(Math.min(10_000, Math.max(300, eta * 1000)) + Math.random() * 300);
    }
    return undefined;
  }

  private async buyer(b: Buyer, ticket: string | undefined): Promise<void> {
    if (!ticket) return;
    const pass = await this.awaitPass(ticket);
    if (!pass) return;
    this.counts.admitted++;
    this.c.mark('passes');
    while (!this.over) {
      const hold = await this.tryHold(b, pass);
      if (!hold) {
        if (this.over) break;
        await new Promise<void>((r) => this.hopeful.push(r));
        continue;
      }
      this.counts.holds++;
      this.counts.holdSeats += hold.seats;
      await sleep(500 + Math.random() * 1_500);
      if (Math.random() >= this.o.confirmShare) this.walkAway(hold.id);
      else if (!this.o.payments) await this.confirm(b, hold);
      else {
        const r = Math.random();
        await this.pay(b, hold, r < this.o.lateShare ? 'late' : r < this.o.lateShare + this.o.failShare ? 'fail' : 'pay');
      }
      return;
    }
    this.counts.gaveUp++;
  }

  private walkAway(id: string): void {
    this.counts.abandoned++;
    this.out.abandonedIds.add(id);
  }

  private confirmed(hold: { id: string; seats: number }): void {
    this.c.mark('confirms');
    this.out.confirmedIds.set(hold.id, Date.now());
    this.counts.confirmed++;
    this.counts.confirmedSeats += hold.seats;
  }

  /**
   * A call answered 503 or not at all is made again after Retry-After, as a provider
   * redelivers a webhook until it is accepted and a checkout page retries (at most `tries`).
   */
  private async retried(route: string, path: string, token: string, tries = 8) {
    let r = await this.c.request(route, 'POST', path, { token });
    for (let i = 1; i < tries && (r.status === 503 || r.status === 0); i++) {
      await sleep(retryDelay(r.retryAfter));
      r = await this.c.request(route, 'POST', path, { token });
    }
    return r;
  }

  /** v1 (PAYMENT_PROVIDER=none): confirm trusts the client's payment reference. */
  private async confirm(b: Buyer, hold: { id: string; seats: number }): Promise<void> {
    const r = await this.c.request('POST confirm', 'POST', `/v1/reservations/${hold.id}/confirm`, { token: b.token, body: { paymentRef: `pay-${hold.id.slice(0, 8)}` } });
    if (r.status === 200) this.confirmed(hold);
    else if (r.status === 410) {
      this.counts.confirmTooLate++;
      this.out.abandonedIds.add(hold.id);
    }
  }

  /**
   * Checkout, then the dev provider's signed webhook (succeed or fail), then the buyer's page
   * waits for the booking. Confirm latency is checkout → the reservation seen confirmed.
   */
  private async pay(b: Buyer, hold: { id: string; seats: number }, kind: 'pay' | 'late' | 'fail'): Promise<void> {
    const t = performance.now();
    const res = `/v1/reservations/${hold.id}`;
    const co = await this.retried('POST checkout', `${res}/checkout`, b.token);
    if (co.status === 410) {
      this.counts.confirmTooLate++;
      this.out.abandonedIds.add(hold.id);
      return;
    }
    if (co.status !== 201 && co.status !== 200) {
      // No payment started: the hold runs out like an abandoned one.
      this.counts.paymentErrors++;
      this.out.abandonedIds.add(hold.id);
      return;
    }
    const paymentId = co.json.paymentId as string;
    const provider = `/v1/dev/payments/${paymentId}`;
    if (kind === 'fail') {
      const f = await this.retried('POST dev payment fail', `${provider}/fail`, b.token);
      // A failed payment leaves the hold until it expires; this buyer does not try again.
      if (f.status === 200) {
        this.counts.failedPayments++;
        this.out.failedIds.add(hold.id);
      } else this.counts.paymentErrors++;
      this.out.abandonedIds.add(hold.id);
      return;
    }
    if (kind === 'late') {
      // Pays only once the hold (extended by checkout) expired and the sweep gave the seats back.
      await sleep(Math.max(0, Date.parse(co.json.expiresAt) - Date.now()) + 1_000);
      for (let i = 0; i < 120; i++) {
        const g = await this.c.request('GET reservation', 'GET', res, { token: b.token });
        if (g.json?.status === 'expired') break;
        await sleep(1_000);
      }
      const s = await this.retried('POST dev payment succeed', `${provider}/succeed`, b.token);
      const outcome = String(s.json?.outcome ?? `HTTP ${s.status}`);
      this.out.lateOutcomes[outcome] = (this.out.lateOutcomes[outcome] ?? 0) + 1;
      this.out.abandonedIds.add(hold.id);
      // Money the server never heard of is not a late payment it could refund.
      if (s.status !== 200) {
        this.counts.paymentErrors++;
        return;
      }
      this.counts.latePayments++;
      this.out.lateIds.add(hold.id);
      return;
    }
    const s = await this.retried('POST dev payment succeed', `${provider}/succeed`, b.token);
    // The provider's call failed (503, 500, no answer): the page waits until the booking is
    // either confirmed or expired, every second, until past the payment window.
    const failed = s.status !== 200;
    if (failed) this.counts.paymentErrors++;
    const refused = String(s.json?.outcome ?? '').startsWith('refunded');
    for (let i = 0; i < (failed ? 60 : 300) && !refused; i++) {
      const g = await this.c.request('GET reservation', 'GET', res, { token: b.token });
      const status = g.json?.status;
      if (status === 'confirmed') {
        if (!failed) this.c.observe('confirm (checkout → confirmed)', performance.now() - t);
        this.confirmed(hold);
        return;
      }
      if (status === 'expired' || status === 'refunded' || status === 'cancelled') break;
      await sleep(failed ? 1_000 : 100);
    }
    if (failed) {
      // Never paid as far as the server knows: it runs out like an abandoned hold.
      this.out.abandonedIds.add(hold.id);
      return;
    }
    // The payment arrived after the hold ran out: the server must refund it.
    this.counts.paidTooLate++;
    this.out.lateIds.add(hold.id);
    this.out.abandonedIds.add(hold.id);
  }
}

/** The flash sale's size and pace (npm run bench -- --buyers, --seats, --admit, --drivers, …). */
export type FlashOptions = {
  seats: number;
  buyers: number;
  admitPerSecond: number;
  confirmShare: number;
  /** Of the paying buyers (dev provider): share who pay after expiry, share whose payment fails. */
  lateShare: number;
  failShare: number;
  holdSeconds: number;
  /** Requests in flight per driver process (each has its own keep-alive agent). */
  concurrency: number;
  /** Load-generator processes the buyers are split across. */
  drivers: number;
  /** Joins per second offered before the opening (0: 80% of the calibrated closed-loop rate). */
  joinRate: number;
  firstPollSpreadMs: number;
  /** What the API and worker run with for this sale (stack.ts flashPaymentEnv). */
  payment: { provider: string; windowSeconds: number };
  /** Stop selling this long after the opening even if not sold out. */
  deadlineSeconds: number;
};
