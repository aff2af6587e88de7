// Scenario 3: a flash sale end to end over HTTP, then a correctness verdict from PostgreSQL,
// Redis and Kafka.
//
// Buyers (distinct users) join the waiting room before sales open, poll their ticket after
// the opening (next poll at the ETA the server gives), and once admitted hold 1-4 seats
// with their pass: seated buyers pick adjacent free seats from the seat map (refreshed by
// the load generator once a second, and by the 409s they get), GA buyers ask for a
// quantity. 70% confirm after a 0.5-2 s "payment", the rest walk away and their hold
// expires. A buyer tries up to 3 times; one who got nothing, or who sees the event sold out
// (every seat held or sold), waits and tries again when the availability (polled 4x a
// second by the generator, standing in for every buyer's refresh) shows free seats.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createKafka } from '../../../src/outbox/kafka';
import { eventKeys } from '../../../src/redis/keys';
import { createLogger } from '../../../src/shared/logger';
import { rawRequest } from '../../../test/process';
import { FlashClient } from './client';
import { CpuMeter } from './cpu';
import { createEvent, mdTable, progress, signTokens, type ScenarioResult } from './common';
import type { BenchEnv, Proc } from './stack';
import { timelineSvg } from './histogram';
import { fmt, summarize } from './stats';

export type FlashOptions = {
  seats: number;
  buyers: number;
  admitPerSecond: number;
  confirmShare: number;
  holdSeconds: number;
  concurrency: number;
  /** Stop selling this long after the opening even if not sold out. */
  deadlineSeconds: number;
};

type Verdict = { invariant: string; pass: boolean; detail: string };

export async function flash(be: BenchEnv, api: Proc, cpu: CpuMeter, o: FlashOptions): Promise<ScenarioResult> {
  const gaCapacity = Math.floor(o.seats / 2);
  const perRow = 100;
  const rows = Math.max(1, Math.round((o.seats - gaCapacity) / perRow));
  const seatedCapacity = rows * perRow;
  const capacity = gaCapacity + seatedCapacity;

  progress(`flash: signing ${fmt(o.buyers)} buyer tokens`);
  const buyers = await signTokens(be.config.jwtSecret, o.buyers, `fan${randomUUID().slice(0, 4)}`);

  // How fast can buyers join? Measured on a throwaway room, so the sale can open right
  // after the last join (everyone in the lobby, as the issue asks) without idling.
  const cal = new FlashClient(api.port, o.concurrency);
  const calEvent = await createEvent(api.port, be.adminToken, {
    name: 'bench flash calibration',
    salesOpenAt: new Date(Date.now() + 3_600_000),
    queue: { enabled: true, admitPerSecond: o.admitPerSecond, passSeconds: 900 },
    zones: [{ code: 'GA', name: 'GA', priceCents: 100, kind: 'ga', capacity: 10 }],
  });
  const calN = Math.min(3_000, o.buyers);
  let t = performance.now();
  await Promise.all(buyers.slice(0, calN).map((b) => cal.request('join', 'POST', `/v1/events/${calEvent}/queue`, { token: b.token })));
  const joinRate = calN / ((performance.now() - t) / 1000);
  cal.close();
  const joinSeconds = o.buyers / joinRate;
  const openIn = Math.max(8, joinSeconds * 1.3 + 4);
  progress(`flash: joins run at ~${fmt(joinRate)}/s; sales open in ${openIn.toFixed(0)} s`);

  const opensAt = new Date(Date.now() + openIn * 1000);
  const eventId = await createEvent(api.port, be.adminToken, {
    name: 'bench flash sale',
    salesOpenAt: opensAt,
    holdSeconds: o.holdSeconds,
    queue: { enabled: true, admitPerSecond: o.admitPerSecond, passSeconds: 900 },
    zones: [
      { code: 'A', name: 'Block A', priceCents: 9000, kind: 'seated', rows, seatsPerRow: perRow },
      { code: 'FLOOR', name: 'Floor', priceCents: 15000, kind: 'ga', capacity: gaCapacity },
    ],
  });
  const c = new FlashClient(api.port, o.concurrency);
  const ev = `/v1/events/${eventId}`;

  // ------------------------------------------------------------------ joins (lobby)
  const tickets: string[] = new Array(o.buyers);
  let joined = 0;
  let joinedLate = 0;
  const joinTimer = setInterval(() => progress(`flash: joined ${fmt(joined)}/${fmt(o.buyers)}`), 5_000);
  t = performance.now();
  await Promise.all(
    buyers.map(async (b, i) => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const r = await c.request('POST queue (join)', 'POST', `${ev}/queue`, { token: b.token, priority: 1 });
        if (r.status === 201 || r.status === 200) {
          tickets[i] = r.json.ticket;
          if (r.json.status !== 'lobby') joinedLate++;
          joined++;
          return;
        }
        await sleep(500);
      }
    }),
  );
  clearInterval(joinTimer);
  const joinWall = (performance.now() - t) / 1000;
  progress(`flash: ${fmt(joined)} joined in ${joinWall.toFixed(1)} s (${fmt(joined - joinedLate)} in the lobby); waiting for the opening`);
  const wait = opensAt.getTime() - Date.now();
  if (wait > 0) await sleep(wait);

  // ------------------------------------------------------------------ the sale
  const cpuA = cpu.sample();
  c.t0 = performance.now();
  const openedPerf = c.t0;
  let over = false;
  let soldOutAt: number | null = null; // every seat sold
  let allTakenAt: number | null = null; // every seat held or sold (buyers see "sold out")
  const believedFree = new Set<string>();
  for (let r = 1; r <= rows; r++) for (let n = 1; n <= perRow; n++) believedFree.add(`A-${r}-${n}`);
  let gaAvailable = gaCapacity;
  let seatedAvailable = seatedCapacity;
  const hopeful: (() => void)[] = [];
  const counts = { admitted: 0, holds: 0, holdSeats: 0, confirmed: 0, confirmedSeats: 0, abandoned: 0, confirmTooLate: 0, gaveUp: 0, retries: 0 };
  const confirmedIds = new Map<string, number>(); // reservation id -> client time of the 200 (epoch ms)
  const abandonedIds = new Set<string>();
  const queueSamples: { s: number; admittedUpTo: number; admitted: number }[] = [];
  const endSale = () => {
    over = true;
    for (const w of hopeful.splice(0)) w();
  };

  const watcher = (async () => {
    let tick = 0;
    while (!over) {
      const r = await c.request('GET availability', 'GET', `${ev}/availability`);
      if (r.status === 200) {
        const zones = r.json.zones as { code: string; available: number; held: number; sold: number }[];
        gaAvailable = zones.find((z) => z.code === 'FLOOR')!.available;
        seatedAvailable = zones.find((z) => z.code === 'A')!.available;
        const free = zones.reduce((a, z) => a + z.available, 0);
        const held = zones.reduce((a, z) => a + z.held, 0);
        const now = performance.now();
        if (free === 0 && allTakenAt === null) allTakenAt = now;
        if (free === 0 && held === 0) {
          soldOutAt = now;
          endSale();
          break;
        }
        for (let k = 0; k < free && hopeful.length; k++) hopeful.shift()!();
      }
      if (tick % 4 === 0) {
        const m = await c.request('GET seat map', 'GET', `${ev}/zones/A/seats`);
        if (m.status === 200) {
          believedFree.clear();
          for (const s of m.json as { seat: string; status: string }[]) if (s.status === 'available') believedFree.add(s.seat);
        }
        const q = await c.request('GET admin queue', 'GET', `/v1/admin/events/${eventId}/queue`, { token: be.adminToken });
        if (q.status === 200) queueSamples.push({ s: Math.round((performance.now() - openedPerf) / 100) / 10, admittedUpTo: q.json.admittedUpTo, admitted: q.json.admitted });
      }
      if (tick % 20 === 0) {
        progress(
          `flash: t+${((performance.now() - openedPerf) / 1000).toFixed(0)}s admitted ${fmt(counts.admitted)}, holds ${fmt(counts.holds)}, confirmed ${fmt(counts.confirmedSeats)}/${fmt(capacity)} seats, free ${fmt(gaAvailable + seatedAvailable)}, waiting to retry ${fmt(hopeful.length)}, generator backlog ${fmt(c.backlog)}`,
        );
      }
      tick++;
      await sleep(250);
    }
  })();
  const deadline = setTimeout(endSale, o.deadlineSeconds * 1000);

  /** Adjacent seats in one row if there are, else any believed-free seats. */
  function pickSeats(q: number): string[] | null {
    if (believedFree.size < q) return null;
    const all = [...believedFree];
    for (let tries = 0; tries < 8; tries++) {
      const start = all[Math.floor(Math.random() * all.length)]!;
      const [, r, n] = start.split('-');
      const seats = Array.from({ length: q }, (_, k) => `A-${r}-${Number(n) + k}`);
      if (seats.every((s) => believedFree.has(s))) return seats;
    }
    const out: string[] = [];
    while (out.length < q) {
      const s = all[Math.floor(Math.random() * all.length)]!;
      if (!out.includes(s)) out.push(s);
    }
    return out;
  }

  async function tryHold(b: { token: string }, pass: string): Promise<{ id: string; seats: number } | null> {
    let preferSeated = Math.random() < 0.5;
    let qty = 1 + Math.floor(Math.random() * 4);
    for (let attempt = 0; attempt < 3 && !over; attempt++) {
      // The page shows "sold out" (every seat held or sold): wait for seats to come back
      // instead of asking anyway.
      if (gaAvailable <= 0 && seatedAvailable <= 0) return null;
      if (attempt > 0) counts.retries++;
      if (preferSeated && seatedAvailable <= 0 && gaAvailable > 0) preferSeated = false;
      if (!preferSeated && gaAvailable <= 0 && seatedAvailable > 0) preferSeated = true;
      const seats = preferSeated ? pickSeats(qty) : null;
      const body = seats ? { seats } : { zone: 'FLOOR', quantity: Math.min(qty, Math.max(1, gaAvailable)) };
      const r = await c.request('POST reservations', 'POST', `${ev}/reservations`, {
        token: b.token,
        body,
        headers: { 'x-queue-pass': pass, 'idempotency-key': randomUUID() },
      });
      if (r.status === 201) {
        c.mark('holds', r.at);
        for (const s of r.json.seats as string[]) believedFree.delete(s);
        return { id: r.json.id, seats: r.json.quantity };
      }
      if (r.status === 409) c.mark('rejections', r.at);
      const code = r.json?.error?.code;
      if (code === 'SEATS_UNAVAILABLE' && seats) for (const s of (r.json.error.details?.seats ?? []) as string[]) believedFree.delete(s);
      else if (code === 'SEATS_UNAVAILABLE') qty = Math.max(1, Number(r.json.error.details?.available ?? 1));
      else if (code === 'SOLD_OUT') {
        gaAvailable = 0;
        preferSeated = true;
      } else if (r.status === 503 || r.status === 0) await sleep(1_000);
      else if (code !== 'SEATS_UNAVAILABLE') return null; // 403/429/...: counted in the statuses, the buyer gives up
    }
    return null;
  }

  async function buyer(i: number): Promise<void> {
    const b = buyers[i]!;
    const ticket = tickets[i];
    if (!ticket) return;
    let pass: string | undefined;
    while (!over && !pass) {
      const r = await c.request('GET queue (poll)', 'GET', `${ev}/queue?ticket=${encodeURIComponent(ticket)}`, { priority: 1 });
      if (r.status === 200 && r.json.status === 'admitted') pass = r.json.pass;
      else {
        const eta = Number(r.json?.etaSeconds ?? 1);
        await sleep(Math.min(10_000, Math.max(300, eta * 1000)) + Math.random() * 300);
      }
    }
    if (!pass) return;
    counts.admitted++;
    c.mark('passes');
    while (!over) {
      const hold = await tryHold(b, pass);
      if (!hold) {
        if (over) break;
        await new Promise<void>((r) => hopeful.push(r));
        continue;
      }
      counts.holds++;
      counts.holdSeats += hold.seats;
      await sleep(500 + Math.random() * 1_500);
      if (Math.random() < o.confirmShare) {
        const r = await c.request('POST confirm', 'POST', `/v1/reservations/${hold.id}/confirm`, { token: b.token, body: { paymentRef: `pay-${hold.id.slice(0, 8)}` } });
        if (r.status === 200) {
          c.mark('confirms', r.at);
          confirmedIds.set(hold.id, Date.now());
          counts.confirmed++;
          counts.confirmedSeats += hold.seats;
        } else if (r.status === 410) {
          counts.confirmTooLate++;
          abandonedIds.add(hold.id);
        }
      } else {
        counts.abandoned++;
        abandonedIds.add(hold.id);
      }
      return;
    }
    counts.gaveUp++;
  }

  // Buyers finish on their own once the sale ends (a hold in progress is still confirmed or
  // abandoned); the watcher ends the sale when everything is sold, the timer at the deadline.
  await Promise.all(buyers.map((_, i) => buyer(i)));
  endSale();
  clearTimeout(deadline);
  await watcher;
  const cpuB = cpu.sample();
  const saleSeconds = ((soldOutAt ?? performance.now()) - openedPerf) / 1000;
  progress(`flash: sale ${soldOutAt ? `sold out in ${saleSeconds.toFixed(1)} s` : `stopped at the deadline (${o.deadlineSeconds} s), not sold out`}`);
  c.close();

  // ------------------------------------------------------------------ verdict
  const sql = be.sql;
  progress('flash: waiting for open holds to expire and the outbox to drain');
  const until = Date.now() + (o.holdSeconds + 20) * 1000;
  for (;;) {
    const [r] = await sql<{ held: number; pending: number }[]>`
      select (select count(*)::int from reservations where event_id = ${eventId} and status = 'held') as held,
             (select count(*)::int from outbox where topic = ${be.config.kafka.topic} and sent_at is null) as pending`;
    if ((r!.held === 0 && r!.pending === 0) || Date.now() > until) break;
    await sleep(500);
  }
  const verdicts: Verdict[] = [];
  const check = (invariant: string, pass: boolean, detail: string) => verdicts.push({ invariant, pass, detail });

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

  // Kafka: the whole bench topic from the beginning, deduplicated on the message id.
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
    expiredOnKafka.size === (pg.expired?.n ?? 0) && mine.filter((m) => m.type === 'booking.expired').length === expiredOnKafka.size,
    `${expiredOnKafka.size} booking.expired messages, ${pg.expired?.n ?? 0} expired reservations`,
  );

  // Confirm-to-broker: the confirm transaction's time in PostgreSQL (confirmed_at = now() of
  // that transaction) to the broker's timestamp of its message; both clocks are this machine's.
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

  const routes = Object.keys(c.latencies).sort();
  const perRoute = Object.fromEntries(routes.map((r) => [r, { ...summarize(c.latencies[r]!), statuses: c.statuses[r] }]));
  const holdsSeries = c.timeline.holds ?? [];
  const confirmSeries = c.timeline.confirms ?? [];
  const peak = (s: number[]) => Math.max(0, ...s);
  const cores = CpuMeter.cores(cpuA, cpuB);
  // Admission rate while people were still waiting: up to the first sample where everyone was through.
  const maxAdmitted = Math.max(0, ...queueSamples.map((q) => q.admittedUpTo));
  const through = queueSamples.find((q) => q.admittedUpTo >= maxAdmitted);
  const admission = through && through.s > 0 ? through.admittedUpTo / through.s : NaN;
  /** Rate over the rush: from the opening until 90% of all of them had happened. */
  const rush = (series: number[]) => {
    const total = series.reduce((a, b) => a + b, 0);
    let acc = 0;
    for (let i = 0; i < series.length; i++) {
      acc += series[i]!;
      if (acc >= 0.9 * total) return { perSecond: Math.round(acc / (i + 1)), seconds: i + 1 };
    }
    return { perSecond: 0, seconds: 0 };
  };
  const allPass = verdicts.every((v) => v.pass);
  const figures = {
    options: o,
    event: { id: eventId, capacity, seated: seatedCapacity, ga: gaCapacity },
    join: { joined, inLobby: joined - joinedLate, seconds: joinWall, perSecond: joined / joinWall, calibratedPerSecond: joinRate },
    soldOut: soldOutAt !== null,
    secondsToSellOut: soldOutAt ? saleSeconds : null,
    secondsToSellOutFromPostgres: secondsToSellOutPg,
    secondsUntilAllSeatsTaken: allTakenAt ? (allTakenAt - openedPerf) / 1000 : null,
    saleSeconds,
    counts,
    holdsPerSecond: { rush: rush(holdsSeries), peak: peak(holdsSeries), series: holdsSeries },
    confirmsPerSecond: { rush: rush(confirmSeries), peak: peak(confirmSeries), series: confirmSeries },
    admissionPerSecondObserved: admission,
    queueSamples,
    routes: perRoute,
    confirmToBrokerMs: lagSummary,
    cores,
    verdict: allPass ? 'PASS' : 'FAIL',
    verdicts,
  };
  for (const v of verdicts) progress(`flash: ${v.pass ? 'PASS' : 'FAIL'} ${v.invariant}: ${v.detail}`);

  let md = `### 3. Flash sale end to end (${fmt(capacity)} seats: ${fmt(seatedCapacity)} seated + ${fmt(gaCapacity)} GA; ${fmt(o.buyers)} buyers; admission ${fmt(o.admitPerSecond)}/s; holds of ${o.holdSeconds} s; ${Math.round(o.confirmShare * 100)}% confirm)\n\n`;
  md += mdTable(['figure', 'value'], [
    ['buyers joined before opening (lobby)', `${fmt(joined - joinedLate)} of ${fmt(o.buyers)} in ${joinWall.toFixed(1)} s (${fmt(joined / joinWall)} joins/s)`],
    ['time to sell out (opening → last seat sold, every hold confirmed or expired)', soldOutAt ? `${saleSeconds.toFixed(1)} s` : `not sold out within ${o.deadlineSeconds} s (${fmt(counts.confirmedSeats)} of ${fmt(capacity)} sold)`],
    ['opening → every seat held or sold (buyers see "sold out")', allTakenAt ? `${((allTakenAt - openedPerf) / 1000).toFixed(1)} s` : 'never'],
    ['admission observed (admittedUpTo / seconds until everyone was through)', fmt(admission)],
    ['buyers admitted / holding seats / confirmed / abandoned / confirm after expiry / gave up', `${fmt(counts.admitted)} / ${fmt(counts.holds)} / ${fmt(counts.confirmed)} / ${fmt(counts.abandoned)} / ${fmt(counts.confirmTooLate)} / ${fmt(counts.gaveUp)}`],
    ['holds/s (rush: opening until 90% of all holds / peak second)', `${fmt(figures.holdsPerSecond.rush.perSecond)} over ${figures.holdsPerSecond.rush.seconds} s / ${fmt(figures.holdsPerSecond.peak)}`],
    ['confirms/s (rush / peak second)', `${fmt(figures.confirmsPerSecond.rush.perSecond)} over ${figures.confirmsPerSecond.rush.seconds} s / ${fmt(figures.confirmsPerSecond.peak)}`],
    ['confirm transaction (PostgreSQL confirmed_at) → Kafka broker timestamp', `p50 ${lagSummary.p50} ms, p99 ${lagSummary.p99} ms, max ${lagSummary.max} ms (${lagSummary.n} messages)`],
    ['cores used during the sale', Object.entries(cores).map(([k2, v]) => `${k2} ${v}`).join(', ')],
  ]);
  md += '\n\n';
  md += mdTable(['route', 'requests', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'statuses'], routes.map((r) => [r, fmt(perRoute[r]!.n), perRoute[r]!.p50, perRoute[r]!.p95, perRoute[r]!.p99, perRoute[r]!.max, JSON.stringify(perRoute[r]!.statuses)]));
  md += `\n\n**Correctness verdict: ${allPass ? 'PASS' : 'FAIL'}**\n\n`;
  md += mdTable(['invariant', 'verdict', 'detail'], verdicts.map((v) => [v.invariant, v.pass ? 'PASS' : '**FAIL**', v.detail]));
  md += '\n';
  return {
    name: 'flash',
    figures,
    markdown: md,
    charts: [
      {
        file: 'flash-timeline.svg',
        title: `Scenario 3: flash sale, per second (${fmt(o.buyers)} buyers, ${fmt(capacity)} seats)`,
        svg: timelineSvg(`Scenario 3: flash sale per second (${fmt(o.buyers)} buyers, ${fmt(capacity)} seats)`, [
          { name: 'buyers learning their pass', values: c.timeline.passes ?? [] },
          { name: 'holds (201)', values: holdsSeries },
          { name: 'confirms (200)', values: confirmSeries },
          { name: 'reserve rejections (409)', values: c.timeline.rejections ?? [] },
        ], 'events per second'),
      },
    ],
    histograms: [{ file: 'flash.svg', title: `Scenario 3: flash sale latency per route (${fmt(o.buyers)} buyers, ${fmt(capacity)} seats)`, series: routes.filter((r) => !r.startsWith('GET admin')).map((r) => ({ name: r, latencies: c.latencies[r]! })) }],
  };
}
