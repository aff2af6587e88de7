// The coordinator's view of the sale: it polls availability (4x a second) and the seat map
// (once a second) for every driver, standing in for every buyer's refresh, pushes them to the
// drivers, samples the waiting room, prints progress and ends the sale once everything is
// sold or at the deadline.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FlashClient } from './client';
import { progress } from './common';
import type { Drivers } from './flash-drivers';
import type { SaleLayout, SaleOutcome } from './flash-sale';
import { fmt } from './stats';

export type WatchOutcome = Pick<SaleOutcome, 'openedPerf' | 'soldOutAt' | 'allTakenAt' | 'queueSamples'>;

export async function watchSale(
  c: FlashClient,
  drivers: Drivers,
  a: { eventId: string; adminToken: string; layout: SaleLayout; deadlineSeconds: number },
): Promise<WatchOutcome> {
  const ev = `/v1/events/${a.eventId}`;
  const openedPerf = performance.now();
  let soldOutAt: number | null = null;
  let allTakenAt: number | null = null;
  let free = a.layout.capacity;
  const queueSamples: WatchOutcome['queueSamples'] = [];
  const deadline = openedPerf + a.deadlineSeconds * 1000;
  for (let tick = 0; performance.now() < deadline; tick++) {
    const r = await c.request('GET availability', 'GET', `${ev}/availability`);
    if (r.status === 200) {
      const zones = r.json.zones as { code: string; available: number; held: number; sold: number }[];
      const ga = zones.find((z) => z.code === 'FLOOR')!.available;
      const seated = zones.find((z) => z.code === 'A')!.available;
      drivers.broadcast({ type: 'availability', ga, seated });
      free = ga + seated;
      const held = zones.reduce((x, z) => x + z.held, 0);
      const now = performance.now();
      if (free === 0 && allTakenAt === null) allTakenAt = now;
      if (free === 0 && held === 0) {
        soldOutAt = now;
        break;
      }
    }
    if (tick % 4 === 0) {
      const m = await c.request('GET seat map', 'GET', `${ev}/zones/A/seats`);
      if (m.status === 200) drivers.broadcast({ type: 'seats', free: (m.json as { seat: string; status: string }[]).filter((s) => s.status === 'available').map((s) => s.seat) });
      const q = await c.request('GET admin queue', 'GET', `/v1/admin/events/${a.eventId}/queue`, { token: a.adminToken });
      if (q.status === 200) queueSamples.push({ s: Math.round((performance.now() - openedPerf) / 100) / 10, admittedUpTo: q.json.admittedUpTo, admitted: q.json.admitted });
    }
    if (tick % 20 === 0) {
      const now = drivers.current();
      const sum = (f: (t: (typeof now)[number]) => number) => now.reduce((x, t) => x + f(t), 0);
      progress(
        `flash: t+${((performance.now() - openedPerf) / 1000).toFixed(0)}s admitted ${fmt(sum((t) => t.admitted))}, holds ${fmt(sum((t) => t.holds))}, ` +
          `confirmed ${fmt(sum((t) => t.confirmedSeats))}/${fmt(a.layout.capacity)} seats, free ${fmt(free)}, waiting to retry ${fmt(sum((t) => t.waitingToRetry))}; ` +
          `driver backlog ${now.map((t) => fmt(t.backlog)).join(' + ')} = ${fmt(sum((t) => t.backlog))}, driver cores ${now.map((t) => t.cores.toFixed(2)).join(' ')}`,
      );
    }
    await sleep(250);
  }
  drivers.broadcast({ type: 'end' });
  return { openedPerf, soldOutAt, allTakenAt, queueSamples };
}
