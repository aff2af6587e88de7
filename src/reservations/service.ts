import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { Sql } from '../db/client';
import { GroupCommit } from '../db/group-commit';
import type { EventCatalog } from '../events/catalog';
import { parseSeatLabel, salesState, zoneHasSeat, type BoxEvent, type Zone } from '../events/model';
import type { InventoryLoader } from '../inventory/loader';
import { releaseScript, reserveScript, sellScript } from '../inventory/scripts';
import { enqueueBookingEvents } from '../outbox/outbox';
import { verifyQueueToken } from '../queue/tokens';
import type { RedisClient } from '../redis/client';
import { eventKeys, idemField } from '../redis/keys';
import { AppError, Errors } from '../shared/errors';
import type { Reservation } from './model';
import * as repo from './repository';

export type HoldRequest =
  | { seats: string[]; zone?: undefined; quantity?: undefined }
  | { seats?: undefined; zone: string; quantity: number };

export type ReservationDeps = {
  config: Config;
  sql: Sql;
  redis: RedisClient;
  catalog: EventCatalog;
  loader: InventoryLoader;
  logger: Logger;
  /** Extra outbox headers for the current request (trace context), if any. */
  outboxHeaders?: () => Record<string, string>;
  onHoldOutcome?: (outcome: string) => void;
  onBatch?: (size: number, ms: number) => void;
};

const BOOKING_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function bookingCode(): string {
  return [...randomBytes(10)].map((b) => BOOKING_ALPHABET[b & 31]).join('');
}

/** Hold, confirm and cancel: Redis decides holds, PostgreSQL decides everything after. */
export class ReservationService {
  readonly writer: GroupCommit<repo.NewHold, true>;

  /**
   * How long after its Lua a hold may still be written: a Redis rebuild waits
   * REBUILD_QUIESCE_MS, and a write started before the deadline ends within the statement
   * timeout, so every hold decided before a loss is in PostgreSQL when the rebuild reads it.
   */
  private readonly writeBudgetMs: number;

  constructor(private readonly d: ReservationDeps) {
    this.writeBudgetMs = Math.max(0, d.config.rebuild.quiesceMs - d.config.db.statementTimeoutMs - 250);
    this.writer = new GroupCommit({
      maxBatch: d.config.groupCommit.maxBatch,
      concurrency: d.config.groupCommit.concurrency,
      flush: (holds) => repo.insertHolds(d.sql, holds),
      onBatch: d.onBatch,
    });
  }

  private keys(eventId: string) {
    return eventKeys(this.d.config.redis.prefix, eventId);
  }

  async hold(a: {
    userId: string;
    eventId: string;
    body: HoldRequest;
    idempotencyKey?: string;
    queuePass?: string;
  }): Promise<{ reservation: Reservation; replayed: boolean }> {
    const event = await this.d.catalog.get(a.eventId);
    if (!event) throw Errors.notFound('event');
    const { zone, seats, quantity } = resolveRequest(event, a.body);

    const key = a.idempotencyKey ?? null;
    const requestHash = createHash('sha256')
      .update(JSON.stringify([event.id, zone.code, quantity, [...seats].sort()]))
      .digest('base64url');
    const k = this.keys(event.id);
    try {
      if (salesState(event) !== 'open') throw Errors.salesClosed(salesWindow(event));
      if (event.queue.enabled) {
        const pass = verifyQueueToken(this.d.config.queueSecret, 'pass', a.queuePass);
        if (!pass || pass.e !== event.id || pass.u !== a.userId) throw Errors.queuePassRequired();
      }
      if (quantity > event.maxSeatsPerUser) throw Errors.limitExceeded(event.maxSeatsPerUser, 0, quantity);
    } catch (err) {
      // A retry of a hold that already succeeded gets that reservation, even once the sales
      // window or its queue pass has closed (a rejection path, so the extra read is cheap).
      const prior = key === null ? null : await this.d.redis.hget(k.idem, idemField(a.userId, key));
      if (prior?.endsWith(`|${requestHash}`)) {
        return { reservation: await this.awaitReplay(prior.slice(0, prior.indexOf('|')), a.userId), replayed: true };
      }
      throw err;
    }

    const now = Date.now();
    const hold: repo.NewHold = {
      id: randomUUID(),
      eventId: event.id,
      userId: a.userId,
      zone: zone.code,
      quantity,
      seats,
      totalCents: zone.priceCents * quantity,
      idempotencyKey: key,
      requestHash,
      expiresAt: new Date(now + event.holdSeconds * 1000),
      createdAt: new Date(now),
      deadline: new Date(now + this.writeBudgetMs),
    };
    const undo = () =>
      releaseScript(this.d.redis, k, { reservationId: hold.id, zone: zone.code, forgetIdempotencyKey: true }).catch((e) =>
        this.d.logger.error({ err: e, reservationId: hold.id }, 'undo of hold failed; reconciliation will free it'),
      );
    let outcome;
    try {
      outcome = await reserveScript(this.d.redis, k, {
        now,
        reservationId: hold.id,
        userId: a.userId,
        idemField: key === null ? '' : idemField(a.userId, key),
        requestHash,
        zone: zone.code,
        quantity,
        seats,
      });
    } catch (err) {
      // A timed-out script may still have run: take its hold back before answering 503.
      await undo();
      throw err;
    }
    this.d.onHoldOutcome?.(outcome.kind);
    switch (outcome.kind) {
      case 'held':
        break;
      case 'replay':
        return { reservation: await this.awaitReplay(outcome.reservationId, a.userId), replayed: true };
      case 'not-loaded':
        this.d.loader.ensureLoaded(event).catch((err) =>
          this.d.logger.error({ err, eventId: event.id }, 'inventory rebuild failed'),
        );
        throw Errors.unavailable('event inventory is being restored, retry shortly', 2);
      case 'idempotency-mismatch':
        throw Errors.idempotencyKeyReused();
      case 'sales-closed':
        throw Errors.salesClosed(salesWindow(event));
      case 'limit':
        throw Errors.limitExceeded(event.maxSeatsPerUser, outcome.current, quantity);
      case 'seats-taken':
        throw Errors.seatsUnavailable(outcome.seats);
      case 'ga-short':
        if (outcome.available <= 0) throw Errors.soldOut(zone.code);
        throw Errors.seatsUnavailable([], { zone: zone.code, available: outcome.available });
      case 'unknown-seat':
        throw Errors.invalid(`unknown seat ${outcome.seat}`, { field: 'seats', seat: outcome.seat });
    }

    try {
      await this.writer.add(hold);
    } catch (err) {
      // A connection lost after COMMIT: the row may be there after all.
      if (!(err instanceof repo.HoldConflict || err instanceof repo.HoldTooLate)) {
        const written = await repo.findReservation(this.d.sql, hold.id).catch(() => null);
        if (written) return { reservation: written, replayed: false };
      }
      // Nothing half-done: the Redis hold goes away with the failed write.
      await undo();
      if (err instanceof repo.HoldConflict && err.reason === 'seat') throw Errors.seatsUnavailable(seats);
      if (err instanceof repo.HoldConflict && key !== null) {
        const prior = await repo.findByIdempotencyKey(this.d.sql, a.userId, key);
        if (prior && prior.requestHash === requestHash) return { reservation: prior, replayed: true };
        throw Errors.idempotencyKeyReused();
      }
      if (!(err instanceof repo.HoldTooLate)) this.d.logger.error({ err, reservationId: hold.id }, 'hold write failed');
      throw Errors.unavailable();
    }
    return {
      replayed: false,
      reservation: {
        ...hold,
        status: 'held',
        confirmedAt: null,
        cancelledAt: null,
        expiredAt: null,
        bookingCode: null,
      },
    };
  }

  /** Same key, same body, first request possibly still in flight: wait for its row. */
  private async awaitReplay(id: string, userId: string): Promise<Reservation> {
    const deadline = Date.now() + this.d.config.idempotencyWaitMs;
    for (;;) {
      const r = await repo.findReservation(this.d.sql, id);
      if (r && r.userId === userId) return r;
      if (Date.now() >= deadline) {
        throw new AppError(
          409,
          'IDEMPOTENCY_IN_PROGRESS',
          'a request with this Idempotency-Key is still being processed',
          undefined,
          { 'Retry-After': '1' },
        );
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
    const topic = this.d.config.kafka.topic;
    const confirmed = await this.d.sql.begin(async (tx) => {
      const r = await repo.markConfirmed(tx as unknown as Sql, {
        id,
        userId,
        bookingCode: bookingCode(),
        paymentRef,
      });
      if (r) await enqueueBookingEvents(tx as unknown as Sql, topic, 'booking.confirmed', [r], this.d.outboxHeaders?.());
      return r;
    });
    if (confirmed) {
      await this.syncRedis(confirmed, 'sell');
      return confirmed;
    }
    const r = await this.owned(userId, id);
    if (r.status === 'confirmed') return r;
    if (r.status === 'cancelled') {
      throw Errors.conflict('RESERVATION_CANCELLED', 'the reservation was cancelled');
    }
    throw Errors.holdExpired();
  }

  async cancel(userId: string, id: string): Promise<Reservation> {
    const topic = this.d.config.kafka.topic;
    const cancelled = await this.d.sql.begin(async (tx) => {
      const r = await repo.markReleased(tx as unknown as Sql, { id, userId, status: 'cancelled' });
      if (r) await enqueueBookingEvents(tx as unknown as Sql, topic, 'booking.cancelled', [r], this.d.outboxHeaders?.());
      return r;
    });
    if (cancelled) {
      await this.syncRedis(cancelled, 'release');
      return cancelled;
    }
    const r = await this.owned(userId, id);
    if (r.status === 'confirmed') {
      throw Errors.conflict('ALREADY_CONFIRMED', 'a confirmed reservation cannot be cancelled here');
    }
    return r;
  }

  /**
   * PostgreSQL has decided; make Redis agree. A failure here never fails the request:
   * the worker's reconciliation repairs Redis from PostgreSQL.
   */
  async syncRedis(r: Reservation, action: 'sell' | 'release'): Promise<void> {
    const k = this.keys(r.eventId);
    const run = () =>
      action === 'sell'
        ? sellScript(this.d.redis, k, { reservationId: r.id, zone: r.zone })
        : releaseScript(this.d.redis, k, { reservationId: r.id, zone: r.zone });
    try {
      let outcome: string = await run();
      if (outcome === 'not-loaded') {
        const event = await this.d.catalog.get(r.eventId);
        if (event && (await this.d.loader.ensureLoaded(event))) outcome = await run();
      }
      if (outcome === 'missing') {
        // Redis lost this hold while keeping the event: rebuild the event from PostgreSQL.
        this.d.logger.warn({ reservationId: r.id, eventId: r.eventId }, 'redis drift: forcing rebuild');
        await this.d.loader.invalidate(r.eventId);
      }
    } catch (err) {
      this.d.logger.error({ err, reservationId: r.id, action }, 'redis sync failed; reconciliation will repair');
    }
  }
}

function salesWindow(e: BoxEvent) {
  return { salesOpenAt: e.salesOpenAt.toISOString(), salesCloseAt: e.salesCloseAt.toISOString() };
}

/** Maps the body to one zone plus seats (seated) or a quantity (GA); unknown names are 400. */
function resolveRequest(event: BoxEvent, body: HoldRequest): { zone: Zone; seats: string[]; quantity: number } {
  if (body.seats) {
    const zoneCode = parseSeatLabel(body.seats[0]!)?.zone;
    const zone = event.zones.find((z) => z.code === zoneCode);
    const unknown = body.seats.filter((s) => !zone || !zoneHasSeat(zone, s));
    if (unknown.length) throw Errors.invalid('unknown seat labels', { field: 'seats', unknown });
    const otherZone = body.seats.filter((s) => parseSeatLabel(s)?.zone !== zoneCode);
    if (otherZone.length) {
      throw Errors.invalid('all seats of one reservation must be in one zone', { field: 'seats', otherZone });
    }
    return { zone: zone!, seats: body.seats, quantity: body.seats.length };
  }
  const zone = event.zones.find((z) => z.code === body.zone);
  if (!zone) throw Errors.invalid(`unknown zone ${body.zone}`, { field: 'zone' });
  if (zone.kind !== 'ga') {
    throw Errors.invalid(`zone ${zone.code} is seated: name the seats`, { field: 'zone' });
  }
  return { zone, seats: [], quantity: body.quantity };
}
