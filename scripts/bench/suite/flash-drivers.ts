// The flash sale's load generator spread over several processes: each driver (flash-driver.ts,
// forked with tsx) owns a slice of the buyers and its own HTTP agent; this side sends the
// commands, keeps every driver's once-a-second ticks and merges what they measured.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mergeStats, type ClientStats } from './client';
import type { DriverInit, DriverResult, DriverTick, FromDriver, ToDriver } from './flash-protocol';
import type { BuyerOutcome } from './flash-sale';

const DRIVER = fileURLToPath(new URL('./flash-driver.ts', import.meta.url));

export class Drivers {
  readonly ticks: DriverTick[] = [];
  private readonly latest = new Map<number, DriverTick>();
  private readonly waiting = new Map<string, { want: number; got: FromDriver[]; done: (m: FromDriver[]) => void }>();
  private failure: Error | null = null;

  private constructor(private readonly procs: ChildProcess[]) {
    procs.forEach((p, i) => {
      p.on('message', (m: FromDriver) => this.receive(m));
      p.on('exit', (code, signal) => {
        if (code !== 0 && !this.closing) this.fail(new Error(`flash driver ${i} exited: code ${code}, signal ${signal}`));
      });
    });
  }

  private closing = false;

  /** Forks `inits.length` drivers and waits until each has signed its buyers' tokens. */
  static async start(inits: DriverInit[]): Promise<Drivers> {
    const procs = inits.map(() =>
      fork(DRIVER, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    const d = new Drivers(procs);
    const ready = d.expect('ready', inits.length);
    inits.forEach((init, i) => procs[i]!.send({ type: 'init', init } satisfies ToDriver));
    await ready;
    return d;
  }

  get count(): number {
    return this.procs.length;
  }

  pids(): number[] {
    return this.procs.map((p) => p.pid!).filter(Boolean);
  }

  /** The newest tick of every driver. */
  current(): DriverTick[] {
    return [...this.latest.values()].sort((a, b) => a.index - b.index);
  }

  send(i: number, m: ToDriver): void {
    this.procs[i]!.send(m);
  }

  broadcast(m: ToDriver): void {
    for (const p of this.procs) if (p.connected) p.send(m);
  }

  /** Resolves with one `type` message from each of `n` drivers (or rejects when one fails). */
  expect<T extends FromDriver['type']>(type: T, n = this.procs.length): Promise<Extract<FromDriver, { type: T }>[]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(type, { want: n, got: [], done: resolve as (m: FromDriver[]) => void });
      this.rejectors.add(reject);
    });
  }

  private readonly rejectors = new Set<(e: Error) => void>();

  private receive(m: FromDriver): void {
    if (m.type === 'tick') {
      this.ticks.push(m.tick);
      this.latest.set(m.tick.index, m.tick);
      return;
    }
    if (m.type === 'error') return this.fail(new Error(`flash driver ${m.index}: ${m.message}`));
    const w = this.waiting.get(m.type);
    if (!w) return;
    w.got.push(m);
    if (w.got.length === w.want) {
      this.waiting.delete(m.type);
      w.done(w.got);
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const r of this.rejectors) r(e);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const p of this.procs) {
      if (p.exitCode !== null) continue;
      const exited = new Promise((r) => p.once('exit', r));
      p.disconnect();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (p.exitCode === null) p.kill('SIGKILL');
    }
  }
}

/** Every driver's buyers as one outcome, and every driver's measurements as one client's. */
export function mergeResults(results: DriverResult[]): { outcome: BuyerOutcome; stats: ClientStats; cpuSeconds: number[] } {
  const sorted = [...results].sort((a, b) => a.index - b.index);
  const counts = { ...sorted[0]!.outcome.counts };
  for (const r of sorted.slice(1)) for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] += r.outcome.counts[k];
  const lateOutcomes: Record<string, number> = {};
  for (const r of sorted) for (const [k, n] of Object.entries(r.outcome.lateOutcomes)) lateOutcomes[k] = (lateOutcomes[k] ?? 0) + n;
  const outcome: BuyerOutcome = {
    counts,
    confirmedIds: new Map(sorted.flatMap((r) => r.outcome.confirmedIds)),
    abandonedIds: new Set(sorted.flatMap((r) => r.outcome.abandonedIds)),
    lateIds: new Set(sorted.flatMap((r) => r.outcome.lateIds)),
    failedIds: new Set(sorted.flatMap((r) => r.outcome.failedIds)),
    lateOutcomes,
  };
  return { outcome, stats: mergeStats(sorted), cpuSeconds: sorted.map((r) => r.cpuSeconds) };
}
