import { ChunkBuffer } from './chunk-buffer';

/** The default of STREAM_CHUNK_BYTES; 1 gives one chunk per row, which is what the benchmark compares against. */
export const DEFAULT_CHUNK_BYTES = 32 * 1024;

/** Errors a stream whose source failed part-way; short, because the HTTP server prints it. */
export class StreamIncomplete extends Error {
  constructor(readonly rowsSent: number) {
    super(`stream failed after ${rowsSent} rows (cause logged); connection cut`);
    this.name = 'StreamIncomplete';
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** Turns rows into text. Everything but `row` is optional. */
export type RowEncoder<T> = {
  /** Written before the first row (a CSV header, `[`). */
  head?: () => string;
  /** One row; `index` counts from 0 (a JSON array puts its commas by it). */
  row: (row: T, index: number) => string;
  /** Written after the last row (`]`). */
  tail?: (rows: number) => string;
  /**
   * Ends a failed stream with a marker the client can recognise (an NDJSON error line). Without
   * it a failure aborts the connection, so the client sees a truncated transfer, never a
   * clean end.
   */
  error?: (rows: number) => string;
};

/** What the stream logs through; a pino logger fits. */
export type StreamLogger = { error(obj: object, msg: string): void; debug(obj: object, msg: string): void };

export type StreamOutcome = 'complete' | 'aborted' | 'failed';
export type StreamStats = { rows: number; chunks: number; bytes: number; ms: number; outcome: StreamOutcome };

export type ChunkedStreamOptions = {
  /** Rows are collected until the chunk reaches this many bytes (default 32 KiB). */
  chunkBytes?: number;
  /** The request's signal: a client that goes away stops the source at once. */
  signal?: AbortSignal;
  logger?: StreamLogger;
  /** Names the stream in logs. */
  name?: string;
  onFinish?: (stats: StreamStats) => void;
};

/**
 * A pull-based byte stream over an async source of row batches (a postgres.js cursor yields
 * exactly that). Rows are encoded into chunks of at least `chunkBytes` (the last may be
 * smaller; a row is never split), and the source is read only when the consumer asks for the
 * next chunk: with @hono/node-server that is when the socket has drained, so a slow client
 * holds the cursor back instead of making the server buffer the export.
 *
 * The source must tolerate `return()` while a `next()` is pending; an async generator does
 * (it runs its `finally` after the pending step), which is how a cursor is closed and its
 * connection released when the client leaves.
 */
export function chunkedStream<T>(
  source: AsyncIterable<readonly T[]>,
  encoder: RowEncoder<T>,
  opts: ChunkedStreamOptions = {},
): ReadableStream<Uint8Array> {
  // One chunk of read-ahead: the next chunk is being built while the previous is written.
  return new ReadableStream<Uint8Array>(new ChunkedSource(source, encoder, opts), { highWaterMark: 1 });
}

/** The pull side of `chunkedStream`: reads the source only when the consumer asks. */
class ChunkedSource<T> {
  private readonly chunkBytes: number;
  private readonly name: string;
  private readonly buf: ChunkBuffer;
  private iterator: AsyncIterator<readonly T[]> | undefined;
  private batch: readonly T[] = [];
  private pos = 0;
  private rows = 0;
  private chunks = 0;
  private bytes = 0;
  private started = 0;
  private finished = false;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private readonly onAbort = () => {
    if (this.finished) return;
    this.finish('aborted');
    this.stopSource();
    try {
      // Nobody reads any more; closing (not erroring) keeps the server from logging a failure.
      this.controller?.close();
    } catch {
      // already closed
    }
  };

  constructor(
    private readonly source: AsyncIterable<readonly T[]>,
    private readonly encoder: RowEncoder<T>,
    private readonly opts: ChunkedStreamOptions,
  ) {
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.name = opts.name ?? 'stream';
    this.buf = new ChunkBuffer(this.chunkBytes);
    if (opts.signal?.aborted) this.finished = true;
    else opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.controller = controller;
    if (this.finished) {
      controller.close();
      return;
    }
    if (this.encoder.head) this.buf.push(this.encoder.head());
  }

  async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    if (this.finished) return;
    this.started ||= Date.now();
    try {
      if (await this.fill()) this.emit(controller);
      else this.end(controller);
    } catch (err) {
      if (!this.finished) this.fail(controller, err);
    }
  }

  cancel(): void {
    if (this.finished) return;
    this.finish('aborted');
    this.stopSource();
  }

  /** Encodes rows until a chunk is full (true) or the source is done (false). */
  private async fill(): Promise<boolean> {
    this.iterator ??= this.source[Symbol.asyncIterator]();
    while (this.buf.size < this.chunkBytes) {
      if (this.pos < this.batch.length) {
        this.buf.push(this.encoder.row(this.batch[this.pos++]!, this.rows));
        this.rows++;
        continue;
      }
      const next = await this.iterator.next();
      if (this.finished) return true; // the client left while the source was busy
      if (next.done) return false;
      this.batch = next.value;
      this.pos = 0;
    }
    return true;
  }

  private end(controller: ReadableStreamDefaultController<Uint8Array>): void {
    if (this.encoder.tail) this.buf.push(this.encoder.tail(this.rows));
    this.emit(controller);
    controller.close();
    this.finish('complete');
  }

  private fail(controller: ReadableStreamDefaultController<Uint8Array>, err: unknown): void {
    this.opts.logger?.error({ err, stream: this.name, rows: this.rows }, 'stream failed after it had started');
    this.stopSource();
    if (this.encoder.error) {
      // Rows already collected go out first, so the error line is the last line.
      this.buf.push(this.encoder.error(this.rows));
      this.emit(controller);
      controller.close();
    } else {
      // The cause is logged above; the server cuts the connection, so the client sees an
      // incomplete transfer rather than a clean end.
      controller.error(new StreamIncomplete(this.rows));
    }
    this.finish('failed');
  }

  private emit(controller: ReadableStreamDefaultController<Uint8Array>): void {
    if (this.finished || this.buf.size === 0) return;
    this.chunks++;
    this.bytes += this.buf.size;
    controller.enqueue(this.buf.take());
  }

  private stopSource(): void {
    const it = this.iterator;
    if (!it?.return) return;
    Promise.resolve(it.return()).catch((err: unknown) =>
      this.opts.logger?.error({ err, stream: this.name }, 'stream source did not close cleanly'),
    );
  }

  private finish(outcome: StreamOutcome): void {
    this.finished = true;
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    const stats: StreamStats = { rows: this.rows, chunks: this.chunks, bytes: this.bytes, ms: this.started ? Date.now() - this.started : 0, outcome };
    this.opts.logger?.debug({ stream: this.name, ...stats }, 'stream finished');
    this.opts.onFinish?.(stats);
  }
}
