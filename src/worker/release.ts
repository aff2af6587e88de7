import type { Logger } from 'pino';
import { expireDue } from '../reservations/repository';
import { transition, type TransitionDeps } from '../reservations/transition';

/**
 * Holds per transaction, adapted to how long batches take: each aims at a quarter of the
 * statement timeout, so a burst (thousands of holds due at once on a loaded database) is
 * worked off in smaller batches instead of one that PostgreSQL cancels (57014) again and
 * again. Kept across runs by the worker.
 */
export class BatchSizer {
  size: number;
  constructor(
    readonly max: number,
    readonly targetMs: number,
    readonly min = Math.min(10, max),
  ) {
    this.size = max;
  }

  /** A batch finished in `ms`: halve when over the target, grow back slowly when well under it. */
  took(ms: number): void {
    if (ms > this.targetMs) this.size = Math.max(this.min, Math.floor(this.size / 2));
    else if (ms < this.targetMs / 2) this.size = Math.min(this.max, Math.ceil(this.size * 1.25));
  }

  /** A batch hit the statement timeout (and rolled back): retry much smaller; false when already at the floor. */
  timedOut(): boolean {
    if (this.size <= this.min) return false;
    this.size = Math.max(this.min, Math.floor(this.size / 4));
    return true;
  }
}

export type ReleaseDeps = TransitionDeps & {
  logger: Logger;
  /** Most holds expired per PostgreSQL transaction. */
  batch: number;
  /** The adaptive batch size; without one, a fresh one per call aiming at a quarter of `statementTimeoutMs`. */
  sizer?: BatchSizer;
  statementTimeoutMs?: number;
  /** Hook for metrics: holds expired in one batch and how long the batch took. */
  onBatch?: (expired: number, ms: number) => void;
};

const isStatementTimeout = (err: unknown) => (err as { code?: string } | null)?.code === '57014';

/**
 * Expires every hold past its expiry, batch after batch, until none is due (or the signal
 * aborts). Per batch, PostgreSQL decides first: the conditional update (held and due, SKIP
 * LOCKED, so workers split the work and a racing confirm either wins or finds it expired)
 * commits together with the booking.expired outbox rows. Redis follows: each hold is freed
 * only for the seats it still holds. If the process dies between the two, the reconciler
 * sees a Redis hold whose reservation PostgreSQL calls expired and frees it.
 */
export async function releaseExpired(d: ReleaseDeps, signal?: AbortSignal): Promise<number> {
  const sizer = d.sizer ?? new BatchSizer(d.batch, (d.statementTimeoutMs ?? 3_000) / 4);
  let total = 0;
  while (!signal?.aborted) {
    const size = sizer.size;
    const started = performance.now();
    // What the statement timeout bounds: the expiring statements, not Redis following after commit.
    let statementMs = 0;
    let expired;
    try {
      expired = await transition(d, 'booking.expired', 'release', async (tx) => {
        const t0 = performance.now();
        const rows = await expireDue(tx, size);
        statementMs = performance.now() - t0;
        return rows;
      });
    } catch (err) {
      // Rolled back whole: nothing expired, nothing in the outbox. Smaller, at once.
      if (isStatementTimeout(err) && sizer.timedOut()) {
        d.logger.warn({ size, next: sizer.size }, 'expiry batch hit the statement timeout; retrying smaller');
        continue;
      }
      throw err;
    }
    sizer.took(statementMs);
    d.onBatch?.(expired.length, performance.now() - started);
    total += expired.length;
    if (expired.length < size) break;
  }
  return total;
}
