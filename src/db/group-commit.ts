/**
 * Group commit: callers add one item each and await their own result, while the batcher
 * writes many items per statement. Up to `concurrency` flushes run at once; while all are
 * busy, new items queue and leave together in the next flush. An idle system therefore
 * writes each item at once (no linger), and a busy one writes large batches.
 */
export type FlushResult<R> = R | Error;

export type GroupCommitOptions<T, R> = {
  maxBatch: number;
  concurrency: number;
  /** Must return one result (or Error) per item, in order; a throw fails the whole batch. */
  flush: (items: T[]) => Promise<FlushResult<R>[]>;
  onBatch?: (size: number, ms: number) => void;
};

type Pending<T, R> = { item: T; resolve: (r: R) => void; reject: (e: unknown) => void };

export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = [];
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: GroupCommitOptions<T, R>) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once every item added so far has been written (used on shutdown). */
  drain(): Promise<void> {
    if (!this.queue.length && !this.running) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  get pending(): number {
    return this.queue.length;
  }

  private pump(): void {
    while (this.queue.length && this.running < this.opts.concurrency) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.running++;
      void this.run(batch);
    }
    if (!this.queue.length && !this.running) this.idleWaiters.splice(0).forEach((w) => w());
  }

  private async run(batch: Pending<T, R>[]): Promise<void> {
    const started = performance.now();
    try {
      const results = await this.opts.flush(batch.map((p) => p.item));
      if (results.length !== batch.length) throw new Error('group commit: result count mismatch');
      batch.forEach((p, i) => {
        const r = results[i];
        if (r instanceof Error) p.reject(r);
        else p.resolve(r as R);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.opts.onBatch?.(batch.length, performance.now() - started);
      this.running--;
      this.pump();
    }
  }
}
