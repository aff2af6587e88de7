import type { Logger } from 'pino';
import { expireDue } from '../reservations/repository';
import { transition, type TransitionDeps } from '../reservations/transition';

export type ReleaseDeps = TransitionDeps & {
  logger: Logger;
  /** Holds expired per PostgreSQL transaction. */
  batch: number;
  /** Hook for metrics: holds expired in one batch and how long the batch took. */
  onBatch?: (expired: number, ms: number) => void;
};

/**
 * Expires every hold past its expiry, batch after batch, until none is due (or the signal
 * aborts). Per batch, PostgreSQL decides first: the conditional update (held and due, SKIP
 * LOCKED, so workers split the work and a racing confirm either wins or finds it expired)
 * commits together with the booking.expired outbox rows. Redis follows: each hold is freed
 * only for the seats it still holds. If the process dies between the two, the reconciler
 * sees a Redis hold whose reservation PostgreSQL calls expired and frees it.
 */
export async function releaseExpired(d: ReleaseDeps, signal?: AbortSignal): Promise<number> {
  let total = 0;
  while (!signal?.aborted) {
    const started = performance.now();
    const expired = await transition(d, 'booking.expired', 'release', (tx) => expireDue(tx, d.batch));
    d.onBatch?.(expired.length, performance.now() - started);
    total += expired.length;
    if (expired.length < d.batch) break;
  }
  return total;
}
