import type { Sql } from '../db/client';
import { SEATS } from '../reservations/repository';
import type { ReservationStatus } from '../reservations/model';
import { csvEncoder, ndjsonEncoder } from '../streaming/encoders';
import { cursorBatches } from '../streaming/pg-cursor';

export const EXPORT_STATUSES = ['held', 'confirmed', 'cancelled', 'expired'] as const satisfies readonly ReservationStatus[];

export type ExportRow = {
  id: string;
  user_id: string;
  status: ReservationStatus;
  zone_code: string;
  quantity: number;
  seats: string[];
  total_cents: bigint;
  created_at: Date;
  confirmed_at: Date | null;
};

/**
 * Every reservation of an event (optionally of some statuses) with its seats and buyer, oldest
 * first, in batches from a cursor. Nothing runs until the first batch is asked for.
 */
export function reservationExportRows(
  sql: Sql,
  eventId: string,
  statuses: readonly ReservationStatus[] | null,
  batchRows?: number,
) {
  return cursorBatches<ExportRow>(
    sql,
    (tx) => tx`
      select r.id, r.user_id, r.status, r.zone_code, r.quantity, ${SEATS(tx)},
        r.total_cents, r.created_at, r.confirmed_at
      from reservations r
      where r.event_id = ${eventId}
        ${statuses ? tx`and r.status = any(${statuses as string[]}::text[])` : tx``}
      order by r.created_at, r.id`,
    batchRows,
  );
}

/** The contract's export line (api.md, Export). */
export const exportJson = (r: ExportRow) => ({
  id: r.id,
  userId: r.user_id,
  status: r.status,
  zone: r.zone_code,
  quantity: r.quantity,
  seats: r.seats,
  totalCents: Number(r.total_cents),
  createdAt: r.created_at.toISOString(),
  confirmedAt: r.confirmed_at ? r.confirmed_at.toISOString() : null,
});

export const exportNdjson = ndjsonEncoder(exportJson);

/** Same columns as the NDJSON lines; seats space-separated (labels never contain spaces). */
export const exportCsv = csvEncoder<ExportRow>([
  { header: 'id', value: (r) => r.id },
  { header: 'userId', value: (r) => r.user_id },
  { header: 'status', value: (r) => r.status },
  { header: 'zone', value: (r) => r.zone_code },
  { header: 'quantity', value: (r) => r.quantity },
  { header: 'seats', value: (r) => r.seats.join(' ') },
  { header: 'totalCents', value: (r) => Number(r.total_cents) },
  { header: 'createdAt', value: (r) => r.created_at.toISOString() },
  { header: 'confirmedAt', value: (r) => r.confirmed_at?.toISOString() ?? null },
]);
