import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';

export type JobFn = (signal: AbortSignal) => Promise<unknown>;

/**
 * Thrown by a job that chose not to run (its dependency is known to be down, see
 * postgres-gate.ts): counted as a run that did no work, not logged again on every tick.
 */
export class JobSkipped extends Error {
  constructor(readonly reason: string) {
    super(`job skipped: ${reason}`);
  }
}

type Job = { name: string; intervalMs: number; fn: JobFn };

/**
 * Runs named jobs on fixed intervals in one process: a run never overlaps the previous one
 * of the same job, the wait starts after a run ends, and a failed run is logged and retried
 * on the next tick. Safety between processes is each job's own business (SKIP LOCKED, Lua).
 */
export class JobRunner {
  private readonly jobs = new Map<string, Job>();
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly hooks: { onRun?: (job: string, ms: number, ok: boolean) => void } = {},
  ) {}

  /** Registering one name twice is a wiring bug: fail at start-up, not at 3 a.m. */
  every(name: string, intervalMs: number, fn: JobFn): this {
    if (this.jobs.has(name)) throw new Error(`job ${name} registered twice`);
    if (!(intervalMs > 0)) throw new Error(`job ${name}: interval must be positive`);
    this.jobs.set(name, { name, intervalMs, fn });
    return this;
  }

  start(): void {
    this.loops = [...this.jobs.values()].map((j) => this.loop(j));
  }

  /** Stops scheduling and waits for the runs in progress (they see the abort signal). */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  private async loop(job: Job): Promise<void> {
    const signal = this.abort.signal;
    // Spread the first runs so processes started together do not tick in lockstep.
    await sleep(Math.random() * Math.min(job.intervalMs, 1_000), undefined, { signal }).catch(() => {});
    while (!signal.aborted) {
      const started = performance.now();
      let ok = true;
      try {
        await job.fn(signal);
      } catch (err) {
        ok = false;
        // A skip is no success either (alerts on stalled jobs must still see it).
        if (!(err instanceof JobSkipped)) this.logger.error({ err, job: job.name }, 'job run failed');
      }
      this.hooks.onRun?.(job.name, performance.now() - started, ok);
      await sleep(job.intervalMs, undefined, { signal }).catch(() => {});
    }
  }
}
