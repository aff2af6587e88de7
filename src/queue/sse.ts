const encoder = new TextEncoder();

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // nginx and similar proxies would otherwise buffer the stream
  'x-accel-buffering': 'no',
};

/** Chunks queued for a client that is not reading; past this it is dropped. */
const MAX_BACKLOG = 64;

/**
 * One Server-Sent Events response. No timer and no listener of its own: the process's
 * queue hub drives every stream from one tick, and the body's cancel (client gone)
 * runs `onClose` at once.
 */
export class SseStream {
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private done = false;
  private readonly body: ReadableStream<Uint8Array>;

  constructor(private readonly onClose: () => void) {
    this.body = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.controller = c;
      },
      cancel: () => this.finish(),
    });
  }

  /** The HTTP response carrying the stream (built on demand, not kept per stream). */
  response(): Response {
    return new Response(this.body, { status: 200, headers: SSE_HEADERS });
  }

  /** What HEAD gets: the stream's headers, no stream and nothing watching. */
  static headResponse(): Response {
    return new Response(null, { status: 200, headers: SSE_HEADERS });
  }

  get closed(): boolean {
    return this.done;
  }

  /** False when the client is this far behind: callers skip what a later event supersedes. */
  get writable(): boolean {
    return !this.done && (this.controller.desiredSize ?? 0) > -8;
  }

  send(event: string, id: string, data: unknown): void {
    this.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Sets the client's reconnection delay. */
  retry(ms: number): void {
    this.write(`retry: ${Math.round(ms)}\n\n`);
  }

  comment(text: string): void {
    this.write(`: ${text}\n\n`);
  }

  /** Ends the stream; with retryMs, tells the client when to reconnect (EventSource does). */
  close(retryMs?: number): void {
    if (this.done) return;
    if (retryMs !== undefined) this.retry(retryMs);
    this.finish();
    try {
      this.controller.close();
    } catch {
      // already errored or cancelled
    }
  }

  private write(text: string): void {
    if (this.done) return;
    if ((this.controller.desiredSize ?? 0) < -MAX_BACKLOG) {
      this.close();
      return;
    }
    this.controller.enqueue(encoder.encode(text));
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.onClose();
  }
}
