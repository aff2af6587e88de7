// npm run bench [-- --only routes,baseline,lua,flash,sse,relay,growth,waiting] [--quick] [--buyers 50000]
//   [--processes 1,2]
//   [--seats 10000] [--admit 2000] [--connections 50] [--keep]
//   [--drivers N] [--concurrency 256] [--join-rate R] [--poll-spread 1000] [--late-share 0.05] [--fail-share 0.03]
//
// The flash-sale benchmark suite. Starts the stack the way `npm start` does (api + worker as
// child processes, node --import tsx --import ./src/telemetry/register.ts), on the
// boxoffice_bench database (a schema of its own per run), Redis db 3 (a fresh key prefix)
// and a Kafka topic of its own (bench.booking.<run>), drives it over HTTP from this process
// (the flash sale from --drivers child processes, default one per core, at least two),
// and writes artifacts/bench/<timestamp>/result.json, report.md and latency histogram SVGs.
// Whatever is compared (baseline vs reserve, ioredis vs redis-benchmark, 1 vs 2 APIs) is
// measured side by side in the same run. --quick scales everything down for a smoke test.
import { execSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { baseline } from './suite/baseline';
import { createEvent, progress, type ScenarioResult } from './suite/common';
import { CpuMeter } from './suite/cpu';
import { relay, sse } from './suite/external';
import { flash } from './suite/flash';
import { growth } from './suite/growth';
import { histogramSvg } from './suite/histogram';
import { luaCeiling } from './suite/lua';
import { routes } from './suite/routes';
import { waitingOptions } from './suite/waiting-options';
import { waitingRoom } from './suite/waiting-room';
import { benchEnv, flashPaymentEnv, ROOT, shortId, startProcess, stopProcess, type Proc } from './suite/stack';

const ALL = ['routes', 'baseline', 'lua', 'flash', 'sse', 'relay', 'growth', 'waiting'] as const;
const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    buyers: { type: 'string' },
    seats: { type: 'string' },
    admit: { type: 'string' },
    connections: { type: 'string' },
    keep: { type: 'boolean', default: false },
    processes: { type: 'string' },
    // flash: load-generator processes, requests in flight per driver, joins/s offered before
    // the opening (default 80% of the measured closed-loop rate), spread of the first poll (ms),
    // shares of paying buyers who pay late / fail the payment
    drivers: { type: 'string' },
    concurrency: { type: 'string' },
    'join-rate': { type: 'string' },
    'poll-spread': { type: 'string' },
    'late-share': { type: 'string' },
    'fail-share': { type: 'string' },
  },
});
const only = args.only ? args.only.split(',').map((s) => s.trim()) : [...ALL];
for (const s of only) if (!(ALL as readonly string[]).includes(s)) throw new Error(`unknown scenario ${s}; choose from ${ALL.join(', ')}`);
const quick = args.quick;
const connections = Number(args.connections ?? 50);

const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const outDir = `${ROOT}artifacts/bench/${stamp}`;
await mkdir(outDir, { recursive: true });
const runId = shortId();
const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  commit: (() => {
    try {
      return execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
    } catch {
      return 'unknown';
    }
  })(),
  /** Files changed against the commit when the run started (others may be editing the tree). */
  uncommitted: (() => {
    try {
      return execSync('git status --porcelain --untracked-files=no', { cwd: ROOT }).toString().split('\n').filter(Boolean).map((l) => l.slice(3));
    } catch {
      return [];
    }
  })(),
  redisBenchmark: (() => {
    try {
      return execSync('redis-benchmark --version').toString().trim();
    } catch {
      return 'missing';
    }
  })(),
};
progress(`run ${runId}: ${only.join(', ')}${quick ? ' (quick)' : ''} -> ${outDir}; ${machine.cpus} CPUs, load ${machine.loadAverageAtStart.join(' ')}`);

const be = await benchEnv(runId);
const procs: Proc[] = [];
const extraApis: Proc[] = [];
const cpu = new CpuMeter(() => Object.fromEntries([...procs, ...extraApis].map((p) => [p.name, p.pids()])));
const results: ScenarioResult[] = [];
const startedAt = Date.now();

async function writeReport(final: boolean) {
  for (const r of results) for (const h of r.histograms) await writeFile(`${outDir}/${h.file}`, histogramSvg(h.title, h.series));
  for (const r of results) for (const ch of r.charts ?? []) await writeFile(`${outDir}/${ch.file}`, ch.svg);
  const result = {
    runId,
    startedAt: new Date(startedAt).toISOString(),
    finished: final,
    wallSeconds: Math.round((Date.now() - startedAt) / 1000),
    machine,
    env: { ...be.env },
    scenarios: Object.fromEntries(results.map((r) => [r.name, r.figures])),
  };
  await writeFile(`${outDir}/result.json`, JSON.stringify(result, null, 2));
  const md = [
    `# boxoffice benchmark ${stamp}`,
    '',
    `Run \`${runId}\` (commit ${machine.commit}${machine.uncommitted.length ? ` plus uncommitted changes to ${machine.uncommitted.join(', ')}` : ''}), ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ` +
      `load average at start ${machine.loadAverageAtStart.join(' / ')}; ${result.wallSeconds} s in all${quick ? '; **--quick (scaled down)**' : ''}.`,
    '',
    'Processes: the API and the worker are child processes started as `npm start` starts them; the load generator is this ' +
      'process (autocannon), or for the flash sale several driver processes with a keep-alive http client each, coordinated by this one; PostgreSQL, Redis and Kafka are the shared ' +
      'services of the machine. Nothing is pinned: every process may run on both cores; the "cores used" columns say how much ' +
      'CPU each actually had during a measurement (from /proc).',
    '',
    ...results.flatMap((r) => [r.markdown, ...r.histograms.map((h) => `![${h.title}](${h.file})\n`), ...(r.charts ?? []).map((ch) => `![${ch.title}](${ch.file})\n`), '']),
  ].join('\n');
  await writeFile(`${outDir}/report.md`, md);
}

try {
  progress('starting worker and API (node --import tsx --import ./src/telemetry/register.ts)');
  procs.push(await startProcess(be, 'worker', 'worker'));
  const api = await startProcess(be, 'api', 'api');
  procs.push(api);
  // A first event warms the catalog, pools and script cache.
  await createEvent(api.port, be.adminToken, { name: 'bench warm-up', zones: [{ code: 'GA', name: 'GA', priceCents: 1, kind: 'ga', capacity: 10 }] });

  const run = async (name: (typeof ALL)[number], fn: () => Promise<ScenarioResult>) => {
    if (!only.includes(name)) return;
    progress(`=== ${name} (load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')})`);
    const t0 = Date.now();
    try {
      const r = await fn();
      (r.figures as Record<string, unknown>).wallSeconds = Math.round((Date.now() - t0) / 1000);
      results.push(r);
    } catch (err) {
      progress(`${name} failed: ${(err as Error).stack}`);
      results.push({ name, figures: { error: String((err as Error).message) }, markdown: `### ${name}\n\nFAILED: ${(err as Error).message}\n`, histograms: [] });
    }
    await writeReport(false);
    progress(`=== ${name} done in ${Math.round((Date.now() - t0) / 1000)} s`);
  };

  await run('routes', () =>
    routes(be, {
      seconds: quick ? 2 : 5,
      connections: 64,
      threads: 2,
      processCounts: (args.processes ?? '1,2').split(',').map(Number),
      users: quick ? 5_000 : 20_000,
    }),
  );
  await run('baseline', () => baseline(be, api, cpu, { connections, seconds: quick ? 3 : 6, rounds: 2 }));
  await run('lua', () => luaCeiling(be, api, cpu, { seconds: quick ? 2 : 5, rounds: 2, inFlight: 800, rbClients: 50, rbPipeline: 16 }));
  await run('growth', () => growth(be, api, cpu, extraApis, { connections, maxSeats: quick ? 10_000 : 100_000 }));
  await run('flash', async () => {
    const payEnv = flashPaymentEnv();
    let flashApi = api;
    if (payEnv.PAYMENT_PROVIDER !== 'none') {
      // Its buyers pay: the worker and the API restart with the payment settings (the other
      // scenarios confirm directly).
      progress(`flash: restarting worker and API with PAYMENT_PROVIDER=${payEnv.PAYMENT_PROVIDER}, PAYMENT_WINDOW_SECONDS=${payEnv.PAYMENT_WINDOW_SECONDS}`);
      for (const p of procs.splice(0).reverse()) await stopProcess(p);
      procs.push(await startProcess(be, 'worker', 'worker', payEnv));
      flashApi = await startProcess(be, 'api', 'api', payEnv);
      procs.push(flashApi);
    }
    return flash(be, flashApi, cpu, {
      seats: Number(args.seats ?? (quick ? 2_000 : 10_000)),
      buyers: Number(args.buyers ?? (quick ? 5_000 : 50_000)),
      admitPerSecond: Number(args.admit ?? 2_000),
      confirmShare: 0.7,
      lateShare: Number(args['late-share'] ?? 0.05),
      failShare: Number(args['fail-share'] ?? 0.03),
      holdSeconds: 10,
      concurrency: Number(args.concurrency ?? 256),
      drivers: Number(args.drivers ?? Math.max(2, os.cpus().length)),
      joinRate: Number(args['join-rate'] ?? 0),
      firstPollSpreadMs: Number(args['poll-spread'] ?? 1_000),
      payment: { provider: payEnv.PAYMENT_PROVIDER, windowSeconds: Number(payEnv.PAYMENT_WINDOW_SECONDS) },
      deadlineSeconds: quick ? 150 : 300,
    }, procs);
  });
  await run('relay', () => relay(quick ? { outboxRows: 5_000, rates: [200], seconds: 3, holds: 2_000 } : { outboxRows: 30_000, rates: [200, 1_000], seconds: 5, holds: 5_000 }));
  await run('sse', () => sse(quick ? { streams: 2_000, window: 3 } : { streams: 10_000, window: 5 }));
  await run('waiting', () => waitingRoom(be, waitingOptions(quick)));
} finally {
  for (const p of [...extraApis, ...procs].reverse()) await stopProcess(p);
  await writeReport(true);
  await be.close({ keep: args.keep });
  progress(`report: ${outDir}/report.md`);
}
process.exit(0);
