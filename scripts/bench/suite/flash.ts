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
import { FlashClient } from './client';
import type { CpuMeter } from './cpu';
import { createEvent, progress, signTokens, type ScenarioResult } from './common';
import { flashReport } from './flash-report';
import { Sale, type FlashOptions, type SaleLayout } from './flash-sale';
import { verdict } from './flash-verdict';
import type { BenchEnv, Proc } from './stack';
import { fmt } from './stats';

export type { FlashOptions } from './flash-sale';

type Buyers = { sub: string; token: string }[];

export async function flash(be: BenchEnv, api: Proc, cpu: CpuMeter, o: FlashOptions): Promise<ScenarioResult> {
  const layout = saleLayout(o.seats);
  progress(`flash: signing ${fmt(o.buyers)} buyer tokens`);
  const buyers = await signTokens(be.config.jwtSecret, o.buyers, `fan${randomUUID().slice(0, 4)}`);
  const joinRate = await calibrateJoins(be, api, buyers, o);
  const openIn = Math.max(8, (o.buyers / joinRate) * 1.3 + 4);
  progress(`flash: joins run at ~${fmt(joinRate)}/s; sales open in ${openIn.toFixed(0)} s`);
  const opensAt = new Date(Date.now() + openIn * 1000);
  const eventId = await createSaleEvent(be, api, o, layout, opensAt);
  const c = new FlashClient(api.port, o.concurrency);
  const lobby = await joinLobby(c, eventId, buyers);
  const wait = opensAt.getTime() - Date.now();
  if (wait > 0) await sleep(wait);

  const a = cpu.sample();
  const sale = await new Sale(c, eventId, be.adminToken, layout, o).run(buyers, lobby.tickets);
  const b = cpu.sample();
  const saleSeconds = ((sale.soldOutAt ?? performance.now()) - sale.openedPerf) / 1000;
  progress(`flash: sale ${sale.soldOutAt ? `sold out in ${saleSeconds.toFixed(1)} s` : `stopped at the deadline (${o.deadlineSeconds} s), not sold out`}`);
  c.close();
  const checked = await verdict(be, api, eventId, sale, { holdSeconds: o.holdSeconds, capacity: layout.capacity, opensAt });
  for (const v of checked.verdicts) progress(`flash: ${v.pass ? 'PASS' : 'FAIL'} ${v.invariant}: ${v.detail}`);
  return flashReport({ o, eventId, layout, c, sale, checked, join: { ...lobby, joinRate }, cpu: { a, b } });
}

/** Half the seats GA, the rest seated in rows of 100. */
function saleLayout(seats: number): SaleLayout {
  const gaCapacity = Math.floor(seats / 2);
  const perRow = 100;
  const rows = Math.max(1, Math.round((seats - gaCapacity) / perRow));
  return { rows, perRow, gaCapacity, seatedCapacity: rows * perRow, capacity: gaCapacity + rows * perRow };
}

/**
 * How fast can buyers join? Measured on a throwaway room, so the sale can open right after
 * the last join (everyone in the lobby) without idling.
 */
async function calibrateJoins(be: BenchEnv, api: Proc, buyers: Buyers, o: FlashOptions): Promise<number> {
  const cal = new FlashClient(api.port, o.concurrency);
  const calEvent = await createEvent(api.port, be.adminToken, {
    name: 'bench flash calibration',
    salesOpenAt: new Date(Date.now() + 3_600_000),
    queue: { enabled: true, admitPerSecond: o.admitPerSecond, passSeconds: 900 },
    zones: [{ code: 'GA', name: 'GA', priceCents: 100, kind: 'ga', capacity: 10 }],
  });
  const calN = Math.min(3_000, o.buyers);
  const t = performance.now();
  await Promise.all(buyers.slice(0, calN).map((b) => cal.request('join', 'POST', `/v1/events/${calEvent}/queue`, { token: b.token })));
  cal.close();
  return calN / ((performance.now() - t) / 1000);
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

/** Every buyer joins the waiting room before the opening (up to 5 tries each). */
async function joinLobby(c: FlashClient, eventId: string, buyers: Buyers): Promise<{ tickets: string[]; joined: number; joinedLate: number; joinWall: number }> {
  const tickets: string[] = new Array(buyers.length);
  let joined = 0;
  let joinedLate = 0;
  const timer = setInterval(() => progress(`flash: joined ${fmt(joined)}/${fmt(buyers.length)}`), 5_000);
  const t = performance.now();
  await Promise.all(
    buyers.map(async (b, i) => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const r = await c.request('POST queue (join)', 'POST', `/v1/events/${eventId}/queue`, { token: b.token, priority: 1 });
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
  clearInterval(timer);
  const joinWall = (performance.now() - t) / 1000;
  progress(`flash: ${fmt(joined)} joined in ${joinWall.toFixed(1)} s (${fmt(joined - joinedLate)} in the lobby); waiting for the opening`);
  return { tickets, joined, joinedLate, joinWall };
}
