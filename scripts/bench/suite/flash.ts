// Scenario 3: a flash sale end to end over HTTP, then a correctness verdict from PostgreSQL,
// Redis and Kafka.
//
// Buyers (distinct users) are split across several driver processes (--drivers), each with
// its own keep-alive agent, so the load generator is not what limits the figures. They join
// the waiting room before sales open (offered at a steady rate), poll their ticket after the
// opening (next poll at the ETA the server gives), and once admitted hold 1-4 seats with their
// pass: seated buyers pick adjacent free seats from the seat map (refreshed by the coordinator
// once a second, and by the 409s they get), GA buyers ask for a quantity. 70% pay after a
// 0.5-2 s pause (checkout, the dev provider's webhook, then they wait for the confirmation);
// of those a few pay only after their hold expired (refunded) and a few fail the payment. The
// rest walk away and their hold expires. A buyer tries up to 3 times; one who got nothing, or
// who sees the event sold out (every seat held or sold), waits and tries again when the
// availability (polled 4x a second by the coordinator) shows free seats.
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlashClient } from './client';
import type { CpuMeter } from './cpu';
import { createEvent, progress, type ScenarioResult } from './common';
import { Drivers, mergeResults } from './flash-drivers';
import type { DriverInit } from './flash-protocol';
import { flashReport } from './flash-report';
import type { FlashOptions, SaleLayout, SaleOutcome } from './flash-sale';
import { verdict } from './flash-verdict';
import { watchSale } from './flash-watch';
import type { BenchEnv, Proc } from './stack';
import { fmt } from './stats';

export type { FlashOptions } from './flash-sale';

/** The warnings the API and worker logged (pino JSON lines), counted by message. */
function warnings(procs: Proc[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of procs) {
    for (const line of p.output().split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const j = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
        if ((j.level ?? 0) < 40) continue;
        // Errors with their message: an unhandled error is a finding, not a count.
        const key = `${p.name}: ${j.msg}${(j.level ?? 0) >= 50 && j.err?.message ? ` (${j.err.message.slice(0, 160)})` : ''}`;
        out[key] = (out[key] ?? 0) + 1;
      } catch {}
    }
  }
  return out;
}

export async function flash(be: BenchEnv, api: Proc, cpu: CpuMeter, o: FlashOptions, stack: Proc[] = [api]): Promise<ScenarioResult> {
  const layout = saleLayout(o.seats);
  const payments = o.payment.provider !== 'none';
  const loadAtStart = os.loadavg();
  const n = Math.max(1, Math.min(o.drivers, o.buyers));
  progress(`flash: ${n} driver processes sign ${fmt(o.buyers)} buyer tokens; buyers ${payments ? 'pay through the dev provider' : 'confirm directly (PAYMENT_PROVIDER=none)'}`);
  const subPrefix = `fan${randomUUID().slice(0, 4)}`;
  const inits: DriverInit[] = Array.from({ length: n }, (_, i) => {
    const from = Math.floor((o.buyers * i) / n);
    const to = Math.floor((o.buyers * (i + 1)) / n);
    return {
      index: i,
      port: api.port,
      jwtSecret: be.config.jwtSecret,
      subPrefix,
      from,
      to,
      concurrency: o.concurrency,
      layout,
      pay: { confirmShare: o.confirmShare, payments, lateShare: o.lateShare, failShare: o.failShare, buyerShare: (to - from) / o.buyers, firstPollSpreadMs: o.firstPollSpreadMs },
    };
  });
  const drivers = await Drivers.start(inits);
  try {
    const calibrated = await calibrateJoins(be, api, drivers, o);
    const joinRate = o.joinRate > 0 ? o.joinRate : calibrated * 0.8;
    const openIn = Math.max(8, (o.buyers / joinRate) * 1.15 + 4);
    progress(`flash: closed-loop joins ran at ~${fmt(calibrated)}/s; offering ${fmt(joinRate)} joins/s; sales open in ${openIn.toFixed(0)} s`);
    const opensAt = new Date(Date.now() + openIn * 1000);
    const eventId = await createSaleEvent(be, api, o, layout, opensAt);
    const lobby = await joinLobby(drivers, inits, eventId, joinRate);
    const wait = opensAt.getTime() - Date.now();
    if (wait > 0) await sleep(wait);

    const a = cpu.sample();
    const results = drivers.expect('result');
    const openEpoch = Date.now();
    drivers.broadcast({ type: 'open', eventId, openEpoch });
    const watcher = new FlashClient(api.port, 8);
    watcher.t0 = openEpoch - performance.timeOrigin;
    const watched = await watchSale(watcher, drivers, { eventId, adminToken: be.adminToken, layout, deadlineSeconds: o.deadlineSeconds });
    const saleSeconds = ((watched.soldOutAt ?? performance.now()) - watched.openedPerf) / 1000;
    progress(`flash: sale ${watched.soldOutAt ? `sold out in ${saleSeconds.toFixed(1)} s` : `stopped at the deadline (${o.deadlineSeconds} s), not sold out`}; waiting for the drivers' last buyers`);
    const merged = mergeResults((await results).map((m) => m.result));
    const b = cpu.sample();
    watcher.close();
    const sale: SaleOutcome = { ...merged.outcome, ...watched };
    const stats = mergeStatsWithWatcher(merged.stats, watcher);
    const checked = await verdict(be, api, eventId, sale, {
      holdSeconds: o.holdSeconds,
      paymentWindowSeconds: payments ? o.payment.windowSeconds : 0,
      capacity: layout.capacity,
      opensAt,
      payments,
    });
    const logged = warnings(stack);
    if (Object.keys(logged).length) progress(`flash: warnings logged by the stack: ${JSON.stringify(logged)}`);
    return flashReport({
      logged,
      o: { ...o, drivers: n },
      payments,
      eventId,
      layout,
      stats,
      sale,
      checked,
      join: { ...lobby, joinRate, calibratedRate: calibrated },
      cpu: { a, b },
      drivers: { ticks: drivers.ticks, openEpoch, buyers: inits.map((i) => i.to - i.from), cpuSeconds: merged.cpuSeconds },
      load: { atStart: loadAtStart, atEnd: os.loadavg() },
    });
  } finally {
    await drivers.close();
  }
}

function mergeStatsWithWatcher(s: ReturnType<typeof mergeResults>['stats'], w: FlashClient) {
  for (const [r, l] of Object.entries(w.latencies)) (s.latencies[r] ??= []).push(...l);
  for (const [r, st] of Object.entries(w.statuses)) {
    const into = (s.statuses[r] ??= {});
    for (const [code, k] of Object.entries(st)) into[code] = (into[code] ?? 0) + k;
  }
  return s;
}

/** Half the seats GA, the rest seated in rows of 100. */
function saleLayout(seats: number): SaleLayout {
  const gaCapacity = Math.floor(seats / 2);
  const perRow = 100;
  const rows = Math.max(1, Math.round((seats - gaCapacity) / perRow));
  return { rows, perRow, gaCapacity, seatedCapacity: rows * perRow, capacity: gaCapacity + rows * perRow };
}

/**
 * How fast can buyers join, closed loop from every driver at once? Measured on a throwaway
 * room; the lobby is then offered joins at 80% of it, so joins measure the server unsaturated.
 */
async function calibrateJoins(be: BenchEnv, api: Proc, drivers: Drivers, o: FlashOptions): Promise<number> {
  const calEvent = await createEvent(api.port, be.adminToken, {
    name: 'bench flash calibration',
    salesOpenAt: new Date(Date.now() + 3_600_000),
    queue: { enabled: true, admitPerSecond: o.admitPerSecond, passSeconds: 900 },
    zones: [{ code: 'GA', name: 'GA', priceCents: 100, kind: 'ga', capacity: 10 }],
  });
  const per = Math.floor(Math.min(3_000, o.buyers) / drivers.count);
  const done = drivers.expect('calibrated');
  drivers.broadcast({ type: 'calibrate', eventId: calEvent, count: per });
  const seconds = Math.max(...(await done).map((m) => m.seconds));
  return (per * drivers.count) / seconds;
}

function createSaleEvent(be: BenchEnv, api: Proc, o: FlashOptions, l: SaleLayout, opensAt: Date): Promise<string> {
  return createEvent(api.port, be.adminToken, {
    name: 'bench flash sale',
    salesOpenAt: opensAt,
    holdSeconds: o.holdSeconds,
    queue: { enabled: true, admitPerSecond: o.admitPerSecond, passSeconds: 900 },
    zones: [
      { code: 'A', name: 'Block A', priceCents: 9000, kind: 'seated', rows: l.rows, seatsPerRow: l.perRow },
      { code: 'FLOOR', name: 'Floor', priceCents: 15000, kind: 'ga', capacity: l.gaCapacity },
    ],
  });
}

/** Every buyer joins the waiting room before the opening, each driver its share of the rate. */
async function joinLobby(drivers: Drivers, inits: DriverInit[], eventId: string, joinRate: number) {
  const total = inits.reduce((x, i) => x + i.to - i.from, 0);
  const timer = setInterval(() => {
    const now = drivers.current();
    progress(`flash: joining; driver backlog ${now.map((t) => fmt(t.backlog)).join(' + ')}, driver cores ${now.map((t) => t.cores.toFixed(2)).join(' ')}`);
  }, 5_000);
  const done = drivers.expect('joined');
  inits.forEach((init, i) => drivers.send(i, { type: 'join', eventId, perSecond: (joinRate * (init.to - init.from)) / total }));
  const parts = await done;
  clearInterval(timer);
  const joined = parts.reduce((x, p) => x + p.joined, 0);
  const joinedLate = parts.reduce((x, p) => x + p.joinedLate, 0);
  const joinWall = Math.max(...parts.map((p) => p.seconds));
  progress(`flash: ${fmt(joined)} joined in ${joinWall.toFixed(1)} s (${fmt(joined - joinedLate)} in the lobby); waiting for the opening`);
  return { joined, joinedLate, joinWall };
}
