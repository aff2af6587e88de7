// Scenario 1: the HTTP stack alone (GET /healthz, same server, same middleware) against
// POST .../reservations, same load generator and connection count, rounds interleaved so
// both see the same machine. Then a CPU profile of the API under the reserve load.
import { cannon, type CannonResult } from './cannon';
import { CpuMeter } from './cpu';
import { createEvent, mdTable, progress, signTokens, type ScenarioResult } from './common';
import { captureProfile, summarizeProfile, type ProfileSummary } from './profile';
import { reserveShots } from './reserve-load';
import type { BenchEnv, Proc } from './stack';
import { fmt, ratio, summarize } from './stats';

export async function baseline(be: BenchEnv, api: Proc, cpu: CpuMeter, o: { connections: number; seconds: number; rounds: number }): Promise<ScenarioResult> {
  const eventId = await createEvent(api.port, be.adminToken, {
    name: 'bench baseline',
    zones: [
      { code: 'A', name: 'Block A', priceCents: 9000, kind: 'seated', rows: 200, seatsPerRow: 250 },
      { code: 'FLOOR', name: 'Floor', priceCents: 15000, kind: 'ga', capacity: 150_000 },
    ],
  });
  const tokens = await signTokens(be.config.jwtSecret, 70_000);
  const reserve = reserveShots({ eventId, tokens, seated: { zone: 'A', rows: 200, perRow: 250 }, ga: 'FLOOR' });
  const health = () => ({ method: 'GET' as const, path: '/healthz' });

  progress(`baseline: warm-up (2 s each route, ${o.connections} connections)`);
  await cannon({ ports: [api.port], connections: o.connections, duration: 2, next: health });
  await cannon({ ports: [api.port], connections: o.connections, duration: 2, next: reserve.next });

  const runs: Run[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    for (const [route, next] of [['GET /healthz', health], ['POST reservations', reserve.next]] as const) {
      const a = cpu.sample();
      const r = await cannon({ ports: [api.port], connections: o.connections, duration: o.seconds, next });
      const cores = CpuMeter.cores(a, cpu.sample());
      runs.push({ route, round, r, cores });
      progress(`baseline: round ${round} ${route}: ${fmt(r.rps)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, statuses ${JSON.stringify(r.statuses)}`);
    }
  }

  const profile = await profileUnderLoad(api, o.connections, reserve.next);

  const b = aggregate(runs, 'GET /healthz');
  const r = aggregate(runs, 'POST reservations');
  const figures = {
    connections: o.connections,
    secondsPerRound: o.seconds,
    rounds: o.rounds,
    baseline: { ...b, latencies: undefined },
    reserve: { ...r, latencies: undefined },
    ratioReserveToBaselineRps: ratio(r.rps, b.rps),
    ratioReserveToBaselineP99: ratio(r.latency.p99, b.latency.p99),
    profile,
  };
  const md = baselineMarkdown(o, b, r, figures.ratioReserveToBaselineRps, figures.ratioReserveToBaselineP99, profile);
  return {
    name: 'baseline',
    figures,
    markdown: md,
    histograms: [
      {
        file: 'baseline.svg',
        title: `Scenario 1: GET /healthz vs POST reservations, ${o.connections} connections`,
        series: [
          { name: 'GET /healthz', latencies: b.latencies },
          { name: 'POST reservations', latencies: r.latencies },
        ],
      },
    ],
  };
}

type Run = { route: string; round: number; r: CannonResult; cores: Record<string, number> };

function aggregate(runs: Run[], route: string) {
  const rs = runs.filter((x) => x.route === route);
  const lat = rs.flatMap((x) => x.r.latencies);
  const secs = rs.reduce((a, x) => a + x.r.seconds, 0);
  const statuses: Record<string, number> = {};
  for (const x of rs) for (const [k, v] of Object.entries(x.r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const cores: Record<string, number> = {};
  for (const x of rs) for (const [k, v] of Object.entries(x.cores)) cores[k] = Math.round(((cores[k] ?? 0) + v / rs.length) * 100) / 100;
    return { rps: lat.length / secs, latency: summarize(lat), statuses, cores, perRound: rs.map((x) => Math.round(x.r.rps)), latencies: lat };
}

/** A CPU profile of the API under the same reserve load (not counted in the figures). */
async function profileUnderLoad(api: Proc, connections: number, next: Parameters<typeof cannon>[0]['next']): Promise<ProfileSummary | null> {
  progress('baseline: profiling the API under reserve load (5 s)');
  const load = cannon({ ports: [api.port], connections, duration: 8, next });
  await new Promise((r) => setTimeout(r, 1_500));
  let profile: ProfileSummary | null = null;
  try {
    profile = await summarizeProfile(await captureProfile(api.pid!, api.inspectPort, 5));
  } catch (err) {
    progress(`baseline: profile failed: ${(err as Error).message}`);
  }
  await load;
  return profile;
}

type Agg = ReturnType<typeof aggregate>;

function baselineMarkdown(o: { connections: number; seconds: number; rounds: number }, b: Agg, r: Agg, rpsRatio: number, p99Ratio: number, profile: ProfileSummary | null): string {
  const cpuCols = Object.keys(r.cores);
  let md = `### 1. Baseline vs reserve (${o.connections} connections, ${o.rounds} interleaved rounds of ${o.seconds} s each)\n\n`;
  md += mdTable(
    ['route', 'req/s', 'per round', 'p50 ms', 'p95 ms', 'p99 ms', 'statuses', ...cpuCols.map((c) => `${c} cores`)],
    [
      ['GET /healthz (HTTP stack alone)', fmt(b.rps), b.perRound.join(' / '), b.latency.p50, b.latency.p95, b.latency.p99, JSON.stringify(b.statuses), ...cpuCols.map((c) => b.cores[c] ?? 0)],
      ['POST /v1/events/:id/reservations', fmt(r.rps), r.perRound.join(' / '), r.latency.p50, r.latency.p95, r.latency.p99, JSON.stringify(r.statuses), ...cpuCols.map((c) => r.cores[c] ?? 0)],
    ],
  );
  md += `\n\n**Ratio reserve/baseline: ${rpsRatio} × the requests/s, ${p99Ratio} × the p99.**\n`;
  if (profile) {
    md += `\nCPU profile of the API process under the reserve load (${profile.seconds.toFixed(1)} s sampled via scripts/profile.sh, busy ${profile.busyPercent}% of the time; \`${profile.file}\`):\n\n`;
    md += mdTable(['area (self time)', '% of busy'], profile.areas.slice(0, 10).map((a) => [a.area, a.selfPercent]));
    md += '\n\n';
    md += mdTable(['function (self time)', 'where', '% of busy'], profile.top.slice(0, 12).map((t) => [`\`${t.fn}\``, t.where, t.selfPercent]));
    md += '\n\nInclusive (function anywhere on the synchronous stack; async continuations are not attributed to their caller):\n\n';
    md += mdTable(['function (inclusive)', 'where', '% of busy'], profile.inclusive.slice(0, 25).map((t) => [`\`${t.fn}\``, t.where, t.totalPercent]));
    md += '\n';
  }
  return md;
}
