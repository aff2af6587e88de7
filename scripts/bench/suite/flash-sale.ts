// The sale itself: every buyer polls its ticket until admitted, holds seats with its pass,
// then confirms or walks away; a watcher polls availability (standing in for every buyer's
// refresh), refreshes the seat map, samples the queue and ends the sale when all is sold.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FlashClient } from './client';
import { progress } from './common';
import { fmt } from './stats';

export type SaleLayout = { rows: number; perRow: number; gaCapacity: number; seatedCapacity: number; capacity: number };
export type SaleCounts = { admitted: number; holds: number; holdSeats: number; confirmed: number; confirmedSeats: number; abandoned: number; confirmTooLate: number; gaveUp: number; retries: number };
export type SaleOutcome = {
  openedPerf: number;
  soldOutAt: number | null;
  allTakenAt: number | null;
  counts: SaleCounts;
  /** Reservation id -> client time of the 200 (epoch ms). */
  confirmedIds: Map<string, number>;
  abandonedIds: Set<string>;
  queueSamples: { s: number; admittedUpTo: number; admitted: number }[];
};

type Buyer = { token: string };

export class Sale {
  private over = false;
  private soldOutAt: number | null = null; // every seat sold
  private allTakenAt: number | null = null; // every seat held or sold (buyers see "sold out")
  private readonly believedFree = new Set<string>();
  private gaAvailable: number;
  private seatedAvailable: number;
  private readonly hopeful: (() => void)[] = [];
  private readonly counts: SaleCounts = { admitted: 0, holds: 0, holdSeats: 0, confirmed: 0, confirmedSeats: 0, abandoned: 0, confirmTooLate: 0, gaveUp: 0, retries: 0 };
  private readonly confirmedIds = new Map<string, number>();
  private readonly abandonedIds = new Set<string>();
  private readonly queueSamples: SaleOutcome['queueSamples'] = [];
  private openedPerf = 0;
  private readonly ev: string;

  constructor(
    private readonly c: FlashClient,
    private readonly eventId: string,
    private readonly adminToken: string,
    private readonly layout: SaleLayout,
    private readonly o: { confirmShare: number; deadlineSeconds: number },
  ) {
    this.ev = `/v1/events/${eventId}`;
    this.gaAvailable = layout.gaCapacity;
    this.seatedAvailable = layout.seatedCapacity;
    for (let r = 1; r <= layout.rows; r++) for (let n = 1; n <= layout.perRow; n++) this.believedFree.add(`A-${r}-${n}`);
  }

  /** Opens the sale now; resolves when every buyer is done (sold out or the deadline). */
  async run(buyers: Buyer[], tickets: string[]): Promise<SaleOutcome> {
    this.c.t0 = performance.now();
    this.openedPerf = this.c.t0;
    const watcher = this.watch();
    const deadline = setTimeout(() => this.end(), this.o.deadlineSeconds * 1000);
    // Buyers finish on their own once the sale ends (a hold in progress is still confirmed
    // or abandoned); the watcher ends the sale when everything is sold, the timer at the deadline.
    await Promise.all(buyers.map((b, i) => this.buyer(b, tickets[i])));
    this.end();
    clearTimeout(deadline);
    await watcher;
    const { openedPerf, soldOutAt, allTakenAt, counts, confirmedIds, abandonedIds, queueSamples } = this;
    return { openedPerf, soldOutAt, allTakenAt, counts, confirmedIds, abandonedIds, queueSamples };
  }

  private end(): void {
    this.over = true;
    for (const w of this.hopeful.splice(0)) w();
  }

  private async watch(): Promise<void> {
    for (let tick = 0; !this.over; tick++) {
      if (await this.pollAvailability()) break;
      if (tick % 4 === 0) await this.refreshSeatsAndQueue();
      if (tick % 20 === 0) {
        const free = this.gaAvailable + this.seatedAvailable;
        progress(
          `flash: t+${((performance.now() - this.openedPerf) / 1000).toFixed(0)}s admitted ${fmt(this.counts.admitted)}, holds ${fmt(this.counts.holds)}, confirmed ${fmt(this.counts.confirmedSeats)}/${fmt(this.layout.capacity)} seats, free ${fmt(free)}, waiting to retry ${fmt(this.hopeful.length)}, generator backlog ${fmt(this.c.backlog)}`,
        );
      }
      await sleep(250);
    }
  }

  /** True once everything is sold (and the sale ended). Wakes as many hopefuls as seats came back. */
  private async pollAvailability(): Promise<boolean> {
    const r = await this.c.request('GET availability', 'GET', `${this.ev}/availability`);
    if (r.status !== 200) return false;
    const zones = r.json.zones as { code: string; available: number; held: number; sold: number }[];
    this.gaAvailable = zones.find((z) => z.code === 'FLOOR')!.available;
    this.seatedAvailable = zones.find((z) => z.code === 'A')!.available;
    const free = zones.reduce((a, z) => a + z.available, 0);
    const held = zones.reduce((a, z) => a + z.held, 0);
    const now = performance.now();
    if (free === 0 && this.allTakenAt === null) this.allTakenAt = now;
    if (free === 0 && held === 0) {
      this.soldOutAt = now;
      this.end();
      return true;
    }
    for (let k = 0; k < free && this.hopeful.length; k++) this.hopeful.shift()!();
    return false;
  }

  private async refreshSeatsAndQueue(): Promise<void> {
    const m = await this.c.request('GET seat map', 'GET', `${this.ev}/zones/A/seats`);
    if (m.status === 200) {
      this.believedFree.clear();
      for (const s of m.json as { seat: string; status: string }[]) if (s.status === 'available') this.believedFree.add(s.seat);
    }
    const q = await this.c.request('GET admin queue', 'GET', `/v1/admin/events/${this.eventId}/queue`, { token: this.adminToken });
    if (q.status === 200) this.queueSamples.push({ s: Math.round((performance.now() - this.openedPerf) / 100) / 10, admittedUpTo: q.json.admittedUpTo, admitted: q.json.admitted });
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
      } else if (r.status === 503 || r.status === 0) await sleep(1_000);
      else if (code !== 'SEATS_UNAVAILABLE') return null; // 403/429/...: counted in the statuses, the buyer gives up
    }
    return null;
  }

  /** Polls the ticket (next poll at the server's ETA) until admitted or the sale is over. */
  private async awaitPass(ticket: string): Promise<string | undefined> {
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
      if (Math.random() < this.o.confirmShare) await this.confirm(b, hold);
      else {
        this.counts.abandoned++;
        this.abandonedIds.add(hold.id);
      }
      return;
    }
    this.counts.gaveUp++;
  }

  private async confirm(b: Buyer, hold: { id: string; seats: number }): Promise<void> {
    const r = await this.c.request('POST confirm', 'POST', `/v1/reservations/${hold.id}/confirm`, { token: b.token, body: { paymentRef: `pay-${hold.id.slice(0, 8)}` } });
    if (r.status === 200) {
      this.c.mark('confirms', r.at);
      this.confirmedIds.set(hold.id, Date.now());
      this.counts.confirmed++;
      this.counts.confirmedSeats += hold.seats;
    } else if (r.status === 410) {
      this.counts.confirmTooLate++;
      this.abandonedIds.add(hold.id);
    }
  }
}

/** The flash sale's size and pace (npm run bench -- --buyers, --seats, --admit, …). */
export type FlashOptions = {
  seats: number;
  buyers: number;
  admitPerSecond: number;
  confirmShare: number;
  holdSeconds: number;
  concurrency: number;
  /** Stop selling this long after the opening even if not sold out. */
  deadlineSeconds: number;
};
