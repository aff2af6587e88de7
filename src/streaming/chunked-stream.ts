import { ChunkBuffer } from './chunk-buffer';

export const DEFAULT_CHUNK_BYTES = 32 * 1024;

/**
 * STREAM_CHUNK_BYTES, read where the routes are wired (not on import). 1 gives one chunk per
 * row, which is what the benchmark compares against.
 */
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
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const name = opts.name ?? 'stream';
  const buf = new ChunkBuffer(chunkBytes);
  let iterator: AsyncIterator<readonly T[]> | undefined;
  let batch: readonly T[] = [];
  let pos = 0;
  let rows = 0;
  let chunks = 0;
  let bytes = 0;
  let started = 0;
  let finished = false;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;

  const emit = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (buf.size === 0) return;
    chunks++;
    bytes += buf.size;
    controller.enqueue(buf.take());
  };

  const stopSource = () => {
    const it = iterator;
    if (!it?.return) return;
    Promise.resolve(it.return()).catch((err: unknown) => opts.logger?.error({ err, stream: name }, 'stream source did not close cleanly'));
  };

  const onAbort = () => {
    if (finished) return;
    finish('aborted');
    stopSource();
    try {
      // Nobody reads any more; closing (not erroring) keeps the server from logging a failure.
      controllerRef?.close();
    } catch {
      // already closed
    }
  };

  function finish(outcome: StreamOutcome) {
    finished = true;
    opts.signal?.removeEventListener('abort', onAbort);
    const stats: StreamStats = { rows, chunks, bytes, ms: started ? Date.now() - started : 0, outcome };
    opts.logger?.debug({ stream: name, ...stats }, 'stream finished');
    opts.onFinish?.(stats);
  }

  if (opts.signal?.aborted) finished = true;
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controllerRef = controller;
        if (finished) {
          controller.close();
          return;
        }
        if (encoder.head) buf.push(encoder.head());
      },

      async pull(controller) {
        if (finished) return;
        started ||= Date.now();
        try {
          iterator ??= source[Symbol.asyncIterator]();
          while (buf.size < chunkBytes) {
            if (pos < batch.length) {
              buf.push(encoder.row(batch[pos++]!, rows));
              rows++;
              continue;
            }
            const next = await iterator.next();
            if (finished) return; // the client left while the source was busy
            if (next.done) {
              if (encoder.tail) buf.push(encoder.tail(rows));
              emit(controller);
              controller.close();
              finish('complete');
              return;
            }
            batch = next.value;
            pos = 0;
          }
          emit(controller);
        } catch (err) {
          if (finished) return;
          opts.logger?.error({ err, stream: name, rows }, 'stream failed after it had started');
          stopSource();
          if (encoder.error) {
            // Rows already collected go out first, so the error line is the last line.
            buf.push(encoder.error(rows));
            emit(controller);
            controller.close();
          } else {
            // The cause is logged above; the server cuts the connection, so the client sees an
            // incomplete transfer rather than a clean end.
            controller.error(new StreamIncomplete(rows));
          }
          finish('failed');
        }
      },

      cancel() {
        if (finished) return;
        finish('aborted');
        stopSource();
      },
    },
    // One chunk of read-ahead: the next chunk is being built while the previous is written.
    { highWaterMark: 1 },
  );
}
