import type { Sql, Tx } from '../db/client';
import { dbQuery } from '../db/observe';
import { statusOf, zoneSeatLabels, type BoxEvent, type EventStatus, type Zone } from './model';

type EventRow = {
  id: string;
  name: string;
  starts_at: Date;
  sales_open_at: Date;
  sales_close_at: Date;
  hold_seconds: number;
  max_seats_per_user: number;
  queue_enabled: boolean;
  queue_admit_per_second: number;
  queue_pass_seconds: number;
  queue_max_active: number | null;
  queue_challenge: 'pow' | null;
  status: EventStatus;
  test: boolean;
  currency: string;
};
type ZoneRow = {
  event_id: string;
  code: string;
  name: string;
  price_cents: number;
  kind: 'ga' | 'seated';
  capacity: number;
  rows: number | null;
  seats_per_row: number | null;
};

const SEAT_CHUNK = 20_000;

/** Event, zones and every seat in one transaction; seats go in as arrays, not a row per trip. */
export async function insertEvent(sql: Sql, e: BoxEvent): Promise<void> {
  await dbQuery(sql, 'insert_event', { 'boxoffice.event_id': e.id }, () => insertEventTx(sql, e));
}

async function insertEventTx(sql: Sql, e: BoxEvent): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      insert into events (id, name, starts_at, sales_open_at, sales_close_at, hold_seconds,
        max_seats_per_user, queue_enabled, queue_admit_per_second, queue_pass_seconds,
        queue_max_active, queue_challenge, status, test, currency)
      values (${e.id}, ${e.name}, ${e.startsAt}, ${e.salesOpenAt}, ${e.salesCloseAt},
        ${e.holdSeconds}, ${e.maxSeatsPerUser}, ${e.queue.enabled}, ${e.queue.admitPerSecond},
        ${e.queue.passSeconds}, ${e.queue.maxActive ?? null}, ${e.queue.challenge ?? null}, ${statusOf(e)}, ${e.test ?? false},
        ${e.currency ?? 'EUR'})`;
    await tx`
      insert into zones (event_id, code, name, price_cents, kind, capacity, rows, seats_per_row, position)
      select ${e.id}, * from unnest(
        ${e.zones.map((z) => z.code)}::text[], ${e.zones.map((z) => z.name)}::text[],
        ${e.zones.map((z) => z.priceCents)}::int[], ${e.zones.map((z) => z.kind)}::text[],
        ${e.zones.map((z) => z.capacity)}::int[], ${e.zones.map((z) => z.rows ?? null)}::int[],
        ${e.zones.map((z) => z.seatsPerRow ?? null)}::int[], ${e.zones.map((_, i) => i)}::int[])`;
    for (const zone of e.zones.filter((z) => z.kind === 'seated')) {
      let chunk: string[] = [];
      const flush = async () => {
        await tx`insert into seats (event_id, zone_code, label)
          select ${e.id}, ${zone.code}, unnest(${chunk}::text[])`;
        chunk = [];
      };
      for (const label of zoneSeatLabels(zone)) {
        chunk.push(label);
        if (chunk.length === SEAT_CHUNK) await flush();
      }
      if (chunk.length) await flush();
    }
  });
}

/** Seats of rows fromRow..toRow of a seated zone, in chunks (a zone growing at its back). */
export async function insertRows(tx: Tx, eventId: string, zone: Zone, fromRow: number): Promise<void> {
  const grown = { ...zone };
  let chunk: string[] = [];
  const flush = async () => {
    await tx`insert into seats (event_id, zone_code, label) select ${eventId}, ${zone.code}, unnest(${chunk}::text[])`;
    chunk = [];
  };
  for (const label of zoneSeatLabels(grown)) {
    if (Number(label.split('-').at(-2)) < fromRow) continue;
    chunk.push(label);
    if (chunk.length === SEAT_CHUNK) await flush();
  }
  if (chunk.length) await flush();
}

/**
 * The event under a row lock, so edits of one event apply one after another. NO KEY UPDATE:
 * holds being written (their foreign key takes KEY SHARE on the event) never wait for an edit.
 */
export async function lockEvent(tx: Tx, id: string): Promise<BoxEvent | null> {
  const [row] = await tx<EventRow[]>`select * from events where id = ${id} for no key update`;
  if (!row) return null;
  const zones = await tx<ZoneRow[]>`select * from zones where event_id = ${id} order by position`;
  return toEvent(row, zones);
}

/** Writes an edited event's settings and zones (sizes only ever grow; see EventAdmin). */
export async function updateEvent(tx: Tx, e: BoxEvent): Promise<void> {
  await tx`
    update events set name = ${e.name}, starts_at = ${e.startsAt}, sales_open_at = ${e.salesOpenAt},
      sales_close_at = ${e.salesCloseAt}, hold_seconds = ${e.holdSeconds},
      max_seats_per_user = ${e.maxSeatsPerUser}, queue_enabled = ${e.queue.enabled},
      queue_admit_per_second = ${e.queue.admitPerSecond}, queue_pass_seconds = ${e.queue.passSeconds},
      queue_max_active = ${e.queue.maxActive ?? null}, queue_challenge = ${e.queue.challenge ?? null},
      status = ${statusOf(e)}, test = ${e.test ?? false}, updated_at = now()
    where id = ${e.id}`;
  for (const z of e.zones) {
    await tx`
      update zones set name = ${z.name}, price_cents = ${z.priceCents}, capacity = ${z.capacity},
        rows = ${z.rows ?? null}
      where event_id = ${e.id} and code = ${z.code}`;
    // PostgreSQL's own limit guard (zone_usage) follows the grown capacity.
    await tx`update zone_usage set capacity = ${z.capacity} where event_id = ${e.id} and zone_code = ${z.code}`;
  }
  // And the per-user limit; a user already above a lowered limit keeps what they have.
  await tx`update user_usage set max_seats = greatest(${e.maxSeatsPerUser}::int, used) where event_id = ${e.id}`;
}

export type ListCursor = { openAt: string; id: string };

/**
 * One page of events, newest sale first, keyset-paginated on (sales_open_at, id) so a page
 * costs the same however deep it is. Buyers see on-sale, non-test events whose sales have not
 * closed; `all` (organisers) sees every event. `q` matches the name, case-insensitively.
 */
export async function listEvents(
  sql: Sql,
  opts: { all: boolean; limit: number; cursor?: ListCursor; q?: string },
): Promise<{ events: BoxEvent[]; next: ListCursor | null }> {
  const like = opts.q ? `%${opts.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const rows = await dbQuery(sql, 'list_events', {}, () => sql<EventRow[]>`
    select * from events
    where ${opts.all ? sql`true` : sql`status = 'on_sale' and not test and sales_close_at > now()`}
      ${like ? sql`and name ilike ${like}` : sql``}
      ${opts.cursor ? sql`and (sales_open_at, id) < (${new Date(opts.cursor.openAt)}, ${opts.cursor.id})` : sql``}
    order by sales_open_at desc, id desc
    limit ${opts.limit + 1}`);
  const page = rows.slice(0, opts.limit);
  const last = page.at(-1);
  const next = rows.length > opts.limit && last ? { openAt: last.sales_open_at.toISOString(), id: last.id } : null;
  if (!page.length) return { events: [], next };
  const zones = await dbQuery(sql, 'list_zones', {}, () =>
    sql<ZoneRow[]>`select * from zones where event_id = any(${page.map((r) => r.id)}::uuid[]) order by event_id, position`);
  return { events: page.map((r) => toEvent(r, zones.filter((z) => z.event_id === r.id))), next };
}

export async function findEvent(sql: Sql, id: string): Promise<BoxEvent | null> {
  const [row] = await dbQuery(sql, 'find_event', { 'boxoffice.event_id': id }, () => sql<EventRow[]>`select * from events where id = ${id}`);
  if (!row) return null;
  const zones = await dbQuery(sql, 'find_zones', { 'boxoffice.event_id': id }, () =>
    sql<ZoneRow[]>`select * from zones where event_id = ${id} order by position`);
  return toEvent(row, zones);
}

function toEvent(row: EventRow, zones: ZoneRow[]): BoxEvent {
  return {
    id: row.id,
    name: row.name,
    startsAt: row.starts_at,
    salesOpenAt: row.sales_open_at,
    salesCloseAt: row.sales_close_at,
    holdSeconds: row.hold_seconds,
    maxSeatsPerUser: row.max_seats_per_user,
    queue: {
      enabled: row.queue_enabled,
      admitPerSecond: row.queue_admit_per_second,
      passSeconds: row.queue_pass_seconds,
      maxActive: row.queue_max_active,
      challenge: row.queue_challenge,
    },
    status: row.status,
    test: row.test,
    currency: row.currency,
    zones: zones.map(
      (z): Zone => ({
        code: z.code,
        name: z.name,
        priceCents: z.price_cents,
        kind: z.kind,
        capacity: z.capacity,
        ...(z.kind === 'seated' ? { rows: z.rows!, seatsPerRow: z.seats_per_row! } : {}),
      }),
    ),
  };
}

/** The waiting room's admission rate, kept so a room rebuilt after a Redis loss starts at it. */
export async function setQueueRate(sql: Sql, id: string, admitPerSecond: number): Promise<void> {
  await dbQuery(sql, 'set_queue_rate', { 'boxoffice.event_id': id }, () =>
    sql`update events set queue_admit_per_second = ${admitPerSecond} where id = ${id}`);
}
