import type { Logger } from 'pino';
import type { Sql } from '../db/client';
import { releaseScript } from '../inventory/scripts';
import { enqueueBookingEvents } from '../outbox/outbox';
import type { RedisClient } from '../redis/client';
import { eventKeys } from '../redis/keys';
import type { Reservation } from '../reservations/model';
import { expireDue } from '../reservations/repository';

export type ReleaseDeps = {
  sql: Sql;
  redis: RedisClient;
  prefix: string;
  topic: string;
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
    const expired = await d.sql.begin(async (tx) => {
      const rows = await expireDue(tx as unknown as Sql, d.batch);
      await enqueueBookingEvents(tx as unknown as Sql, d.topic, 'booking.expired', rows);
      return rows;
    });
    if (expired.length) await freeInRedis(d, expired);
    d.onBatch?.(expired.length, performance.now() - started);
    total += expired.length;
    if (expired.length < d.batch) break;
  }
  return total;
}

async function freeInRedis(d: ReleaseDeps, expired: Reservation[]): Promise<void> {
  // Auto-pipelining sends these together; each script touches one event's slot.
  const outcomes = await Promise.allSettled(
    expired.map((r) =>
      releaseScript(d.redis, eventKeys(d.prefix, r.eventId), { reservationId: r.id, zone: r.zone }),
    ),
  );
  const rebuild = new Set<string>();
  outcomes.forEach((o, i) => {
    const r = expired[i]!;
    if (o.status === 'rejected') {
      d.logger.warn({ err: o.reason, reservationId: r.id }, 'release in redis failed; reconciliation will free it');
    } else if (o.value === 'sold') {
      // PostgreSQL expired it, so Redis cannot be right: rebuild the event from PostgreSQL.
      d.logger.error({ reservationId: r.id, eventId: r.eventId }, 'redis has an expired hold as sold: forcing rebuild');
      rebuild.add(r.eventId);
    }
    // 'absent' (already freed) and 'not-loaded' (a rebuild reads PostgreSQL) need nothing.
  });
  for (const eventId of rebuild) await d.redis.del(eventKeys(d.prefix, eventId).meta).catch(() => {});
}
