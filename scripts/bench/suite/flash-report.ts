// The flash sale's figures (result.json), its Markdown table and its charts.
import type { FlashClient } from './client';
import { CpuMeter } from './cpu';
import { mdTable, progress, type ScenarioResult } from './common';
import type { FlashOptions, SaleLayout, SaleOutcome } from './flash-sale';
import type { VerdictResult } from './flash-verdict';
import { timelineSvg } from './histogram';
import { fmt, summarize } from './stats';

export type FlashRun = {
  o: FlashOptions;
  eventId: string;
  layout: SaleLayout;
  c: FlashClient;
  sale: SaleOutcome;
  checked: VerdictResult;
  join: { joined: number; joinedLate: number; joinWall: number; joinRate: number };
  cpu: { a: ReturnType<CpuMeter['sample']>; b: ReturnType<CpuMeter['sample']> };
};

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
  const { o, eventId, c, sale, checked } = run;
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
  return { figures, routes, perRoute, lagSummary, allPass, saleSeconds, admission };
}

export function flashReport(run: FlashRun): ScenarioResult {
  const { o, c, sale } = run;
  const { capacity, seatedCapacity, gaCapacity } = run.layout;
  const { joined, joinedLate, joinWall } = run.join;
  const { soldOutAt, allTakenAt, openedPerf, counts } = sale;
  const verdicts = run.checked.verdicts;
  const { figures, routes, perRoute, lagSummary, allPass, saleSeconds, admission } = flashFigures(run);
  const cores = figures.cores;
  const holdsSeries = figures.holdsPerSecond.series;
  const confirmSeries = figures.confirmsPerSecond.series;
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

