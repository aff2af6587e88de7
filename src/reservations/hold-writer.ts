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
    if (conflict?.reason === 'seat') throw Errors.seatsUnavailable(hold.seats);
    if (conflict && hold.idempotencyKey !== null) {
      const prior = await repo.findByIdempotencyKey(this.d.sql, hold.userId, hold.idempotencyKey);
      if (prior && prior.requestHash === hold.requestHash) return { reservation: prior, replayed: true };
      throw Errors.idempotencyKeyReused();
    }
    if (!(err instanceof repo.HoldTooLate)) this.d.logger.error({ err, reservationId: hold.id }, 'hold write failed');
    throw Errors.unavailable();
  }
}
