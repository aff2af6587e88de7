/**
 * Collects encoded rows into one reusable scratch buffer and hands out a chunk once it is
 * full. Encoding straight into the scratch avoids a string join per chunk; the scratch is
 * reused for the life of the stream, and only a finished chunk gets its own allocation
 * (the socket or gzip holds it until written, so it cannot be the scratch).
 */
export class ChunkBuffer {
  private scratch: Buffer;
  private used = 0;

  constructor(initialBytes: number) {
    this.scratch = Buffer.allocUnsafe(Math.max(1024, initialBytes + (initialBytes >> 2)));
  }

  get size(): number {
    return this.used;
  }

  push(text: string): void {
    // A UTF-16 code unit never needs more than 3 UTF-8 bytes, so this is a safe upper bound.
    const worst = text.length * 3;
    if (this.used + worst > this.scratch.length) this.grow(this.used + worst);
    this.used += this.scratch.write(text, this.used, 'utf8');
  }

  /** The bytes collected so far, as a chunk of their own; the scratch starts over. */
  take(): Buffer {
    const chunk = Buffer.allocUnsafe(this.used);
    this.scratch.copy(chunk, 0, 0, this.used);
    this.used = 0;
    return chunk;
  }

  private grow(atLeast: number): void {
    const next = Buffer.allocUnsafe(Math.max(atLeast, this.scratch.length * 2));
    this.scratch.copy(next, 0, 0, this.used);
    this.scratch = next;
  }
}
