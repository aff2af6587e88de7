import type { Sql } from '../db/client';
import type { EventService } from '../events/service';
import type { ReservationStatus } from '../reservations/model';
import { reservationExportRows } from './reservations';

/** Admin exports: the rows of one event, read from a PostgreSQL cursor batch by batch. */
export class ExportService {
  /** `sql`: the exports' own small pool (core.ts), never the request pool. */
  constructor(private readonly d: { sql: Sql; events: EventService }) {}

  /** 404 before the stream starts; the rows are read only as the response is written. */
  async reservations(eventId: string, statuses: readonly ReservationStatus[] | null, batchRows?: number) {
    await this.d.events.get(eventId);
    return reservationExportRows(this.d.sql, eventId, statuses, batchRows);
  }
}
