import type { Logger } from 'pino';
import type { RedisClient } from '../redis/client';
import { eventKeys } from '../redis/keys';
import type { InventoryLoader } from './loader';
import { releaseScript, sellScript, unsellScript } from './scripts';

export type FollowAction = 'sell' | 'release' | 'unsell';
export type Followed = { id: string; eventId: string; zone: string };

/**
 * PostgreSQL has decided (confirm, cancel, expiry); make Redis agree. A failure here never
 * fails the caller: the worker's reconciliation repairs Redis from PostgreSQL.
 */
export class InventoryFollower {
  constructor(
    private readonly d: { redis: RedisClient; prefix: string; loader: InventoryLoader; logger: Logger },
  ) {}

  /** Auto-pipelining sends these together; each script touches one event's slot. */
  async apply(rows: Followed[], action: FollowAction): Promise<void> {
    await Promise.all(rows.map((r) => this.one(r, action)));
  }

  private async run(r: Followed, action: FollowAction): Promise<string> {
    const k = eventKeys(this.d.prefix, r.eventId);
    if (action === 'sell') return sellScript(this.d.redis, k, { reservationId: r.id, zone: r.zone });
    if (action === 'release') return releaseScript(this.d.redis, k, { reservationId: r.id, zone: r.zone });
    // A refunded booking goes back on sale; one Redis still calls held is drift like a missing one.
    const o = await unsellScript(this.d.redis, k, { reservationId: r.id, zone: r.zone });
    return o === 'held' ? 'missing' : o;
  }

  private async one(r: Followed, action: FollowAction): Promise<void> {
    try {
      let outcome = await this.run(r, action);
      if (outcome === 'not-loaded') {
        // A rebuild may have read PostgreSQL before this change committed: apply it once it is done.
        const event = await this.d.loader.findEvent(r.eventId);
        if (event && (await this.d.loader.ensureLoaded(event))) outcome = await this.run(r, action);
      }
      // Redis lost this hold (sell), or calls sold what PostgreSQL released: Redis cannot be right.
      if (outcome === 'missing' || (action === 'release' && outcome === 'sold')) {
        this.d.logger.warn({ reservationId: r.id, eventId: r.eventId, action, outcome }, 'redis drift: forcing rebuild');
        await this.d.loader.invalidate(r.eventId);
      }
    } catch (err) {
      this.d.logger.warn({ err, reservationId: r.id, action }, 'redis follow-up failed; reconciliation will repair');
    }
  }
}
