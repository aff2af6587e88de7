// Scenario 0: every hot route under wrk, beside the floor (a bare Hono app, same versions,
// GET -> JSON) measured in the same run, through 1 and then 2 API processes (src/cluster.ts,
// as npm start runs it). Per route: requests/s, the ratio to the floor, latency, and CPU per
// request of the API processes, PostgreSQL and Redis (from /proc), and wrk's own CPU.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { CpuMeter } from './cpu';
import { captureProfile, summarizeProfile } from './profile';
import { createEvent, mdTable, progress, signTokens, type ScenarioResult } from './common';
import { rawRequest } from '../../../test/process';
import { ROOT, startProcess, stopProcess, type BenchEnv, type Proc } from './stack';
import { fmt } from './stats';
import { barSvg } from './histogram';
import { ensureWrk, runWrk, type WrkRequest, type WrkResult } from './wrk';

export type RoutesOptions = { seconds: number; connections: number; threads: number; processCounts: number[]; users: number };

/** Issue 12's targets per API process: throughput as a share of the floor, CPU per request. */
const TARGETS: Record<string, { ratio?: number; cpuUs?: number }> = {
  'sold-out hold (409)': { ratio: 0.5, cpuUs: 50 },
  'durable hold (201)': { ratio: 0.25, cpuUs: 120 },
  'queue join': { ratio: 0.5 },
  'queue poll': { ratio: 0.5 },
};

/** wrk is one address standing in for many buyers: the per-address join limit would refuse it. */
const ONE_ADDRESS = { QUEUE_JOIN_LIMIT_PER_ADDRESS: '0' };

type Row = { route: string; processes: number; r: WrkResult; usPerRequest: Record<string, number>; cores: Record<string, number> };
type Tokens = { sub: string; token: string }[];

export async function routes(be: BenchEnv, o: RoutesOptions): Promise<ScenarioResult> {
  const wrkVersion = ensureWrk();
  const floor = await startFloor();
  const tokens = await signTokens(be.config.jwtSecret, o.users);
  const rows: Row[] = [];
  try {
    for (const n of o.processCounts) {
      progress(`routes: starting ${n} API process(es) (src/cluster.ts, API_PROCESSES=${n})`);
      // BENCH_API_ENTRY=api runs src/api.ts alone (a tree from before src/cluster.ts existed).
      const api = process.env.BENCH_API_ENTRY === 'api'
        ? await startProcess(be, 'api', `api x${n}`)
        : await startProcess(be, 'cluster', `api x${n}`, { API_PROCESSES: String(n), ...ONE_ADDRESS });
      try {
        const cpu = new CpuMeter(() => ({ api: api.pids(), floor: [floor.pid] }));
        const measure = async (route: string, port: number, requests: WrkRequest[]) => {
          await runWrk({ port, requests, connections: o.connections, threads: o.threads, seconds: 1 });
          const a = cpu.sample();
          const profiling = n === 1 && port === api.port && profileWanted(route) ? profileFirstApi(api, route, o.seconds) : null;
          const r = await runWrk({ port, requests, connections: o.connections, threads: o.threads, seconds: o.seconds });
          const b = cpu.sample();
          await profiling;
          const row = { route, processes: n, r, usPerRequest: perRequest(CpuMeter.seconds(a, b), r.requests), cores: CpuMeter.cores(a, b) };
          rows.push(row);
          progress(`routes: ${n} API, ${route}: ${fmt(r.rps)} req/s, p99 ${r.latencyMs.p99} ms, API ${row.usPerRequest.api} µs/req, statuses ${JSON.stringify(r.statuses)}`);
        };
        await measure('floor: bare Hono GET -> JSON', floor.port, [{ method: 'GET', path: '/' }]);
        await measureApi(be, api, tokens, measure);
      } finally {
        await stopProcess(api);
      }
    }
  } finally {
    floor.stop();
  }
  return report(rows, o, wrkVersion);
}

/** The API's routes in a fixed order; the hold run's reservations feed the confirm run. */
async function measureApi(be: BenchEnv, api: Proc, tokens: Tokens, measure: (route: string, port: number, requests: WrkRequest[]) => Promise<void>): Promise<void> {
  const auth = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
  const ga = (name: string, capacity: number, extra = {}) =>
    createEvent(api.port, be.adminToken, { name, zones: [{ code: 'GA', name: 'GA', priceCents: 100, kind: 'ga', capacity }], ...extra });
  await measure('GET /healthz', api.port, [{ method: 'GET', path: '/healthz' }]);

  const soldOut = await ga('bench sold out', 1);
  const first = await rawRequest(api.port, 'POST', `/v1/events/${soldOut}/reservations`, { token: tokens[0]!.token, body: { zone: 'GA', quantity: 1 } });
  if (!('status' in first) || first.status !== 201) throw new Error(`sold-out setup: ${JSON.stringify(first)}`);
  const gaBody = JSON.stringify({ zone: 'GA', quantity: 1 });
  await measure('sold-out hold (409)', api.port, tokens.slice(1).map((t) => ({ method: 'POST', path: `/v1/events/${soldOut}/reservations`, headers: auth(t.token), body: gaBody })));

  const open = await ga('bench holds', 250_000);
  await measure('durable hold (201)', api.port, tokens.map((t) => ({ method: 'POST', path: `/v1/events/${open}/reservations`, headers: auth(t.token), body: gaBody })));
  await measure('GET availability', api.port, [{ method: 'GET', path: `/v1/events/${open}/availability` }]);

  const held = await be.sql<{ id: string; user_id: string }[]>`select id, user_id from reservations where event_id = ${open} and status = 'held'`;
  const bySub = new Map(tokens.map((t) => [t.sub, t.token]));
  await measure('confirm (200)', api.port, held.map((h) => ({ method: 'POST', path: `/v1/reservations/${h.id}/confirm`, headers: auth(bySub.get(h.user_id)!), body: JSON.stringify({ paymentRef: `pay-${h.id.slice(0, 8)}` }) })));

  const lobby = await ga('bench queue', 100, { salesOpenAt: new Date(Date.now() + 3_600_000), queue: { enabled: true, admitPerSecond: 100, passSeconds: 900 } });
  await measure('queue join', api.port, tokens.map((t) => ({ method: 'POST', path: `/v1/events/${lobby}/queue`, headers: auth(t.token) })));
  const tickets = await joinAll(api.port, lobby, tokens.slice(0, 2_000));
  if (!tickets.length) return progress('routes: queue poll skipped: no join returned a ticket');
  await measure('queue poll', api.port, tickets.map((t) => ({ method: 'GET', path: `/v1/events/${lobby}/queue?ticket=${encodeURIComponent(t)}` })));
}

/** BENCH_PROFILE=<route prefix>[,…] profiles the one API process on those routes (its rows then carry the sampler's cost). */
const profileWanted = (route: string) => (process.env.BENCH_PROFILE ?? '').split(',').some((p) => p && route.startsWith(p));

/** src/cluster.ts gives its first API process inspector port 9229. */
async function profileFirstApi(api: Proc, route: string, seconds: number): Promise<void> {
  const child = api.pids()[1];
  if (!child) return progress('routes: no API child process to profile');
  try {
    const s = await summarizeProfile(await captureProfile(child, 9229, Math.max(1, seconds - 1)));
    const out = `${s.file}.summary.json`;
    await writeFile(out, JSON.stringify(s, null, 2));
    progress(`routes: profile of ${route}: busy ${s.busyPercent}%, ${out}`);
    for (const a of s.areas.slice(0, 8)) progress(`  area ${a.area}: ${a.selfPercent}%`);
    for (const t of s.top.slice(0, 12)) progress(`  self ${t.fn} ${t.where}: ${t.selfPercent}%`);
  } catch (err) {
    progress(`routes: profile failed: ${(err as Error).message} ${String((err as { stderr?: string }).stderr ?? '').slice(-600)}`);
  }
}

async function joinAll(port: number, eventId: string, tokens: Tokens): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i += 100) {
    const batch = await Promise.all(tokens.slice(i, i + 100).map((t) => rawRequest(port, 'POST', `/v1/events/${eventId}/queue`, { token: t.token })));
    for (const r of batch) if ('status' in r && r.body?.ticket) out.push(r.body.ticket);
  }
  return out;
}

const perRequest = (secs: Record<string, number>, requests: number) =>
  Object.fromEntries(Object.entries(secs).map(([k, v]) => [k, requests ? Math.round((v * 1e6) / requests) : NaN]));

function startFloor(): Promise<{ port: number; pid: number; stop: () => void }> {
  // From the tree under test, so the floor has that tree's hono and @hono/node-server.
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/suite/floor-server.ts'], { cwd: process.env.BENCH_API_ROOT ?? ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec(String(d));
      if (m) resolve({ port: Number(m[1]), pid: child.pid!, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`floor server exited ${code}`)));
  });
}

function verdict(route: string, ratio: number, cpuUs: number): string {
  const t = TARGETS[route];
  if (!t) return '';
  const parts: string[] = [];
  if (t.ratio !== undefined) parts.push(`${ratio >= t.ratio ? 'met' : 'MISSED'} ≥ ${t.ratio} × floor`);
  if (t.cpuUs !== undefined) parts.push(`${cpuUs <= t.cpuUs ? 'met' : 'MISSED'} ≤ ${t.cpuUs} µs`);
  return parts.join(', ');
}

function report(rows: Row[], o: RoutesOptions, wrkVersion: string): ScenarioResult {
  const floorOf = (n: number) => rows.find((x) => x.processes === n && x.route.startsWith('floor'))!.r.rps;
  const table = rows.map((x) => {
    const ratio = Math.round((x.r.rps / floorOf(x.processes)) * 100) / 100;
    const apiUs = x.route.startsWith('floor') ? x.usPerRequest.floor! : x.usPerRequest.api!;
    return { ...x, ratio, apiUs, verdict: x.processes === 1 ? verdict(x.route, ratio, apiUs) : '' };
  });
  let md = `### 0. Hot routes under wrk (${o.connections} connections, ${o.threads} wrk threads, ${o.seconds} s per route after 1 s of warm-up; ${wrkVersion})\n\n`;
  md += 'Targets are per API process (the 1-process rows); "API CPU µs/req" is the CPU of every API process (and the cluster primary) from /proc over the run, divided by the requests answered; the floor row shows the floor process instead.\n\n';
  md += mdTable(
    ['route', 'API processes', 'req/s', '× floor', 'p50 ms', 'p99 ms', 'API CPU µs/req', 'PG µs/req', 'Redis µs/req', 'wrk µs/req', 'API cores', 'wrk cores', 'statuses', 'target (issue 12)'],
    table.map((x) => [x.route, x.processes, fmt(x.r.rps), x.ratio, x.r.latencyMs.p50, x.r.latencyMs.p99, x.apiUs, x.usPerRequest.postgres ?? '-', x.usPerRequest.redis ?? '-', x.usPerRequest.wrk ?? '-', x.cores.api ?? '-', x.cores.wrk ?? '-', JSON.stringify(x.r.statuses), x.verdict]),
  );
  md += '\n';
  const figures = { options: o, wrk: wrkVersion, rows: table.map((x) => ({ route: x.route, processes: x.processes, rps: Math.round(x.r.rps), ratioToFloor: x.ratio, latencyMs: x.r.latencyMs, statuses: x.r.statuses, socketErrors: x.r.socketErrors, cpuUsPerRequest: x.usPerRequest, cores: x.cores, verdict: x.verdict })) };
  const title = `Hot routes under wrk (${o.connections} connections), requests/s and × the floor`;
  const svg = barSvg(title, table.map((x) => ({ label: x.route.replace(': bare Hono GET -> JSON', ''), value: x.r.rps, group: `${x.processes} API process${x.processes > 1 ? 'es' : ''}`, note: `${x.ratio} ×` })));
  return { name: 'routes', figures, markdown: md, histograms: [], charts: [{ file: 'routes.svg', title, svg }] };
}
