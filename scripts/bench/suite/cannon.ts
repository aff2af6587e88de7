// autocannon (programmatic API) with every response's latency kept, so runs can be merged
// and drawn as histograms. Several targets (one per API process) run at once, sharing the
// connection count.
import autocannon from 'autocannon';
import { summarize, type LatencySummary } from './stats';

export type Shot = {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
};

export type CannonResult = {
  requests: number;
  seconds: number;
  rps: number;
  statuses: Record<string, number>;
  errors: number;
  latency: LatencySummary;
  latencies: number[];
};

export async function cannon(o: {
  ports: number[];
  connections: number;
  /** Fixed duration (s) or a total number of requests (whichever is given). */
  duration?: number;
  amount?: number;
  /** Builds each request (new user, seats, Idempotency-Key), or null to stop early. */
  next: () => Shot | null;
}): Promise<CannonResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  // Timed from the first request built to the last response: autocannon itself ends an
  // `amount` run on its once-a-second tick, which would pad short runs.
  let first = 0;
  let last = 0;
  const t0 = performance.now();
  const per = (n: number, i: number) => Math.floor(n / o.ports.length) + (i < n % o.ports.length ? 1 : 0);
  await Promise.all(
    o.ports.map(
      (port, i) =>
        new Promise<void>((resolve, reject) => {
          const inst = autocannon(
            {
              url: `http://127.0.0.1:${port}`,
              connections: per(o.connections, i),
              ...(o.amount ? { amount: per(o.amount, i) } : { duration: o.duration ?? 5 }),
              timeout: 30,
              requests: [
                {
                  setupRequest: (req: autocannon.Request) => {
                    if (!first) first = performance.now();
                    const s = o.next();
                    if (!s) return null as unknown as autocannon.Request;
                    return { ...req, method: s.method, path: s.path, headers: { ...s.headers }, body: s.body };
                  },
                },
              ],
            },
            (err) => (err ? reject(err) : resolve()),
          );
          inst.on('response', (_c: unknown, status: number, _b: number, ms: number) => {
            latencies.push(ms);
            last = performance.now();
            statuses[status] = (statuses[status] ?? 0) + 1;
          });
          inst.on('reqError', () => errors++);
        }),
    ),
  );
  const seconds = (last > first && first ? last - first : performance.now() - t0) / 1000;
  return {
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    statuses,
    errors,
    latency: summarize(latencies),
    latencies,
  };
}

/** Several runs as one: requests and time add up, latencies are pooled. */
export function mergeResults(parts: CannonResult[]): CannonResult {
  const latencies = parts.flatMap((p) => p.latencies);
  const seconds = parts.reduce((a, p) => a + p.seconds, 0);
  const statuses: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    statuses,
    errors: parts.reduce((a, p) => a + p.errors, 0),
    latency: summarize(latencies),
    latencies,
  };
}
