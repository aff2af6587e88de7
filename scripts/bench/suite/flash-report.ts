// The flash sale's figures (result.json), its Markdown table and its charts, with what the
// driver processes themselves did (backlog, CPU, event-loop delay) beside what the server did.
import type { ClientStats } from './client';
import { CpuMeter } from './cpu';
import { mdTable, progress, type ScenarioResult } from './common';
import type { FlashOptions, SaleLayout, SaleOutcome } from './flash-sale';
import type { DriverTick } from './flash-protocol';
import type { VerdictResult } from './flash-verdict';
import { timelineSvg } from './histogram';
import { fmt, summarize } from './stats';

export type FlashRun = {
  o: FlashOptions;
  eventId: string;
  layout: SaleLayout;
  payments: boolean;
  stats: ClientStats;
  sale: SaleOutcome;
  checked: VerdictResult;
  join: { joined: number; joinedLate: number; joinWall: number; joinRate: number; calibratedRate: number };
  cpu: { a: ReturnType<CpuMeter['sample']>; b: ReturnType<CpuMeter['sample']> };
  drivers: { ticks: DriverTick[]; openEpoch: number; buyers: number[]; cpuSeconds: number[] };
  load: { atStart: number[]; atEnd: number[] };
  /** Warnings the API and worker logged during the scenario, by message. */
  logged: Record<string, number>;
};

/**
 * The drivers' own figures: backlog (requests asked for but not yet sent) per second since
 * the opening, per driver and in total, CPU and event-loop delay; the join phase apart.
 */
function driverFigures(run: FlashRun) {
  const { ticks, openEpoch, buyers, cpuSeconds } = run.drivers;
  const n = buyers.length;
  const sec = (t: DriverTick) => Math.floor((t.epoch - openEpoch) / 1000);
  const sale = ticks.filter((t) => t.phase === 'sale' && sec(t) >= 0);
  const seconds = Math.max(0, ...sale.map(sec)) + 1;
  const perDriver = Array.from({ length: n }, () => new Array<number>(seconds).fill(0));
  const cores = Array.from({ length: n }, () => new Array<number>(seconds).fill(0));
  for (const t of sale) {
    perDriver[t.index]![sec(t)] = Math.max(perDriver[t.index]![sec(t)]!, t.peakBacklog);
    cores[t.index]![sec(t)] = t.cores;
  }
  const total = Array.from({ length: seconds }, (_, i) => perDriver.reduce((a, d) => a + d[i]!, 0));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const table = buyers.map((b, i) => {
    const mine = ticks.filter((t) => t.index === i);
    const inSale = mine.filter((t) => t.phase === 'sale');
    const inJoin = mine.filter((t) => t.phase === 'join');
    return {
      driver: i,
      buyers: b,
      peakBacklogJoin: Math.max(0, ...inJoin.map((t) => t.peakBacklog)),
      peakBacklogSale: Math.max(0, ...inSale.map((t) => t.peakBacklog)),
      meanBacklogSale: Math.round(mean(inSale.map((t) => t.backlog))),
      peakPurchaseBacklogSale: Math.max(0, ...inSale.map((t) => t.backlog - (t.pollBacklog ?? 0))),
      coresMean: Math.round(mean(inSale.map((t) => t.cores)) * 100) / 100,
      coresPeak: Math.max(0, ...inSale.map((t) => t.cores)),
      loopDelayP99Max: Math.max(0, ...inSale.map((t) => t.loopDelayP99)),
      cpuSeconds: Math.round(cpuSeconds[i]! * 10) / 10,
    };
  });
  const at = (s: number) => (s < total.length ? total[s]! : null);
  return { perDriver, total, cores, table, backlogAt: { 1: at(1), 5: at(5), 10: at(10), 30: at(30) }, peakTotal: Math.max(0, ...total) };
}

/**
 * Buyers learning their pass, as a rate: the slope between the moments 10% and 90% of all
 * passes were learned (the opening's first polls and the tail of late pollers left out).
 */
export function clientAdmission(passes: number[]): number {
  const total = passes.reduce((a, b) => a + b, 0);
  if (total < 10) return NaN;
  const when = (share: number) => {
    let acc = 0;
    for (let i = 0; i < passes.length; i++) {
      const next = acc + passes[i]!;
      if (next >= share * total) return i + (share * total - acc) / Math.max(1, passes[i]!);
      acc = next;
    }
    return passes.length;
  };
  const t10 = when(0.1);
  const t90 = when(0.9);
  return t90 > t10 ? (0.8 * total) / (t90 - t10) : NaN;
}

/** Admission while people were still waiting, and rates over the rush (until 90% happened). */
function rates(sale: SaleOutcome) {
  const maxAdmitted = Math.max(0, ...sale.queueSamples.map((q) => q.admittedUpTo));
  const through = sale.queueSamples.find((q) => q.admittedUpTo >= maxAdmitted);
  const admission = through && through.s > 0 ? through.admittedUpTo / through.s : NaN;
  const rush = (series: number[]) => {
    const total = series.reduce((a, b) => a + b, 0);
    let acc = 0;
    for (let i = 0; i < series.length; i++) {
      acc += series[i]!;
      if (acc >= 0.9 * total) return { perSecond: Math.round(acc / (i + 1)), seconds: i + 1 };
    }
    return { perSecond: 0, seconds: 0 };
  };
  return { admission, rush, peak: (s: number[]) => Math.max(0, ...s) };
}

export function flashFigures(run: FlashRun) {
  const { o, eventId, stats: c, sale, checked } = run;
  const { capacity, seatedCapacity, gaCapacity } = run.layout;
  const { joined, joinedLate, joinWall, joinRate } = run.join;
  const { soldOutAt, allTakenAt, openedPerf, counts, queueSamples } = sale;
  const verdicts = checked.verdicts;
  const lagSummary = checked.confirmToBrokerMs;
  const secondsToSellOutPg = checked.secondsToSellOutFromPostgres;
  const saleSeconds = ((soldOutAt ?? performance.now()) - openedPerf) / 1000;
  const routes = Object.keys(c.latencies).sort();
  const perRoute = Object.fromEntries(routes.map((r) => [r, { ...summarize(c.latencies[r]!), statuses: c.statuses[r] }]));
  const holdsSeries = c.timeline.holds ?? [];
  const confirmSeries = c.timeline.confirms ?? [];
  const cores = CpuMeter.cores(run.cpu.a, run.cpu.b);
  const { admission, rush, peak } = rates(sale);
  const allPass = verdicts.every((v) => v.pass);
  const drivers = driverFigures(run);
  const waits = summarize(c.slotWaits);
  const clientAdmitted = clientAdmission(c.timeline.passes ?? []);
  const figures = {
    options: o,
    payments: run.payments ? 'dev provider (checkout → signed webhook → confirmed)' : 'none (v1 confirm)',
    stackWarnings: run.logged,
    loadAverage: { atStart: run.load.atStart.map((x) => Math.round(x * 100) / 100), atEnd: run.load.atEnd.map((x) => Math.round(x * 100) / 100) },
    drivers: { count: o.drivers, perDriver: drivers.table, backlogTotalPerSecond: drivers.total, backlogAt: drivers.backlogAt, peakBacklogTotal: drivers.peakTotal, slotWaitMs: waits },
    admission: {
      configured: o.admitPerSecond,
      serverObserved: admission,
      clientObserved: clientAdmitted,
      clientRatio: Math.round((clientAdmitted / o.admitPerSecond) * 1000) / 1000,
      withinFivePercent: Math.abs(clientAdmitted / o.admitPerSecond - 1) <= 0.05,
    },
    event: { id: eventId, capacity, seated: seatedCapacity, ga: gaCapacity },
    join: { joined, inLobby: joined - joinedLate, seconds: joinWall, perSecond: joined / joinWall, offeredPerSecond: joinRate, calibratedPerSecond: run.join.calibratedRate },
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
  return { figures, routes, perRoute, lagSummary, allPass, saleSeconds, admission, drivers };
}

export function flashReport(run: FlashRun): ScenarioResult {
  const { o, stats: c, sale } = run;
  const { capacity, seatedCapacity, gaCapacity } = run.layout;
  const { joined, joinedLate, joinWall } = run.join;
  const { soldOutAt, allTakenAt, openedPerf, counts } = sale;
  const verdicts = run.checked.verdicts;
  const { figures, routes, perRoute, lagSummary, allPass, saleSeconds, admission, drivers } = flashFigures(run);
  const cores = figures.cores;
  const holdsSeries = figures.holdsPerSecond.series;
  const confirmSeries = figures.confirmsPerSecond.series;
  const pay = run.payments
    ? `${Math.round(o.confirmShare * 100)}% pay through the dev provider (of them ${Math.round(o.lateShare * 100)}% after their hold expired, ${Math.round(o.failShare * 100)}% fail)`
    : `${Math.round(o.confirmShare * 100)}% confirm directly (PAYMENT_PROVIDER=none)`;
  const adm = figures.admission;
  let md = `### 3. Flash sale end to end (${fmt(capacity)} seats: ${fmt(seatedCapacity)} seated + ${fmt(gaCapacity)} GA; ${fmt(o.buyers)} buyers on ${o.drivers} driver processes; admission ${fmt(o.admitPerSecond)}/s; holds of ${o.holdSeconds} s; ${pay})\n\n`;
  md += `Load average (1/5/15 min) at the start ${figures.loadAverage.atStart.join(' / ')}, at the end ${figures.loadAverage.atEnd.join(' / ')}.\n\n`;
  md += mdTable(['figure', 'value'], [
    ['buyers joined before opening (lobby)', `${fmt(joined - joinedLate)} of ${fmt(o.buyers)} in ${joinWall.toFixed(1)} s (${fmt(joined / joinWall)} joins/s offered at ${fmt(run.join.joinRate)}/s; closed loop ${fmt(run.join.calibratedRate)}/s)`],
    ['admission: configured · server (admittedUpTo) · buyers learning their pass (10–90% slope)', `${fmt(adm.configured)}/s · ${fmt(adm.serverObserved)}/s · ${fmt(adm.clientObserved)}/s (${adm.clientRatio}× configured: ${adm.withinFivePercent ? 'within' : '**outside**'} 5%)`],
    ['driver backlog (requests not yet sent), all drivers: t+1 s · t+5 s · t+10 s · t+30 s · peak', `${[1, 5, 10, 30].map((k) => (drivers.backlogAt[k as 1] === null ? 'n/a' : fmt(drivers.backlogAt[k as 1]!))).join(' · ')} · ${fmt(drivers.peakTotal)}`],
    ['time a request waited in its driver for a slot', `p50 ${figures.drivers.slotWaitMs.p50} ms, p99 ${figures.drivers.slotWaitMs.p99} ms, max ${figures.drivers.slotWaitMs.max} ms (${fmt(figures.drivers.slotWaitMs.n)} requests)`],
    ['time to sell out (opening → last seat sold, every hold confirmed or expired)', soldOutAt ? `${saleSeconds.toFixed(1)} s` : `not sold out within ${o.deadlineSeconds} s (${fmt(counts.confirmedSeats)} of ${fmt(capacity)} sold)`],
    ['opening → every seat held or sold (buyers see "sold out")', allTakenAt ? `${((allTakenAt - openedPerf) / 1000).toFixed(1)} s` : 'never'],
    ['admission observed (admittedUpTo / seconds until everyone was through)', fmt(admission)],
    ['buyers admitted / holding seats / confirmed / walked away / checkout after expiry / gave up', `${fmt(counts.admitted)} / ${fmt(counts.holds)} / ${fmt(counts.confirmed)} / ${fmt(counts.abandoned)} / ${fmt(counts.confirmTooLate)} / ${fmt(counts.gaveUp)}`],
    ['payments: paid late on purpose / paid in time but refunded / failed / errors', `${fmt(counts.latePayments)} / ${fmt(counts.paidTooLate)} / ${fmt(counts.failedPayments)} / ${fmt(counts.paymentErrors)}`],
    ['holds/s (rush: opening until 90% of all holds / peak second)', `${fmt(figures.holdsPerSecond.rush.perSecond)} over ${figures.holdsPerSecond.rush.seconds} s / ${fmt(figures.holdsPerSecond.peak)}`],
    ['confirms/s (rush / peak second)', `${fmt(figures.confirmsPerSecond.rush.perSecond)} over ${figures.confirmsPerSecond.rush.seconds} s / ${fmt(figures.confirmsPerSecond.peak)}`],
    ['confirm transaction (PostgreSQL confirmed_at) → Kafka broker timestamp', `p50 ${lagSummary.p50} ms, p99 ${lagSummary.p99} ms, max ${lagSummary.max} ms (${lagSummary.n} messages)`],
    ['cores used during the sale', Object.entries(cores).map(([k2, v]) => `${k2} ${v}`).join(', ')],
  ]);
  md += `\n\nDriver backlog per second since the opening, all drivers (peak within the second): ${drivers.total.slice(0, 40).map((x) => fmt(x)).join(', ')}${drivers.total.length > 40 ? ', …' : ''}.`;
  md += ` Driver processes used ${drivers.table.map((d) => d.coresMean).join(' + ')} cores on average during the sale (process.cpuUsage); "bench driver" above is the coordinator.`;
  if (Object.keys(run.logged).length) md += `\n\nWarnings the API and worker logged: ${Object.entries(run.logged).map(([m, k]) => `${m} × ${fmt(k)}`).join('; ')}.`;
  md += '\n\n';
  md += mdTable(
    ['driver', 'buyers', 'peak backlog (joins)', 'peak backlog (sale)', 'mean backlog (sale)', 'peak backlog of purchase steps (sale, sampled)', 'CPU cores mean / peak', 'event-loop delay p99 (worst second)', 'CPU s'],
    drivers.table.map((d) => [d.driver, fmt(d.buyers), fmt(d.peakBacklogJoin), fmt(d.peakBacklogSale), fmt(d.meanBacklogSale), fmt(d.peakPurchaseBacklogSale), `${d.coresMean} / ${d.coresPeak}`, `${d.loopDelayP99Max} ms`, d.cpuSeconds]),
  );
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
      {
        file: 'flash-drivers.svg',
        title: 'Scenario 3: load-generator backlog per second',
        svg: timelineSvg('Scenario 3: requests waiting inside the drivers (peak per second)', [
          { name: 'all drivers', values: drivers.total },
          ...drivers.perDriver.map((values, i) => ({ name: `driver ${i}`, values })),
        ], 'requests not yet sent'),
      },
    ],
    histograms: [{ file: 'flash.svg', title: `Scenario 3: flash sale latency per route (${fmt(o.buyers)} buyers, ${fmt(capacity)} seats)`, series: routes.filter((r) => !r.startsWith('GET admin')).map((r) => ({ name: r, latencies: c.latencies[r]! })) }],
  };
}

