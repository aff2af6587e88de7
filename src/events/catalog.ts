import type { Sql } from '../db/client';
import type { BoxEvent } from './model';
import { findEvent } from './repository';

/**
 * Read-through cache of events: the hot path validates zones, seats and the sales window
 * without a PostgreSQL round trip. Sales windows and zones never change after creation;
 * queue settings may, so entries live briefly.
 */
export class EventCatalog {
  private readonly cache = new Map<string, { at: number; event: Promise<BoxEvent | null> }>();

  constructor(
    private readonly sql: Sql,
    private readonly ttlMs = 5_000,
    private readonly missTtlMs = 500,
  ) {}

  get(id: string): Promise<BoxEvent | null> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && now - hit.at < this.ttlMs) return hit.event;
    const event = findEvent(this.sql, id);
    this.cache.set(id, { at: now, event });
    event.then(
      (e) => {
        // Unknown ids are cached only briefly, so a burst of random ids cannot pin memory.
        if (!e) this.cache.set(id, { at: now - this.ttlMs + this.missTtlMs, event });
        if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!);
      },
      () => this.cache.delete(id),
    );
    return event;
  }

  put(event: BoxEvent): void {
    this.cache.set(event.id, { at: Date.now(), event: Promise.resolve(event) });
  }

  invalidate(id: string): void {
    this.cache.delete(id);
  }
}
