// The flash sale's correctness verdict, read after the sale from PostgreSQL, Redis, the
// API and Kafka, plus the timings only PostgreSQL and the broker know.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createKafka } from '../../../src/outbox/kafka';
import { eventKeys } from '../../../src/redis/keys';
import { createLogger } from '../../../src/shared/logger';
import { rawRequest } from '../../../test/process';
import { progress } from './common';
import type { SaleOutcome } from './flash-sale';
import type { BenchEnv, Proc } from './stack';
import { summarize } from './stats';

export type Verdict = { invariant: string; pass: boolean; detail: string };
type Check = (invariant: string, pass: boolean, detail: string) => void;
type ZoneRow = { zone: string; capacity: number; sold: number; held: number };
type Ctx = { be: BenchEnv; api: Proc; eventId: string; sale: SaleOutcome; check: Check };
type KafkaMessage = { type: string; reservationId: string; eventId: string; ts: number };

export type VerdictResult = {
  verdicts: Verdict[];
  confirmToBrokerMs: ReturnType<typeof summarize>;
  secondsToSellOutFromPostgres: number | null;
};

export async function verdict(be: BenchEnv, api: Proc, eventId: string, sale: SaleOutcome, o: { holdSeconds: number; capacity: number; opensAt: Date }): Promise<VerdictResult> {
  await settle(be, eventId, o.holdSeconds);
  const verdicts: Verdict[] = [];
  const ctx: Ctx = { be, api, eventId, sale, check: (invariant, pass, detail) => verdicts.push({ invariant, pass, detail }) };
  const zoneRows = await checkPostgres(ctx);
  await checkRedis(ctx, zoneRows);
  await checkApiCounts(ctx, zoneRows);
  const { pg, pgConfirmed } = await checkClient(ctx);
  const mine = await checkKafka(ctx, new Set(pgConfirmed.map((r) => r.id)), pg.expired?.n ?? 0);
  return { verdicts, ...await timings(ctx, pgConfirmed, mine, o) };
}

/** Open holds expire and the outbox drains before anything is counted. */
async function settle(be: BenchEnv, eventId: string, holdSeconds: number): Promise<void> {
  progress('flash: waiting for open holds to expire and the outbox to drain');
  const until = Date.now() + (holdSeconds + 20) * 1000;
  for (;;) {
    const [r] = await be.sql<{ held: number; pending: number }[]>`
      select (select count(*)::int from reservations where event_id = ${eventId} and status = 'held') as held,
             (select count(*)::int from outbox where topic = ${be.config.kafka.topic} and sent_at is null) as pending`;
    if ((r!.held === 0 && r!.pending === 0) || Date.now() > until) break;
    await sleep(500);
  }
}

async function checkPostgres({ be, eventId, check }: Ctx): Promise<ZoneRow[]> {
  const sql = be.sql;
  const zoneRows = await sql<{ zone: string; capacity: number; sold: number; held: number }[]>`
    select z.code as zone, z.capacity,
      coalesce(sum(r.quantity) filter (where r.status = 'confirmed'), 0)::int as sold,
      coalesce(sum(r.quantity) filter (where r.status = 'held'), 0)::int as held
    from zones z left join reservations r on r.event_id = z.event_id and r.zone_code = z.code
    where z.event_id = ${eventId} group by z.code, z.capacity order by z.code`;
  check('seats sold ≤ capacity (PostgreSQL, per zone)', zoneRows.every((z) => z.sold <= z.capacity), zoneRows.map((z) => `${z.zone}: ${z.sold}/${z.capacity}`).join(', '));

  const [dup] = await sql<{ twice: number; live_twice: number; seat_rows: number }[]>`
    select
      (select count(*)::int from (select rs.seat_label from reservation_seats rs join reservations r on r.id = rs.reservation_id
         where rs.event_id = ${eventId} and r.status in ('held', 'confirmed') group by rs.seat_label having count(*) > 1) d) as twice,
      (select count(*)::int from (select seat_label from reservation_seats where event_id = ${eventId} and live
         group by seat_label having count(*) > 1) d) as live_twice,
      (select count(*)::int from reservation_seats rs join reservations r on r.id = rs.reservation_id
         where rs.event_id = ${eventId} and r.status = 'confirmed') as seat_rows`;
  check('no seat twice (PostgreSQL)', dup!.twice === 0 && dup!.live_twice === 0, `${dup!.twice} seats in two held/confirmed reservations, ${dup!.live_twice} live twice; ${dup!.seat_rows} confirmed seat rows`);
  return zoneRows;
}

async function checkRedis({ be, eventId, check }: Ctx, zoneRows: ZoneRow[]): Promise<void> {
  const sql = be.sql;
  const redis = new Redis(be.config.redis.url);
  const k = eventKeys(be.config.redis.prefix, eventId);
  const redisCounts: Record<string, { capacity: number; held: number; sold: number }> = {};
  for (const z of zoneRows) {
    const h = await redis.hgetall(k.zoneCounts(z.zone));
    redisCounts[z.zone] = { capacity: Number(h.capacity), held: Number(h.held ?? 0), sold: Number(h.sold ?? 0) };
  }
  const seatMap = await redis.hgetall(k.zoneSeats('A'));
  redis.disconnect();
  const soldInRedis = Object.entries(seatMap).filter(([, v]) => v.startsWith('s:'));
  const confirmedSeats = await sql<{ seat_label: string; reservation_id: string }[]>`
    select rs.seat_label, rs.reservation_id from reservation_seats rs join reservations r on r.id = rs.reservation_id
    where rs.event_id = ${eventId} and r.status = 'confirmed'`;
  const pgSeat = new Map(confirmedSeats.map((s) => [s.seat_label, s.reservation_id]));
  const seatMismatch = soldInRedis.filter(([label, v]) => pgSeat.get(label) !== v.slice(2)).length + Math.max(0, pgSeat.size - soldInRedis.length);
  check(
    'Redis agrees with PostgreSQL (sold/held counts per zone, sold seat → reservation)',
    zoneRows.every((z) => redisCounts[z.zone]!.sold === z.sold && redisCounts[z.zone]!.held === z.held) && seatMismatch === 0,
    zoneRows.map((z) => `${z.zone}: Redis sold ${redisCounts[z.zone]!.sold} held ${redisCounts[z.zone]!.held} / PG sold ${z.sold} held ${z.held}`).join('; ') + `; seat map: ${soldInRedis.length} sold in Redis, ${pgSeat.size} in PG, ${seatMismatch} mismatched`,
  );
}

async function checkApiCounts({ api, eventId, check }: Ctx, zoneRows: ZoneRow[]): Promise<void> {
  const ev = `/v1/events/${eventId}`;
  const availability = await rawRequest(api.port, 'GET', `${ev}/availability`);
  const apiZones = ('status' in availability && availability.status === 200 ? availability.body.zones : []) as { code: string; capacity: number; available: number; held: number; sold: number }[];
  check(
    'counts add up (GET availability: available + held + sold = capacity = PostgreSQL capacity; sold = PostgreSQL sold)',
    zoneRows.length === apiZones.length &&
      zoneRows.every((z) => {
        const a = apiZones.find((x) => x.code === z.zone);
        return a && a.available + a.held + a.sold === z.capacity && a.capacity === z.capacity && a.sold === z.sold && a.held === z.held;
      }),
    apiZones.map((a) => `${a.code}: available ${a.available} + held ${a.held} + sold ${a.sold} = ${a.available + a.held + a.sold} (capacity ${a.capacity})`).join('; '),
  );
}

async function checkClient({ be, eventId, sale, check }: Ctx) {
  const sql = be.sql;
  const { counts, confirmedIds, abandonedIds } = sale;
  const statusRows = await sql<{ status: string; n: number; seats: number }[]>`
    select status, count(*)::int as n, sum(quantity)::int as seats from reservations where event_id = ${eventId} group by status`;
  const pg = Object.fromEntries(statusRows.map((r) => [r.status, r]));
  const pgConfirmed = await sql<{ id: string; confirmed_at: Date }[]>`select id, confirmed_at from reservations where event_id = ${eventId} and status = 'confirmed'`;
  const pgConfirmedIds = new Set(pgConfirmed.map((r) => r.id));
  const pgTotal = statusRows.reduce((a, r) => a + r.n, 0);
  check(
    'client and PostgreSQL agree (holds, confirms, abandoned = expired, nothing left held)',
    pgTotal === counts.holds &&
      pgConfirmedIds.size === confirmedIds.size &&
      [...confirmedIds.keys()].every((id) => pgConfirmedIds.has(id)) &&
      (pg.expired?.n ?? 0) === abandonedIds.size &&
      (pg.held?.n ?? 0) === 0,
    `client: ${counts.holds} holds, ${confirmedIds.size} confirmed, ${abandonedIds.size} abandoned/too late; PostgreSQL: ${pgTotal} reservations, ${JSON.stringify(Object.fromEntries(statusRows.map((r) => [r.status, r.n])))}`,
  );
  return { pg, pgConfirmed };
}

/** The whole bench topic from the beginning, deduplicated on the message id. */
async function checkKafka({ be, eventId, check }: Ctx, pgConfirmedIds: Set<string>, expiredInPg: number): Promise<KafkaMessage[]> {
  const sql = be.sql;
  progress('flash: reading the bench topic from Kafka');
  const [ob] = await sql<{ total: number; pending: number; confirmed: number; expired: number }[]>`
    select count(*)::int as total, count(*) filter (where sent_at is null)::int as pending,
      count(*) filter (where type = 'booking.confirmed' and payload->'reservation'->>'eventId' = ${eventId})::int as confirmed,
      count(*) filter (where type = 'booking.expired' and payload->'reservation'->>'eventId' = ${eventId})::int as expired
    from outbox where topic = ${be.config.kafka.topic}`;
  const kafka = createKafka(be.config.kafka, createLogger('warn', 'bench'), `bench-check-${be.runId}`);
  const kadmin = kafka.admin();
  await kadmin.connect();
  const offsets = await kadmin.fetchTopicOffsets(be.config.kafka.topic);
  await kadmin.disconnect();
  const expected = offsets.reduce((a, p) => a + Number(p.high) - Number(p.low), 0);
  const consumer = kafka.consumer({ groupId: `bench-check-${be.runId}-${randomUUID().slice(0, 6)}` });
  const byMessage = new Map<string, { type: string; reservationId: string; eventId: string; ts: number }>();
  let raw = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: be.config.kafka.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      raw++;
      const m = JSON.parse(message.value!.toString()) as { id: string; type: string; reservation: { id: string; eventId: string } };
      byMessage.set(m.id, { type: m.type, reservationId: m.reservation.id, eventId: m.reservation.eventId, ts: Number(message.timestamp) });
    },
  });
  const kDeadline = Date.now() + 60_000;
  while (raw < expected && Date.now() < kDeadline) await sleep(200);
  await consumer.disconnect();
  const mine = [...byMessage.values()].filter((m) => m.eventId === eventId);
  const perReservation = new Map<string, number>();
  for (const m of mine.filter((m) => m.type === 'booking.confirmed')) perReservation.set(m.reservationId, (perReservation.get(m.reservationId) ?? 0) + 1);
  const missing = [...pgConfirmedIds].filter((id) => !perReservation.has(id)).length;
  const twice = [...perReservation.values()].filter((n) => n > 1).length;
  const stray = [...perReservation.keys()].filter((id) => !pgConfirmedIds.has(id)).length;
  check(
    'every confirmed reservation on Kafka exactly once after dedupe',
    missing === 0 && twice === 0 && stray === 0 && ob!.pending === 0,
    `${raw} messages read (${raw - byMessage.size} duplicates dropped), ${perReservation.size} booking.confirmed for ${pgConfirmedIds.size} confirmed reservations: ${missing} missing, ${twice} twice, ${stray} not confirmed in PostgreSQL; outbox pending ${ob!.pending}`,
  );
  const expiredOnKafka = new Set(mine.filter((m) => m.type === 'booking.expired').map((m) => m.reservationId));
  check(
    'every expired hold on Kafka once (booking.expired = expired in PostgreSQL)',
    expiredOnKafka.size === expiredInPg && mine.filter((m) => m.type === 'booking.expired').length === expiredOnKafka.size,
    `${expiredOnKafka.size} booking.expired messages, ${expiredInPg} expired reservations`,
  );
  return mine;
}

async function timings({ be, eventId }: Ctx, pgConfirmed: { id: string; confirmed_at: Date }[], mine: KafkaMessage[], o: { capacity: number; opensAt: Date }) {
  const sql = be.sql;
  const { capacity, opensAt } = o;
  const byTime = [...pgConfirmed].sort((a, b) => a.confirmed_at.getTime() - b.confirmed_at.getTime());
  const confirmedAt = new Map(byTime.map((r) => [r.id, r.confirmed_at.getTime()]));
  const lag: number[] = [];
  for (const m of mine) if (m.type === 'booking.confirmed' && confirmedAt.has(m.reservationId)) lag.push(m.ts - confirmedAt.get(m.reservationId)!);
  const lagSummary = summarize(lag);

  // Time to sell out from PostgreSQL: when the confirmed seats reached capacity.
  const qty = new Map((await sql<{ id: string; quantity: number }[]>`select id, quantity from reservations where event_id = ${eventId} and status = 'confirmed'`).map((r) => [r.id, r.quantity]));
  let acc = 0;
  let lastSaleAt: number | null = null;
  for (const r of byTime) {
    acc += qty.get(r.id) ?? 0;
    if (acc >= capacity) {
      lastSaleAt = r.confirmed_at.getTime();
      break;
    }
  }
  const secondsToSellOutPg = lastSaleAt ? (lastSaleAt - opensAt.getTime()) / 1000 : null;
  return { confirmToBrokerMs: lagSummary, secondsToSellOutFromPostgres: secondsToSellOutPg };
}
