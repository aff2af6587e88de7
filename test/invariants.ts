import type { Harness } from './harness';
import { eventKeys } from '../src/redis/keys';

/**
 * Checks an event's inventory against PostgreSQL, the source of truth: no seat live twice,
 * GA never above capacity, nobody above the per-user limit, Redis counts equal PostgreSQL's
 * and availability adds up to capacity. Returns the figures for further assertions.
 */
export async function checkInvariants(h: Harness, eventId: string, opts: { maxPerUser: number }) {
  const sql = h.core.sql;
  const dupSeats = await sql`select seat_label, count(*)::int as n from reservation_seats rs
    join reservations r on r.id = rs.reservation_id
    where r.event_id = ${eventId} and r.status in ('held', 'confirmed')
    group by seat_label having count(*) > 1`;
  const liveFlagMismatch = await sql`select rs.reservation_id from reservation_seats rs
    join reservations r on r.id = rs.reservation_id
    where r.event_id = ${eventId} and rs.live <> (r.status in ('held', 'confirmed'))`;
  const perZone = await sql<{ zone_code: string; held: number; sold: number }[]>`
    select zone_code,
      coalesce(sum(quantity) filter (where status = 'held'), 0)::int as held,
      coalesce(sum(quantity) filter (where status = 'confirmed'), 0)::int as sold
    from reservations where event_id = ${eventId} group by zone_code`;
  const overLimit = await sql`select user_id, sum(quantity)::int as q from reservations
    where event_id = ${eventId} and status in ('held', 'confirmed')
    group by user_id having sum(quantity) > ${opts.maxPerUser}`;

  const avail = await h.call('GET', `/v1/events/${eventId}/availability`);
  if (avail.status !== 200) throw new Error(`availability ${avail.status}`);
  const zones = avail.body.zones as { code: string; capacity: number; available: number; held: number; sold: number }[];

  // Seat-level agreement: every seat Redis shows as held/sold belongs to a live reservation
  // in PostgreSQL with that seat and state, and vice versa.
  const k = eventKeys(h.config.redis.prefix, eventId);
  const seatDisagreements: string[] = [];
  for (const z of zones) {
    const redisSeats = await h.core.redis.hgetall(k.zoneSeats(z.code));
    const pgSeats = await sql<{ seat_label: string; id: string; status: string }[]>`
      select rs.seat_label, r.id, r.status from reservation_seats rs join reservations r on r.id = rs.reservation_id
      where r.event_id = ${eventId} and r.zone_code = ${z.code} and r.status in ('held', 'confirmed')`;
    const pg = new Map(pgSeats.map((s) => [s.seat_label, `${s.status === 'confirmed' ? 's' : 'h'}:${s.id}`]));
    for (const [label, v] of Object.entries(redisSeats)) {
      if ((pg.get(label) ?? '') !== v) seatDisagreements.push(`${label}: redis=${v} pg=${pg.get(label) ?? ''}`);
    }
  }
  return { dupSeats, liveFlagMismatch, perZone, overLimit, zones, seatDisagreements };
}
