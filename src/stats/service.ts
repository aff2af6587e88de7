import type { Sql } from '../db/client';
import type { EventService } from '../events/service';
import type { QueueService } from '../queue/service';
import { eventCounters } from '../reservations/repository';

/** The organiser's figures for one event: inventory, waiting room and cumulative counters. */
export class StatsService {
  constructor(private readonly d: { sql: Sql; events: EventService; queue: QueueService }) {}

  async forEvent(id: string) {
    const zones = await this.d.events.availability(id);
    const event = await this.d.events.get(id);
    const [queue, counters] = await Promise.all([
      event.queue.enabled ? this.d.queue.stateOf(event) : null,
      eventCounters(this.d.sql, id),
    ]);
    const totals = zones.reduce(
      (t, z) => ({ capacity: t.capacity + z.capacity, available: t.available + z.available, held: t.held + z.held, sold: t.sold + z.sold }),
      { capacity: 0, available: 0, held: 0, sold: 0 },
    );
    return { eventId: id, at: new Date().toISOString(), zones, totals, queue, counters };
  }
}
