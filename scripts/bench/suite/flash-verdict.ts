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
type KafkaMessage = { type: string; reservationId: string; eventId: string; ts: number; refundReason?: string };
type Opts = { holdSeconds: number; paymentWindowSeconds: number; capacity: number; opensAt: Date; payments: boolean };

export type VerdictResult = {
  verdicts: Verdict[];
  confirmToBrokerMs: ReturnType<typeof summarize>;
  secondsToSellOutFromPostgres: number | null;
};

export async function verdict(be: BenchEnv, api: Proc, eventId: string, sale: SaleOutcome, o: Opts): Promise<VerdictResult> {
  await settle(be, eventId, Math.max(o.holdSeconds, o.paymentWindowSeconds));
  const verdicts: Verdict[] = [];
  const ctx: Ctx = { be, api, eventId, sale, check: (invariant, pass, detail) => verdicts.push({ invariant, pass, detail }) };
  const zoneRows = await checkPostgres(ctx);
  await checkRedis(ctx, zoneRows);
  await checkApiCounts(ctx, zoneRows);
  const { pg, pgConfirmed } = await checkClient(ctx);
  const mine = await checkKafka(ctx, new Set(pgConfirmed.map((r) => r.id)), pg.expired?.n ?? 0);
  if (o.payments) await checkPayments(ctx, mine);
  await checkTickets(ctx);
  return { verdicts, ...await timings(ctx, pgConfirmed, mine, o) };
}

/** Open holds expire, refunds reach the provider and the outbox drains before anything is counted. */
async function settle(be: BenchEnv, eventId: string, holdSeconds: number): Promise<void> {
  progress('flash: waiting for open holds to expire, refunds to be sent and the outbox to drain');
  const until = Date.now() + (holdSeconds + 20) * 1000;
  for (;;) {
    const [r] = await be.sql<{ held: number; pending: number; refunds: number }[]>`
      select (select count(*)::int from reservations where event_id = ${eventId} and status = 'held') as held,
             (select count(*)::int from outbox where topic = ${be.config.kafka.topic} and sent_at is null) as pending,
             (select count(*)::int from refunds where status = 'pending') as refunds`;
    if ((r!.held === 0 && r!.pending === 0 && r!.refunds === 0) || Date.now() > until) break;
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
  const pgExpired = new Set((await sql<{ id: string }[]>`select id from reservations where event_id = ${eventId} and status = 'expired'`).map((r) => r.id));
  const pgTotal = statusRows.reduce((a, r) => a + r.n, 0);
  const expiredNotAbandoned = [...pgExpired].filter((id) => !abandonedIds.has(id)).length;
  check(
    'client and PostgreSQL agree (holds, confirms; walked away, too late, failed or late payment = expired, the same ids; nothing left held)',
    pgTotal === counts.holds &&
      pgConfirmedIds.size === confirmedIds.size &&
      [...confirmedIds.keys()].every((id) => pgConfirmedIds.has(id)) &&
      pgExpired.size === abandonedIds.size &&
      expiredNotAbandoned === 0 &&
      (pg.held?.n ?? 0) === 0,
    `client: ${counts.holds} holds, ${confirmedIds.size} confirmed, ${abandonedIds.size} to expire (walked away, too late, failed or late payment); PostgreSQL: ${pgTotal} reservations, ${JSON.stringify(Object.fromEntries(statusRows.map((r) => [r.status, r.n])))}, ${expiredNotAbandoned} expired the client did not give up`,
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
  const byMessage = new Map<string, KafkaMessage>();
  let raw = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: be.config.kafka.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      raw++;
      const m = JSON.parse(message.value!.toString()) as { id: string; type: string; reservation?: { id: string; eventId: string }; refund?: { reason: string } };
      if (!m.reservation) return; // ticket.checked_in: none in a sale
      byMessage.set(m.id, { type: m.type, reservationId: m.reservation.id, eventId: m.reservation.eventId, ts: Number(message.timestamp), refundReason: m.refund?.reason });
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

/**
 * The paying buyer: every paid booking confirmed exactly once (one succeeded payment, the
 * payment the reservation names, one 'confirmed' webhook outcome); every payment after the
 * hold expired refunded (payment refunded, a 'late' refund the provider accepted, the
 * reservation still expired, booking.refunded once on Kafka); failed payments left the hold to
 * expire; and money was refunded for nothing else.
 */
async function checkPayments({ be, eventId, sale, check }: Ctx, mine: KafkaMessage[]): Promise<void> {
  const sql = be.sql;
  const rows = await sql<{ id: string; status: string; payment_ref: string | null; succeeded: number; refunded: number; failed: number; pending: number; succeeded_id: string | null; confirmed_hooks: number }[]>`
    select r.id, r.status, r.payment_ref,
      count(p.id) filter (where p.status = 'succeeded')::int as succeeded,
      count(p.id) filter (where p.status = 'refunded')::int as refunded,
      count(p.id) filter (where p.status = 'failed')::int as failed,
      count(p.id) filter (where p.status = 'pending')::int as pending,
      (array_agg(p.id::text) filter (where p.status = 'succeeded'))[1] as succeeded_id,
      (select count(*)::int from payment_webhook_events w join payments q on q.id = w.payment_id
        where q.reservation_id = r.id and w.outcome = 'confirmed') as confirmed_hooks
    from reservations r left join payments p on p.reservation_id = r.id
    where r.event_id = ${eventId} group by r.id`;
  const byId = new Map(rows.map((r) => [r.id, r]));
  const confirmed = rows.filter((r) => r.status === 'confirmed');
  const badConfirmed = confirmed.filter((r) => r.succeeded !== 1 || r.payment_ref !== r.succeeded_id || r.confirmed_hooks !== 1).length;
  const paidNotConfirmed = rows.filter((r) => r.succeeded > 0 && r.status !== 'confirmed').length;
  const confirmedOnKafka = new Map<string, number>();
  for (const m of mine) if (m.type === 'booking.confirmed') confirmedOnKafka.set(m.reservationId, (confirmedOnKafka.get(m.reservationId) ?? 0) + 1);
  const notOnceOnKafka = confirmed.filter((r) => confirmedOnKafka.get(r.id) !== 1).length;
  const clientPaidMissing = [...sale.confirmedIds.keys()].filter((id) => byId.get(id)?.status !== 'confirmed').length;
  check(
    'every paid booking confirmed exactly once (one succeeded payment = payment_ref, one confirmed webhook outcome, booking.confirmed once)',
    badConfirmed === 0 && paidNotConfirmed === 0 && notOnceOnKafka === 0 && clientPaidMissing === 0 && confirmed.length === sale.confirmedIds.size,
    `${confirmed.length} confirmed in PostgreSQL, ${sale.confirmedIds.size} seen confirmed by buyers: ${badConfirmed} without exactly one matching payment and webhook, ${paidNotConfirmed} succeeded payments not confirmed, ${notOnceOnKafka} not once on Kafka, ${clientPaidMissing} buyers' confirmations missing`,
  );

  const refunds = await sql<{ reservation_id: string; reason: string; status: string; status_r: string }[]>`
    select p.reservation_id, f.reason, f.status, r.status as status_r from refunds f
    join payments p on p.id = f.payment_id join reservations r on r.id = p.reservation_id where r.event_id = ${eventId}`;
  const refundOf = new Map(refunds.map((f) => [f.reservation_id, f]));
  const refundedOnKafka = new Map<string, number>();
  for (const m of mine) if (m.type === 'booking.refunded') refundedOnKafka.set(m.reservationId, (refundedOnKafka.get(m.reservationId) ?? 0) + 1);
  const late = [...sale.lateIds];
  const notRefunded = late.filter((id) => {
    const r = byId.get(id);
    const f = refundOf.get(id);
    return !r || r.status !== 'expired' || r.refunded !== 1 || r.succeeded !== 0 || !f || f.reason !== 'late' || f.status !== 'succeeded' || refundedOnKafka.get(id) !== 1;
  }).length;
  const stray = refunds.filter((f) => !sale.lateIds.has(f.reservation_id)).length + [...refundedOnKafka.keys()].filter((id) => !sale.lateIds.has(id)).length;
  check(
    'every late payment refunded (reservation expired, payment refunded, late refund accepted by the provider, booking.refunded once on Kafka; no other refunds)',
    notRefunded === 0 && stray === 0 && sale.lateIds.size > 0,
    `${late.length} paid after expiry (${sale.counts.latePayments} on purpose, ${sale.counts.paidTooLate} lost the race; webhook outcomes ${JSON.stringify(sale.lateOutcomes)}): ${notRefunded} not refunded in full; ${refunds.length} refunds in PostgreSQL, ${[...refundedOnKafka.values()].reduce((a, b) => a + b, 0)} booking.refunded, ${stray} for a reservation not paid late`,
  );

  const failedWrong = [...sale.failedIds].filter((id) => {
    const r = byId.get(id);
    return !r || r.status !== 'expired' || r.failed < 1 || r.succeeded !== 0 || r.refunded !== 0;
  }).length;
  check(
    'failed payments left the hold to expire (payment failed, reservation expired, nothing charged)',
    failedWrong === 0 && sale.failedIds.size > 0,
    `${sale.failedIds.size} failed payments, ${failedWrong} not failed-and-expired`,
  );
}

/** Tickets exist exactly for confirmed bookings: one per seat (GA: per unit), all valid. */
async function checkTickets({ be, eventId, check }: Ctx): Promise<void> {
  const sql = be.sql;
  const [t] = await sql<{ unpaid: number; wrong: number; confirmed: number; tickets: number }[]>`
    with per as (
      select r.id, r.status, r.quantity, r.zone_code,
        count(t.id)::int as n, count(distinct t.unit)::int as units, coalesce(min(t.unit), 0) as lo, coalesce(max(t.unit), 0) as hi,
        count(t.id) filter (where t.status = 'valid')::int as valid,
        count(t.id) filter (where t.zone_code <> r.zone_code or t.event_id <> r.event_id)::int as foreign_,
        (select count(*)::int from reservation_seats rs where rs.reservation_id = r.id) as seat_rows,
        count(t.id) filter (where t.seat_label is not null and not exists (
          select 1 from reservation_seats rs where rs.reservation_id = r.id and rs.seat_label = t.seat_label))::int as wrong_seat,
        count(distinct t.seat_label)::int as seats
      from reservations r left join tickets t on t.reservation_id = r.id
      where r.event_id = ${eventId} group by r.id)
    select
      (select count(*)::int from per where status <> 'confirmed' and n > 0) +
        (select count(*)::int from tickets t where t.event_id = ${eventId} and not exists (select 1 from reservations r where r.id = t.reservation_id and r.event_id = ${eventId})) as unpaid,
      (select count(*)::int from per where status = 'confirmed' and (n <> quantity or units <> quantity or lo <> 1 or hi <> quantity or valid <> n or foreign_ > 0
         or wrong_seat > 0 or (seat_rows > 0 and seats <> quantity) or (seat_rows = 0 and seats <> 0))) as wrong,
      (select count(*)::int from per where status = 'confirmed') as confirmed,
      (select count(*)::int from tickets where event_id = ${eventId}) as tickets`;
  check('no ticket for an unpaid booking (tickets only on confirmed reservations)', t!.unpaid === 0, `${t!.unpaid} unconfirmed reservations with tickets; ${t!.tickets} tickets in all`);
  check(
    'one ticket per seat (GA: per unit) for every confirmed booking, all valid',
    t!.wrong === 0 && t!.confirmed > 0,
    `${t!.confirmed} confirmed bookings, ${t!.wrong} with missing, extra, foreign or revoked tickets`,
  );
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
