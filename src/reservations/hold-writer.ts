import type { Logger } from 'pino';
import type { Sql } from '../db/client';
import { GroupCommit } from '../db/group-commit';
import { Errors } from '../shared/errors';
import { heldReservation, type NewHold, type Reservation } from './model';
import * as repo from './repository';

export type HoldWriterDeps = {
  sql: Sql;
  logger: Logger;
  maxBatch: number;
  concurrency: number;
  onBatch?: (size: number, ms: number) => void;
  /**
   * PostgreSQL refused a hold Redis allowed (a seat live elsewhere, a full zone, a user at
   * the limit): Redis has lost writes, and is corrected from PostgreSQL's figures at once.
   */
  onRefused?: (hold: NewHold, live: repo.LiveUsage) => Promise<void>;
};

export type Written = { reservation: Reservation; replayed: boolean };

/**
 * Makes holds that Redis granted durable before the caller hears "held": many holds per
 * statement (group commit), and after a failed write, the recovery that leaves nothing
 * half-done — the row that is there after all, or the Redis hold undone and the error.
 */
export class HoldWriter {
  private readonly batcher: GroupCommit<NewHold, true>;

  constructor(private readonly d: HoldWriterDeps) {
    this.batcher = new GroupCommit({
      maxBatch: d.maxBatch,
      concurrency: d.concurrency,
      flush: (holds) => repo.insertHolds(d.sql, holds),
      onBatch: d.onBatch,
    });
  }

  /** `undo` takes the Redis hold back; it runs whenever the row is not in PostgreSQL. */
  async write(hold: NewHold, undo: () => Promise<void>): Promise<Written> {
    try {
      await this.batcher.add(hold);
      return { reservation: heldReservation(hold), replayed: false };
    } catch (err) {
      return this.recover(hold, err, undo);
    }
  }

  /** Resolves once every hold added so far is written (shutdown). */
  drain(): Promise<void> {
    return this.batcher.drain();
  }

  get pending(): number {
    return this.batcher.pending;
  }

  private async recover(hold: NewHold, err: unknown, undo: () => Promise<void>): Promise<Written> {
    const conflict = err instanceof repo.HoldConflict ? err : null;
    // A connection lost after COMMIT: the row may be there after all.
    if (!conflict && !(err instanceof repo.HoldTooLate)) {
      const written = await repo.findReservation(this.d.sql, hold.id).catch(() => null);
      if (written) return { reservation: written, replayed: false };
    }
    await undo();
    if (conflict && conflict.reason !== 'idempotency') throw await this.refused(hold, conflict.reason);
    if (conflict && hold.idempotencyKey !== null) {
      const prior = await repo.findByIdempotencyKey(this.d.sql, hold.userId, hold.idempotencyKey);
      if (prior && prior.requestHash === hold.requestHash) return { reservation: prior, replayed: true };
      throw Errors.idempotencyKeyReused();
    }
    // PostgreSQL answered, only later than the hold's budget: this process is behind, PostgreSQL is up.
    if (err instanceof repo.HoldTooLate) throw Errors.overloaded('too busy to make the hold durable in time, retry shortly');
    this.d.logger.error({ err, reservationId: hold.id }, 'hold write failed');
    throw Errors.unavailable();
  }

  /** The answer Redis should have given, and Redis told what PostgreSQL knows. */
  private async refused(hold: NewHold, reason: 'seat' | 'capacity' | 'limit') {
    const live = await repo.liveUsage(this.d.sql, hold).catch(() => null);
    if (live) {
      this.d.logger.warn({ reservationId: hold.id, eventId: hold.eventId, reason }, 'PostgreSQL refused a hold Redis allowed');
      await this.d.onRefused?.(hold, live).catch((err) =>
        this.d.logger.error({ err, eventId: hold.eventId }, 'correcting Redis from PostgreSQL failed; reconciliation will'),
      );
    }
    if (reason === 'limit') {
      const max = live?.user.max_seats ?? 0;
      return Errors.limitExceeded(max, live?.user.used ?? max, hold.quantity);
    }
    if (reason === 'capacity' && !hold.seats.length) {
      const available = live ? Math.max(0, live.zone.capacity - live.zone.used) : 0;
      return available > 0 ? Errors.seatsUnavailable([], { zone: hold.zone, available }) : Errors.soldOut(hold.zone);
    }
    return Errors.seatsUnavailable(hold.seats);
  }
}
