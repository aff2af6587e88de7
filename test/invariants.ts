import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
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

type Invariants = Awaited<ReturnType<typeof checkInvariants>>;

/** Redis holds exactly PostgreSQL's figures, seat by seat and per zone, and availability adds up. */
function redisAgrees(inv: Invariants): boolean {
  return (
    inv.seatDisagreements.length === 0 &&
    inv.zones.every((z) => {
      const pg = inv.perZone.find((p) => p.zone_code === z.code) ?? { held: 0, sold: 0 };
      return z.held === pg.held && z.sold === pg.sold && z.available + z.held + z.sold === z.capacity;
    })
  );
}

/**
 * After a fault: waits (up to 30 s) until Redis agrees with PostgreSQL (while the reconciler
 * rebuilds an event its availability may answer 503: that counts as not yet), then asserts
 * every invariant on a fresh reading. Resolves with how long the agreement took.
 */
export async function expectRedisToAgree(h: Harness, eventId: string, opts: { maxPerUser: number }): Promise<number> {
  const from = Date.now();
  for (let i = 0; i < 60; i++) {
    const inv = await checkInvariants(h, eventId, opts).catch(() => null);
    if (inv && redisAgrees(inv)) break;
    await sleep(500);
  }
  const ms = Date.now() - from;
  const inv = await checkInvariants(h, eventId, opts);
  expect(inv.dupSeats).toEqual([]);
  expect(inv.liveFlagMismatch).toEqual([]);
  expect(inv.overLimit).toEqual([]);
  expect(inv.seatDisagreements).toEqual([]);
  for (const z of inv.zones) {
    const pg = inv.perZone.find((p) => p.zone_code === z.code) ?? { held: 0, sold: 0 };
    expect({ zone: z.code, held: z.held, sold: z.sold }).toEqual({ zone: z.code, held: pg.held, sold: pg.sold });
    expect(z.available + z.held + z.sold).toBe(z.capacity);
    expect(pg.held + pg.sold).toBeLessThanOrEqual(z.capacity);
  }
  return ms;
}
