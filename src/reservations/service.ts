import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Sql, Tx } from '../db/client';
import type { EventCatalog } from '../events/catalog';
import { salesState, type BoxEvent } from '../events/model';
import type { InventoryLoader } from '../inventory/loader';
import { parseIdemRecord } from '../inventory/records';
import { releaseScript, reserveScript } from '../inventory/scripts';
import type { Breakers } from '../resilience/breakers';
import type { RedisClient } from '../redis/client';
import { eventKeys, idemField } from '../redis/keys';
import { AppError, Errors } from '../shared/errors';
import { decide } from './decision';
import type { HoldWriter, Written } from './hold-writer';
import type { NewHold, Reservation } from './model';
import * as repo from './repository';
import { resolveRequest, salesWindow, type HoldRequest, type ResolvedHold } from './request';
import { transition, type TransitionDeps } from './transition';

export type { HoldRequest } from './request';

/** The waiting room's say on a hold: throws (or rejects) unless the pass admits this user to this event. */
export type PassGate = (event: BoxEvent, userId: string, pass: string | undefined) => void | Promise<void>;

export type ReservationDeps = TransitionDeps & {
  redis: RedisClient;
  prefix: string;
  catalog: EventCatalog;
  loader: InventoryLoader;
  writer: HoldWriter;
  passGate: PassGate;
  /** Writes a confirmed booking's tickets inside its confirming transaction (the tickets capability). */
  issueTickets: (tx: Tx, r: Reservation) => Promise<unknown>;
  /** A confirm or cancel ended the holder's queue pass (its place under the cap is freed). */
  onPassEnd?: (eventId: string, userId: string) => Promise<void>;
  logger: Logger;
  /** How long after its Lua a hold may still be written (see writeBudgetMs in core). */
  writeBudgetMs: number;
  /** How long a replay waits for the first request's row. */
  idempotencyWaitMs: number;
  /** A payment provider is configured: a paid hold is confirmed by its payment, not by confirm. */
  paymentRequired: boolean;
  onHoldOutcome?: (outcome: string) => void;
  /** Circuit breakers: a hold fails fast while PostgreSQL or Redis is known to be down, confirm and cancel while PostgreSQL is. */
  breakers?: Breakers;
};

export type HoldCall = { userId: string; eventId: string; body: HoldRequest; idempotencyKey?: string; queuePass?: string };

const BOOKING_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const bookingCode = () => [...randomBytes(10)].map((b) => BOOKING_ALPHABET[b & 31]).join('');

/**
 * Hold, confirm and cancel. A hold reads in order: admission (sales window, pass, limit,
 * with the replay fallback), the Redis decision (lua/reserve-8.lua, then `decide`), and the
 * durable write (HoldWriter). After a hold, PostgreSQL decides everything (`transition`).
 */
export class ReservationService {
  constructor(private readonly d: ReservationDeps) {}

  async hold(a: HoldCall): Promise<Written> {
    // Before any Redis work: a hold PostgreSQL cannot make durable is not taken at all.
    this.d.breakers?.failFast('postgres', 'redis');
    const event = await this.d.catalog.get(a.eventId);
    if (!event) throw Errors.notFound('event');
    const req = resolveRequest(event, a.body);
    const key = a.idempotencyKey ?? null;
    try {
      await this.admit(event, a, req.quantity);
    } catch (err) {
      // A retry of a hold that already succeeded gets that reservation, even once the sales
      // window or its queue pass has closed (a rejection path, so the extra read is cheap).
      const prior = key === null ? undefined : await this.priorHold(event.id, a.userId, key, req.requestHash);
      if (prior) return { reservation: await this.awaitReplay(prior, a.userId), replayed: true };
      throw err;
    }
    const hold = this.newHold(event, a.userId, key, req);
    const undo = () => this.undo(hold);
    let decision;
    try {
      decision = decide(await this.reserve(hold, req), event, req.zone, req.quantity);
    } catch (err) {
      // A timed-out script may still have run: take its hold back before answering 503.
      if (!(err instanceof AppError)) await undo();
      throw err;
    }
    if (decision.kind === 'replay') return { reservation: await this.awaitReplay(decision.reservationId, a.userId), replayed: true };
    if (decision.kind === 'not-loaded') throw this.d.loader.restoring(event);
    if (decision.kind === 'drift') {
      this.d.logger.warn({ eventId: event.id, zone: hold.zone }, 'redis seat index drift: rebuilding from postgres');
      throw this.d.loader.drifted(event);
    }
    // Best available: the script chose the seats.
    hold.seats = decision.seats;
    return this.guard('postgres', () => this.d.writer.write(hold, undo));
  }

  private guard<T>(name: 'postgres' | 'redis', fn: () => Promise<T>): Promise<T> {
    return this.d.breakers ? this.d.breakers.run(name, fn) : fn();
  }

  private async admit(event: BoxEvent, a: HoldCall, quantity: number): Promise<void> {
    if (salesState(event) !== 'open') throw Errors.salesClosed(salesWindow(event));
    if (event.queue.enabled) await this.d.passGate(event, a.userId, a.queuePass);
    if (quantity > event.maxSeatsPerUser) throw Errors.limitExceeded(event.maxSeatsPerUser, 0, quantity);
  }

  private async priorHold(eventId: string, userId: string, key: string, requestHash: string): Promise<string | undefined> {
    const v = await this.d.redis.hget(eventKeys(this.d.prefix, eventId).idem, idemField(userId, key));
    const rec = v === null ? null : parseIdemRecord(v);
    return rec?.requestHash === requestHash ? rec.reservationId : undefined;
  }

  private newHold(event: BoxEvent, userId: string, key: string | null, req: ResolvedHold): NewHold {
    const now = Date.now();
    return {
      id: randomUUID(),
      eventId: event.id,
      userId,
      zone: req.zone.code,
      quantity: req.quantity,
      seats: req.seats,
      totalCents: req.zone.priceCents * req.quantity,
      idempotencyKey: key,
      requestHash: req.requestHash,
      expiresAt: new Date(now + event.holdSeconds * 1000),
      createdAt: new Date(now),
      deadline: new Date(now + this.d.writeBudgetMs),
    };
  }

  private async reserve(hold: NewHold, req: ResolvedHold) {
    const outcome = await this.guard('redis', () => reserveScript(this.d.redis, eventKeys(this.d.prefix, hold.eventId), {
      now: hold.createdAt.getTime(),
      reservationId: hold.id,
      userId: hold.userId,
      idemField: hold.idempotencyKey === null ? '' : idemField(hold.userId, hold.idempotencyKey),
      requestHash: req.requestHash,
      zone: hold.zone,
      quantity: hold.quantity,
      seats: hold.seats,
      best: req.best,
    }));
    this.d.onHoldOutcome?.(outcome.kind);
    return outcome;
  }

  private async undo(hold: NewHold): Promise<void> {
    const k = eventKeys(this.d.prefix, hold.eventId);
    await releaseScript(this.d.redis, k, { reservationId: hold.id, zone: hold.zone, forgetIdempotencyKey: true }).catch((e) =>
      this.d.logger.error({ err: e, reservationId: hold.id }, 'undo of hold failed; reconciliation will free it'),
    );
  }

  /** Same key, same body, first request possibly still in flight: wait for its row. */
  private async awaitReplay(id: string, userId: string): Promise<Reservation> {
    const deadline = Date.now() + this.d.idempotencyWaitMs;
    for (;;) {
      const r = await repo.findReservation(this.d.sql, id);
      if (r && r.userId === userId) return r;
      if (Date.now() >= deadline) {
        throw new AppError(409, 'IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key is still being processed', undefined, {
          'Retry-After': '1',
        });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get(userId: string, id: string): Promise<Reservation> {
    return this.owned(userId, id);
  }

  private async owned(userId: string, id: string): Promise<Reservation> {
    const r = await repo.findReservation(this.d.sql, id);
    // Someone else's reservation is indistinguishable from a missing one.
    if (!r || r.userId !== userId) throw Errors.notFound('reservation');
    return r;
  }

  listMine(userId: string, limit = 100) {
    return repo.listForUser(this.d.sql, userId, limit);
  }

  async confirm(userId: string, id: string, paymentRef: string | null): Promise<Reservation> {
    // PostgreSQL alone decides a confirm: while it is known to be down, 503 at once.
    this.d.breakers?.failFast('postgres');
    return this.guard('postgres', () => this.confirmInPostgres(userId, id, paymentRef));
  }

  private async confirmInPostgres(userId: string, id: string, paymentRef: string | null): Promise<Reservation> {
    if (this.d.paymentRequired) {
      // Expired (410), confirmed (200) and cancelled (409) answer as before; a live paid hold
      // is confirmed by its payment's webhook only.
      const r = await this.owned(userId, id);
      if (r.totalCents > 0 && r.status === 'held' && r.expiresAt.getTime() > Date.now()) throw Errors.paymentRequired(id);
      if (r.totalCents > 0 && r.status === 'held') throw Errors.holdExpired();
    }
    const [confirmed] = await transition(this.d, 'booking.confirmed', 'sell', async (tx) => {
      const r = await repo.markConfirmed(tx, { id, userId, bookingCode: bookingCode(), paymentRef });
      if (r) await this.d.issueTickets(tx, r);
      return r ? [r] : [];
    });
    if (confirmed) {
      await this.passEnded(confirmed);
      return confirmed;
    }
    const r = await this.owned(userId, id);
    if (r.status === 'confirmed') return r;
    if (r.status === 'cancelled') throw Errors.conflict('RESERVATION_CANCELLED', 'the reservation was cancelled');
    if (r.status === 'refunded') throw Errors.conflict('RESERVATION_REFUNDED', 'the booking was refunded');
    throw Errors.holdExpired();
  }

  async cancel(userId: string, id: string): Promise<Reservation> {
    this.d.breakers?.failFast('postgres');
    return this.guard('postgres', () => this.cancelInPostgres(userId, id));
  }

  private async cancelInPostgres(userId: string, id: string): Promise<Reservation> {
    const [cancelled] = await transition(this.d, 'booking.cancelled', 'release', async (tx) => {
      const r = await repo.markCancelled(tx, { id, userId });
      return r ? [r] : [];
    });
    if (cancelled) {
      await this.passEnded(cancelled);
      return cancelled;
    }
    const r = await this.owned(userId, id);
    if (r.status === 'confirmed') throw Errors.conflict('ALREADY_CONFIRMED', 'a confirmed reservation cannot be cancelled here');
    return r;
  }

  /** The queue's bookkeeping must not fail a confirm or cancel that PostgreSQL already made. */
  private async passEnded(r: Reservation): Promise<void> {
    await this.d.onPassEnd?.(r.eventId, r.userId).catch((err) => this.d.logger.warn({ err, reservationId: r.id }, 'ending the queue pass failed; it lapses at passSeconds'));
  }
}
