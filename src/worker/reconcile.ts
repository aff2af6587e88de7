import type { Logger } from 'pino';
import type { Sql } from '../db/client';
import type { InventoryLoader } from '../inventory/loader';
import { parseHoldRecord } from '../inventory/records';
import { releaseScript, sellScript } from '../inventory/scripts';
import type { RedisClient } from '../redis/client';
import { eventKeys, type EventKeys } from '../redis/keys';
import type { ReservationStatus } from '../reservations/model';

export type ReconcileDeps = {
  sql: Sql;
  redis: RedisClient;
  prefix: string;
  loader: InventoryLoader;
  logger: Logger;
  /**
   * A Redis hold with no PostgreSQL row may be a hold whose group-commit write is still in
   * flight (Lua runs first). It is freed only when it was already missing on an earlier pass
   * at least this long ago: far beyond the statement timeout plus the batcher's queueing.
   */
  orphanGraceMs?: number;
  /** Events whose sales closed longer ago than this hold no live holds worth scanning. */
  closedLookbackMs?: number;
  /** Hook for metrics. */
  onPass?: (stats: ReconcileStats) => void;
};

export type ReconcileStats = {
  events: number;
  /** Redis holds whose reservation PostgreSQL released (or never wrote): freed. */
  freed: number;
  /** Redis holds PostgreSQL says are confirmed: marked sold. */
  sold: number;
  /** Events rebuilt from PostgreSQL because Redis lost a live reservation. */
  rebuilt: number;
  /** Redis holds with no PostgreSQL row, waiting out the grace period. */
  suspects: number;
};

type Live = 'held' | 'confirmed';

/**
 * Repairs drift between Redis (hot inventory) and PostgreSQL (truth), one event at a time:
 * - a Redis hold whose reservation PostgreSQL cancelled or expired is freed (a worker or API
 *   process died between its commit and its Lua), one it confirmed is marked sold;
 * - a Redis hold PostgreSQL has never heard of is freed after the grace period;
 * - a reservation PostgreSQL calls live whose Redis hold vanished makes the event rebuild
 *   from PostgreSQL (the loader's locked, quiesced path), which restores it; the release
 *   worker then expires it if it is due.
 * Every repair is idempotent and scripts act only on seats still held by that reservation,
 * so several reconcilers (and the API) may run at once.
 */
export class Reconciler {
  private suspects = new Map<string, number>();
  private readonly graceMs: number;
  private readonly lookbackMs: number;

  constructor(private readonly d: ReconcileDeps) {
    this.graceMs = d.orphanGraceMs ?? 30_000;
    this.lookbackMs = d.closedLookbackMs ?? 2 * 86_400_000;
  }

  async run(signal?: AbortSignal): Promise<ReconcileStats> {
    const events = await this.d.sql<{ id: string }[]>`
      select id from events where sales_close_at > now() - ${this.lookbackMs / 1000} * interval '1 second'
      order by sales_close_at`;
    const stats: ReconcileStats = { events: 0, freed: 0, sold: 0, rebuilt: 0, suspects: 0 };
    const seen = new Map<string, number>();
    // An event that is not loaded needs nothing: the loader rebuilds it before it serves again.
    for (const id of await this.d.loader.loadedAmong(events.map((e) => e.id))) {
      if (signal?.aborted) break;
      try {
        await this.reconcileEvent(id, stats, seen);
      } catch (err) {
        this.d.logger.error({ err, eventId: id }, 'reconcile failed for event');
      }
    }
    // Suspects not seen again were written to PostgreSQL or freed meanwhile.
    this.suspects = seen;
    stats.suspects = seen.size;
    if (stats.freed || stats.sold || stats.rebuilt) this.d.logger.warn(stats, 'reconciliation repaired drift');
    this.d.onPass?.(stats);
    return stats;
  }

  private async reconcileEvent(eventId: string, stats: ReconcileStats, seen: Map<string, number>) {
    const { redis, sql } = this.d;
    const k = eventKeys(this.d.prefix, eventId);
    stats.events++;

    // Redis first, then PostgreSQL: every flow writes Redis before PostgreSQL on the way in
    // (hold) and after it on the way out (confirm, cancel, expire), which is what makes the
    // comparisons below safe against writes running concurrently.
    const holds = await this.scanHolds(k);
    const live = new Map(
      (
        await sql<{ id: string; status: Live }[]>`select id, status from reservations
          where event_id = ${eventId} and status in ('held', 'confirmed')`
      ).map((r) => [r.id, r.status] as const),
    );
    const unknown = [...holds.keys()].filter((id) => !live.has(id));
    const ended = new Map<string, ReservationStatus>();
    for (let i = 0; i < unknown.length; i += 5_000) {
      const rows = await sql<{ id: string; status: ReservationStatus }[]>`
        select id, status from reservations where id = any(${unknown.slice(i, i + 5_000)}::uuid[])`;
      for (const r of rows) ended.set(r.id, r.status);
    }

    let rebuild = false;
    const now = Date.now();
    const work: Promise<void>[] = [];
    for (const [id, rec] of holds) {
      const pg = live.get(id) ?? ended.get(id);
      if (rec.state === 's') {
        if (pg !== 'confirmed') rebuild = true;
        continue;
      }
      if (pg === 'held') continue;
      if (pg === 'confirmed') {
        work.push(sellScript(redis, k, { reservationId: id, zone: rec.zone }).then((o) => {
          if (o === 'sold') stats.sold++;
        }));
      } else if (pg === 'cancelled' || pg === 'expired') {
        work.push(this.free(k, id, rec.zone, stats, false));
      } else {
        const first = this.suspects.get(id) ?? now;
        // PostgreSQL never got this hold: its idempotency key must run again on a retry.
        if (now - first >= this.graceMs) work.push(this.free(k, id, rec.zone, stats, true));
        else seen.set(id, first);
      }
    }
    await Promise.all(work);

    const missing = [...live.keys()].filter((id) => !holds.has(id));
    if (!rebuild && missing.length) rebuild = await this.stillMissing(k, eventId, missing);
    if (rebuild) {
      stats.rebuilt++;
      await this.d.loader.rebuildNow(eventId);
    }
  }

  /** Re-checks atomically in Redis (meta still there, hold absent), then in PostgreSQL. */
  private async stillMissing(k: EventKeys, eventId: string, ids: string[]): Promise<boolean> {
    const res = await this.d.redis.multi().exists(k.meta).hmget(k.holds, ...ids).exec();
    if (!res || res.some(([err]) => err)) return false;
    if (res[0]![1] !== 1) return false;
    const gone = ids.filter((_, i) => (res[1]![1] as (string | null)[])[i] === null);
    if (!gone.length) return false;
    const [row] = await this.d.sql<{ n: number }[]>`select count(*)::int as n from reservations
      where id = any(${gone}::uuid[]) and status in ('held', 'confirmed')`;
    if (!row?.n) return false;
    this.d.logger.warn({ eventId, missing: row.n }, 'live reservations missing in redis: rebuilding event');
    return true;
  }

  private async free(k: EventKeys, id: string, zone: string, stats: ReconcileStats, orphan: boolean): Promise<void> {
    const outcome = await releaseScript(this.d.redis, k, { reservationId: id, zone, forgetIdempotencyKey: orphan });
    if (outcome === 'released') stats.freed++;
  }

  private async scanHolds(k: EventKeys): Promise<Map<string, ReturnType<typeof parseHoldRecord>>> {
    const holds = new Map<string, ReturnType<typeof parseHoldRecord>>();
    let cursor = '0';
    do {
      const [next, fields] = await this.d.redis.hscan(k.holds, cursor, 'COUNT', 1_000);
      for (let i = 0; i + 1 < fields.length; i += 2) {
        holds.set(fields[i]!, parseHoldRecord(fields[i + 1]!));
      }
      cursor = next;
    } while (cursor !== '0');
    return holds;
  }
}
