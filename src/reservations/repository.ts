import type { Db, Tx } from '../db/client';
import type { FlushResult } from '../db/group-commit';
import { dbQuery } from '../db/observe';
import type { InventorySnapshot } from '../inventory/records';
import type { NewHold, Reservation, ReservationStatus } from './model';

type Row = {
  id: string;
  event_id: string;
  user_id: string;
  zone_code: string;
  quantity: number;
  seats: string[];
  total_cents: bigint;
  status: ReservationStatus;
  idempotency_key: string | null;
  request_hash: string;
  expires_at: Date;
  created_at: Date;
  confirmed_at: Date | null;
  cancelled_at: Date | null;
  expired_at: Date | null;
  booking_code: string | null;
};

const toReservation = (r: Row): Reservation => ({
  id: r.id,
  eventId: r.event_id,
  userId: r.user_id,
  zone: r.zone_code,
  quantity: r.quantity,
  seats: r.seats ?? [],
  totalCents: Number(r.total_cents),
  status: r.status,
  idempotencyKey: r.idempotency_key,
  requestHash: r.request_hash,
  expiresAt: r.expires_at,
  createdAt: r.created_at,
  confirmedAt: r.confirmed_at,
  cancelledAt: r.cancelled_at,
  expiredAt: r.expired_at,
  bookingCode: r.booking_code,
});

/** Reservation columns plus its seats, in label order. */
export const SEATS = (sql: Db) => sql`coalesce((select array_agg(rs.seat_label order by rs.seat_label)
  from reservation_seats rs where rs.reservation_id = r.id), '{}') as seats`;

export class HoldConflict extends Error {
  /** seat: live elsewhere; capacity / limit: PostgreSQL's zone or per-user counter refused it. */
  constructor(readonly reason: 'seat' | 'idempotency' | 'capacity' | 'limit', readonly constraint?: string) {
    super(`hold conflicts on ${reason}`);
  }
}

/** The hold reached PostgreSQL after its deadline and was not written. */
export class HoldTooLate extends Error {
  constructor() {
    super('hold reached PostgreSQL after its deadline');
  }
}

/**
 * Writes many holds in one statement. If the batch fails, each hold is retried alone, so
 * one conflict (a seat PostgreSQL already has live, an idempotency key) or one bad row
 * never fails its neighbours.
 */
export async function insertHolds(sql: Db, holds: NewHold[]): Promise<FlushResult<true>[]> {
  try {
    return await insertMany(sql, holds);
  } catch (err) {
    if (holds.length === 1) return [asConflict(err)];
  }
  return Promise.all(holds.map((h) => insertMany(sql, [h]).then(([r]) => r!, asConflict)));
}

async function insertMany(sql: Db, holds: NewHold[]): Promise<FlushResult<true>[]> {
  const rows = await dbQuery(sql, 'insert_holds', { 'boxoffice.batch_size': holds.length }, () => insertManyQuery(sql, holds));
  const written = new Set(rows.map((r) => r.id));
  return holds.map((h) => (written.has(h.id) ? true : new HoldTooLate()));
}

function insertManyQuery(sql: Db, holds: NewHold[]) {
  const seatRows = holds.flatMap((h) => h.seats.map((s) => [h.id, h.eventId, s] as const));
  return sql<{ id: string }[]>`
    with r as (
      insert into reservations (id, event_id, user_id, zone_code, quantity, total_cents, status,
        idempotency_key, request_hash, expires_at, created_at)
      select id, event_id, user_id, zone_code, quantity, total_cents, 'held', idem, hash, expires_at, created_at
      from unnest(${holds.map((h) => h.id)}::uuid[], ${holds.map((h) => h.eventId)}::uuid[],
        ${holds.map((h) => h.userId)}::text[], ${holds.map((h) => h.zone)}::text[],
        ${holds.map((h) => h.quantity)}::int[], ${holds.map((h) => h.totalCents)}::bigint[],
        ${holds.map((h) => h.idempotencyKey)}::text[], ${holds.map((h) => h.requestHash)}::text[],
        ${holds.map((h) => h.expiresAt.toISOString())}::timestamptz[],
        ${holds.map((h) => h.createdAt.toISOString())}::timestamptz[],
        ${holds.map((h) => h.deadline.toISOString())}::timestamptz[])
        as t(id, event_id, user_id, zone_code, quantity, total_cents, idem, hash, expires_at, created_at, deadline)
      where clock_timestamp() < t.deadline
      returning id
    ), s as (
      insert into reservation_seats (reservation_id, event_id, seat_label)
      select s.rid, s.eid, s.label
      from unnest(${seatRows.map((s) => s[0])}::uuid[], ${seatRows.map((s) => s[1])}::uuid[],
        ${seatRows.map((s) => s[2])}::text[]) as s(rid, eid, label)
      join r on r.id = s.rid
    )
    select id from r`;
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';
const LIMIT_CONSTRAINTS: Record<string, 'capacity' | 'limit'> = {
  zone_usage_within_capacity: 'capacity',
  user_usage_within_limit: 'limit',
};

function asConflict(err: unknown): Error {
  const constraint = (err as { constraint_name?: string }).constraint_name;
  // check_violation from the usage counters (migrations/00004_limit_guard.sql).
  const limit = (err as { code?: string }).code === '23514' ? LIMIT_CONSTRAINTS[constraint ?? ''] : undefined;
  if (limit) return new HoldConflict(limit, constraint);
  if (!isUniqueViolation(err)) return err instanceof Error ? err : new Error(String(err));
  return new HoldConflict(
    constraint === 'reservation_seats_live_uidx' ? 'seat' : 'idempotency',
    constraint,
  );
}

export async function findReservation(sql: Db, id: string): Promise<Reservation | null> {
  const [row] = await dbQuery(sql, 'find_reservation', { 'boxoffice.reservation_id': id }, () =>
    sql<Row[]>`select r.*, ${SEATS(sql)} from reservations r where r.id = ${id}`);
  return row ? toReservation(row) : null;
}

export async function findByIdempotencyKey(sql: Db, userId: string, key: string) {
  const [row] = await dbQuery(sql, 'find_by_idempotency_key', {}, () => sql<Row[]>`select r.*, ${SEATS(sql)} from reservations r
    where r.user_id = ${userId} and r.idempotency_key = ${key}`);
  return row ? toReservation(row) : null;
}

export async function listForUser(sql: Db, userId: string, limit: number) {
  const rows = await dbQuery(sql, 'list_for_user', {}, () => sql<Row[]>`select r.*, ${SEATS(sql)} from reservations r
    where r.user_id = ${userId} order by r.created_at desc limit ${limit}`);
  return rows.map(toReservation);
}

/** held -> confirmed only while still held and unexpired; the one race point with expiry. */
export async function markConfirmed(
  sql: Db,
  a: { id: string; userId: string; bookingCode: string; paymentRef: string | null },
): Promise<Reservation | null> {
  const [row] = await dbQuery(sql, 'mark_confirmed', { 'boxoffice.reservation_id': a.id }, () => sql<Row[]>`
    update reservations r set status = 'confirmed', confirmed_at = now(),
      booking_code = ${a.bookingCode}, payment_ref = ${a.paymentRef}
    where r.id = ${a.id} and r.user_id = ${a.userId} and r.status = 'held' and r.expires_at > now()
    returning r.*, ${SEATS(sql)}`);
  return row ? toReservation(row) : null;
}

/** held -> cancelled by its owner; frees the seats' live flag in the same transaction. */
export async function markCancelled(sql: Db, a: { id: string; userId: string }): Promise<Reservation | null> {
  const [row] = await dbQuery(sql, 'mark_cancelled', { 'boxoffice.reservation_id': a.id }, () => sql<Row[]>`
    update reservations r set status = 'cancelled', cancelled_at = now()
    where r.id = ${a.id} and r.user_id = ${a.userId} and r.status = 'held'
    returning r.*, ${SEATS(sql)}`);
  if (!row) return null;
  await dbQuery(sql, 'release_seats', { 'boxoffice.reservation_id': a.id }, () =>
    sql`update reservation_seats set live = false where reservation_id = ${a.id}`);
  return toReservation(row);
}

/**
 * Expires up to `limit` holds past their expiry, oldest first; SKIP LOCKED lets several
 * workers run at once, and the status condition makes confirm and expiry mutually exclusive.
 */
export async function expireDue(sql: Db, limit: number): Promise<Reservation[]> {
  const rows = await dbQuery(sql, 'expire_due', { 'boxoffice.limit': limit }, () => sql<Row[]>`
    with due as (
      select id from reservations
      where status = 'held' and expires_at <= now()
      order by expires_at limit ${limit}
      for update skip locked
    )
    update reservations r set status = 'expired', expired_at = now()
    from due where r.id = due.id and r.status = 'held'
    returning r.*, ${SEATS(sql)}`);
  if (rows.length) {
    await dbQuery(sql, 'release_seats', { 'boxoffice.batch_size': rows.length }, () => sql`update reservation_seats set live = false
      where reservation_id = any(${rows.map((r) => r.id)}::uuid[])`);
  }
  return rows.map(toReservation);
}

/** What Redis must hold for one event: its live reservations and every idempotency record. */
export async function inventorySnapshot(sql: Db, eventId: string): Promise<InventorySnapshot> {
  const [live, idempotency] = await Promise.all([
    dbQuery(sql, 'live_for_event', { 'boxoffice.event_id': eventId }, () => sql<Row[]>`select r.*, ${SEATS(sql)} from reservations r
      where r.event_id = ${eventId} and r.status in ('held', 'confirmed')`),
    // Every record, so replays keep working after Redis loses data.
    dbQuery(sql, 'idempotency_for_event', { 'boxoffice.event_id': eventId }, () =>
      sql<{ id: string; user_id: string; idempotency_key: string; request_hash: string }[]>`
      select id, user_id, idempotency_key, request_hash from reservations
      where event_id = ${eventId} and idempotency_key is not null`),
  ]);
  return {
    live: live.map(toReservation) as (Reservation & { status: 'held' | 'confirmed' })[],
    idempotency: idempotency.map((r) => ({ reservationId: r.id, userId: r.user_id, key: r.idempotency_key, requestHash: r.request_hash })),
  };
}

/** Cumulative holds and confirms of an event: the organiser's dashboard derives rates from them. */
export async function eventCounters(sql: Db, eventId: string): Promise<{ holds: number; confirms: number }> {
  const [row] = await dbQuery(sql, 'event_counters', { 'boxoffice.event_id': eventId }, () =>
    sql<{ holds: number; confirms: number }[]>`
      select count(*)::int as holds, count(*) filter (where status = 'confirmed')::int as confirms
      from reservations where event_id = ${eventId}`);
  return row!;
}

/**
 * What PostgreSQL has live for the hold that it refused: the user's and the zone's seat
 * counts, and the owners of the requested seats that are live.
 */
export async function liveUsage(sql: Db, hold: Pick<NewHold, 'eventId' | 'zone' | 'userId' | 'seats'>) {
  const [zone, user, seats] = await Promise.all([
    dbQuery(sql, 'zone_usage', {}, () => sql<{ used: number; capacity: number }[]>`
      select used, capacity from zone_usage where event_id = ${hold.eventId} and zone_code = ${hold.zone}`),
    dbQuery(sql, 'user_usage', {}, () => sql<{ used: number; max_seats: number }[]>`
      select used, max_seats from user_usage where event_id = ${hold.eventId} and user_id = ${hold.userId}`),
    hold.seats.length
      ? dbQuery(sql, 'live_seat_owners', {}, () => sql<{ seat_label: string; id: string; status: string }[]>`
          select rs.seat_label, r.id, r.status from reservation_seats rs join reservations r on r.id = rs.reservation_id
          where rs.event_id = ${hold.eventId} and rs.seat_label = any(${hold.seats}::text[]) and rs.live`)
      : Promise.resolve([]),
  ]);
  return {
    zone: zone[0] ?? { used: 0, capacity: Number.MAX_SAFE_INTEGER },
    user: user[0] ?? { used: 0, max_seats: Number.MAX_SAFE_INTEGER },
    seats: seats.map((s) => [s.seat_label, `${s.status === 'confirmed' ? 's' : 'h'}:${s.id}`] as [string, string]),
  };
}

export type LiveUsage = Awaited<ReturnType<typeof liveUsage>>;

/**
 * Cancels up to `limit` live (held or confirmed) reservations of an event, for the event's
 * cancellation; the caller enqueues their messages in the same transaction. A confirmed one
 * keeps its confirmedAt, which tells the caller it was paid for.
 */
export async function cancelLiveOfEvent(tx: Tx, eventId: string, limit: number): Promise<Reservation[]> {
  const rows = await dbQuery(tx, 'cancel_event_live', { 'boxoffice.event_id': eventId }, () => tx<Row[]>`
    with live as (
      select id from reservations
      where event_id = ${eventId} and status in ('held', 'confirmed')
      limit ${limit}
      for update
    )
    update reservations r set status = 'cancelled', cancelled_at = now()
    from live where r.id = live.id
    returning r.*, ${SEATS(tx)}`);
  if (rows.length) {
    await tx`update reservation_seats set live = false where reservation_id = any(${rows.map((r) => r.id)}::uuid[])`;
  }
  return rows.map(toReservation);
}

/** confirmed -> refunded; its seats go back on sale in the same transaction. */
export async function markRefunded(sql: Db, id: string): Promise<Reservation | null> {
  const [row] = await dbQuery(sql, 'mark_refunded', { 'boxoffice.reservation_id': id }, () => sql<Row[]>`
    update reservations r set status = 'refunded', refunded_at = now()
    where r.id = ${id} and r.status = 'confirmed'
    returning r.*, ${SEATS(sql)}`);
  if (!row) return null;
  await dbQuery(sql, 'release_seats', { 'boxoffice.reservation_id': id }, () =>
    sql`update reservation_seats set live = false where reservation_id = ${id}`);
  return toReservation(row);
}
