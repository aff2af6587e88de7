// The flash sale's HTTP client: keep-alive sockets, a bounded number of requests in flight
// (purchase steps go before waiting-room polls, so a buyer who has a pass is not stuck behind
// other buyers' polls inside the load generator), latency and status per route. Each flash
// driver process owns one; `backlog` (requests asked for but not yet sent) is what tells
// whether the figures describe the server or the driver.
import http from 'node:http';

/** `retryAfter`: the Retry-After header in seconds (503, 429), NaN when absent. */
export type Reply = { status: number; json: any; at: number; retryAfter: number };

/** What a client measured; the flash drivers' copies are merged into one of these. */
export type ClientStats = {
  latencies: Record<string, number[]>;
  statuses: Record<string, Record<string, number>>;
  /** Responses per second since the opening, by series. */
  timeline: Record<string, number[]>;
  /** ms each request waited inside the driver for a free slot before it was sent. */
  slotWaits: number[];
};

export class FlashClient implements ClientStats {
  private readonly agent: http.Agent;
  private inFlight = 0;
  private readonly queues: [(() => void)[], (() => void)[]] = [[], []];
  readonly latencies: Record<string, number[]> = {};
  readonly statuses: Record<string, Record<string, number>> = {};
  readonly timeline: Record<string, number[]> = {};
  readonly slotWaits: number[] = [];
  /** The largest backlog since the last `takePeakBacklog`. */
  private peakBacklog = 0;
  t0 = performance.now();

  constructor(private readonly port: number, private readonly limit: number) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: limit });
  }

  get backlog(): number {
    return this.queues[0].length + this.queues[1].length;
  }

  /** The part of the backlog that is waiting-room polls (they yield to purchase steps). */
  get pollBacklog(): number {
    return this.queues[1].length;
  }

  get active(): number {
    return this.inFlight;
  }

  takePeakBacklog(): number {
    const p = Math.max(this.peakBacklog, this.backlog);
    this.peakBacklog = this.backlog;
    return p;
  }

  private async slot(priority: 0 | 1): Promise<void> {
    if (this.inFlight < this.limit) {
      this.inFlight++;
      this.slotWaits.push(0);
      return;
    }
    const asked = performance.now();
    await new Promise<void>((r) => {
      this.queues[priority].push(r);
      if (this.backlog > this.peakBacklog) this.peakBacklog = this.backlog;
    });
    this.slotWaits.push(performance.now() - asked);
  }

  private release(): void {
    const next = this.queues[0].shift() ?? this.queues[1].shift();
    if (next) next();
    else this.inFlight--;
  }

  mark(series: string, at = performance.now()): void {
    const sec = Math.floor((at - this.t0) / 1000);
    if (sec < 0) return;
    const t = (this.timeline[series] ??= []);
    while (t.length <= sec) t.push(0);
    t[sec]!++;
  }

  /** A latency that spans several requests (checkout → confirmed), under its own name. */
  observe(series: string, ms: number): void {
    (this.latencies[series] ??= []).push(ms);
  }

  async request(route: string, method: string, path: string, o: { token?: string; body?: unknown; headers?: Record<string, string>; priority?: 0 | 1 } = {}): Promise<Reply> {
    await this.slot(o.priority ?? 0);
    const started = performance.now();
    try {
      const reply = await new Promise<Reply>((resolve) => {
        const data = o.body === undefined ? undefined : JSON.stringify(o.body);
        const req = http.request(
          {
            host: '127.0.0.1',
            port: this.port,
            method,
            path,
            agent: this.agent,
            headers: {
              ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
              ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
              ...o.headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (d: Buffer) => chunks.push(d));
            res.on('end', () => {
              let json: unknown = null;
              try {
                json = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : null;
              } catch {}
              resolve({ status: res.statusCode!, json, at: performance.now(), retryAfter: Number(res.headers['retry-after'] ?? NaN) });
            });
            res.on('error', () => resolve({ status: 0, json: null, at: performance.now(), retryAfter: NaN }));
          },
        );
        req.on('error', () => resolve({ status: 0, json: null, at: performance.now(), retryAfter: NaN }));
        req.end(data);
      });
      (this.latencies[route] ??= []).push(reply.at - started);
      // Error answers by code too: a 503 while the inventory is rebuilt is not a 503 of overload.
      const code = reply.status >= 400 ? reply.json?.error?.code : undefined;
      const key = code ? `${reply.status} ${code}` : String(reply.status);
      const st = (this.statuses[route] ??= {});
      st[key] = (st[key] ?? 0) + 1;
      return reply;
    } finally {
      this.release();
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Several drivers' measurements as one (latencies concatenated, counts and seconds added). */
export function mergeStats(parts: ClientStats[]): ClientStats {
  const out: ClientStats = { latencies: {}, statuses: {}, timeline: {}, slotWaits: [] };
  for (const p of parts) {
    for (const [r, l] of Object.entries(p.latencies)) {
      const into = (out.latencies[r] ??= []);
      for (const v of l) into.push(v);
    }
    for (const [r, s] of Object.entries(p.statuses)) {
      const into = (out.statuses[r] ??= {});
      for (const [code, n] of Object.entries(s)) into[code] = (into[code] ?? 0) + n;
    }
    for (const [name, series] of Object.entries(p.timeline)) {
      const into = (out.timeline[name] ??= []);
      series.forEach((n, i) => {
        while (into.length <= i) into.push(0);
        into[i]! += n;
      });
    }
    for (const v of p.slotWaits) out.slotWaits.push(v);
  }
  return out;
}
