// Scenario 6: cost growth. Events of 1,000 / 10,000 / 100,000 seats are held out completely
// (2 adjacent seats per request, every request a new user) through 1 and through 2 API
// processes; for each: holds/s, latency, and CPU per hold of the API, PostgreSQL and Redis.
import { cannon, mergeResults, type CannonResult } from './cannon';
import { CpuMeter } from './cpu';
import { createEvent, mdTable, progress, signTokens, type ScenarioResult } from './common';
import { reserveShots } from './reserve-load';
import { startProcess, stopProcess, type BenchEnv, type Proc } from './stack';
import { fmt } from './stats';

const SIZES = [
  { seats: 1_000, rows: 20, perRow: 50 },
  { seats: 10_000, rows: 100, perRow: 100 },
  { seats: 100_000, rows: 200, perRow: 500 },
];

export async function growth(be: BenchEnv, api1: Proc, cpu: CpuMeter, extraApis: Proc[], o: { connections: number; maxSeats: number }): Promise<ScenarioResult> {
  progress('growth: starting a second API process');
  const api2 = await startProcess(be, 'api', 'api-2');
  extraApis.push(api2);
  const sizes = SIZES.filter((s) => s.seats <= o.maxSeats);
  const tokens = await signTokens(be.config.jwtSecret, Math.max(...sizes.map((s) => s.seats / 2)));
  const rows: Record<string, unknown>[] = [];
  const latencies: { name: string; latencies: number[] }[] = [];
  try {
    for (const size of sizes) {
      for (const apis of [[api1], [api1, api2]]) {
        const { row, latencies: lat } = await measureSize(be, cpu, apis, tokens, size, o.connections);
        rows.push(row);
        latencies.push({ name: `${fmt(size.seats)} seats, ${apis.length} API`, latencies: lat });
      }
    }
  } finally {
    await stopProcess(api2);
    extraApis.splice(extraApis.indexOf(api2), 1);
  }
  let md = `### 6. Cost growth: hold out whole events (2 seats per request, ${o.connections} connections in total)\n\n`;
  md += mdTable(
    ['seats per event', 'events', 'API processes', 'holds', 'wall s', 'holds/s', 'p50 ms', 'p99 ms', 'API CPU µs/hold', 'PG CPU µs/hold', 'Redis CPU µs/hold', 'load generator CPU µs/hold', 'API cores used', 'all processes: cores used'],
    rows.map((r) => [fmt(r.seats as number), r.events as number, r.apiProcesses as number, fmt(r.holds as number), r.seconds as number, fmt(r.holdsPerSecond as number), r.p50 as number, r.p99 as number, r.apiCpuUsPerHold as number, r.postgresCpuUsPerHold as number, r.redisCpuUsPerHold as number, r.driverCpuUsPerHold as number, r.apiCores as number, r.allCores as number]),
  );
  md += '\n';
  return {
    name: 'growth',
    figures: { connections: o.connections, runs: rows },
    markdown: md,
    histograms: [{ file: 'growth.svg', title: 'Scenario 6: reserve latency by event size and API processes', series: latencies }],
  };
}

type Size = (typeof SIZES)[number];

/** One event size through one set of API processes: holds/s, latency, CPU per hold. */
async function measureSize(be: BenchEnv, cpu: CpuMeter, apis: Proc[], tokens: { sub: string; token: string }[], size: Size, connections: number) {
  // Small events are held out several times over (each a new event of the same size), so
  // every configuration serves at least 10,000 holds and its CPU figures are not noise.
  const repeats = Math.max(1, Math.ceil(20_000 / size.seats));
  const events: string[] = [];
  for (let e = 0; e < repeats; e++) {
    events.push(
      await createEvent(apis[0]!.port, be.adminToken, {
        name: `bench growth ${size.seats}`,
        zones: [{ code: 'A', name: 'Block A', priceCents: 9000, kind: 'seated', rows: size.rows, seatsPerRow: size.perRow }],
      }),
    );
  }
  const a = cpu.sample();
  const parts: CannonResult[] = [];
  for (const eventId of events) {
    const shots = reserveShots({ eventId, tokens, seated: { zone: 'A', rows: size.rows, perRow: size.perRow }, seatsPerHold: 2 });
    parts.push(await cannon({ ports: apis.map((p) => p.port), connections: connections, amount: size.seats / 2, next: shots.next }));
  }
  const secs = CpuMeter.seconds(a, cpu.sample());
  const r = mergeResults(parts);
  const holds = r.statuses['201'] ?? 0;
  const apiCpu = apis.reduce((s, p) => s + (secs[p.name] ?? 0), 0);
  const per = (s: number) => (holds ? Math.round((s * 1e6) / holds) : NaN);
  const row = {
    seats: size.seats,
    events: repeats,
    apiProcesses: apis.length,
    requests: r.requests,
    holds,
    statuses: r.statuses,
    seconds: Math.round(r.seconds * 100) / 100,
    holdsPerSecond: Math.round(holds / r.seconds),
    p50: r.latency.p50,
    p99: r.latency.p99,
    apiCpuUsPerHold: per(apiCpu),
    postgresCpuUsPerHold: per(secs.postgres ?? 0),
    redisCpuUsPerHold: per(secs.redis ?? 0),
    driverCpuUsPerHold: per(secs['bench driver'] ?? 0),
    apiCores: Math.round((apiCpu / r.seconds) * 100) / 100,
    allCores: Math.round((Object.values(secs).reduce((x, y) => x + y, 0) / r.seconds) * 100) / 100,
  };
  progress(`growth: ${fmt(size.seats)} seats, ${apis.length} API: ${fmt(row.holdsPerSecond)} holds/s, p99 ${row.p99} ms, API ${row.apiCpuUsPerHold} µs CPU/hold, PG ${row.postgresCpuUsPerHold} µs/hold, statuses ${JSON.stringify(r.statuses)}`);
  return { row, latencies: r.latencies };
}
