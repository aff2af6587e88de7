// The flash sale's HTTP client: keep-alive sockets, a bounded number of requests in flight
// (purchase steps go before waiting-room polls, so a buyer who has a pass is not stuck behind
// other buyers' polls inside the load generator), latency and status per route.
import http from 'node:http';

export type Reply = { status: number; json: any; at: number };

export class FlashClient {
  private readonly agent: http.Agent;
  private inFlight = 0;
  private readonly queues: [(() => void)[], (() => void)[]] = [[], []];
  readonly latencies: Record<string, number[]> = {};
  readonly statuses: Record<string, Record<string, number>> = {};
  /** Responses per second since `t0`, by route and status class. */
  readonly timeline: Record<string, number[]> = {};
  t0 = performance.now();

  constructor(private readonly port: number, private readonly limit: number) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: limit });
  }

  get backlog(): number {
    return this.queues[0].length + this.queues[1].length;
  }

  private async slot(priority: 0 | 1): Promise<void> {
    if (this.inFlight < this.limit) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((r) => this.queues[priority].push(r));
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
              resolve({ status: res.statusCode!, json, at: performance.now() });
            });
            res.on('error', () => resolve({ status: 0, json: null, at: performance.now() }));
          },
        );
        req.on('error', () => resolve({ status: 0, json: null, at: performance.now() }));
        req.end(data);
      });
      (this.latencies[route] ??= []).push(reply.at - started);
      const st = (this.statuses[route] ??= {});
      st[reply.status] = (st[reply.status] ?? 0) + 1;
      return reply;
    } finally {
      this.release();
    }
  }

  close(): void {
    this.agent.destroy();
  }
}
