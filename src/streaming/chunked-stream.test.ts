import { describe, expect, it } from 'vitest';
import { ChunkBuffer } from './chunk-buffer';
import { loadConfig } from '../config/config';
import { chunkedStream, StreamIncomplete, type StreamStats } from './chunked-stream';
import { csvEncoder, csvField, jsonArrayEncoder, ndjsonEncoder } from './encoders';

async function readChunks(stream: ReadableStream<Uint8Array>): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return chunks;
}

async function* batches<T>(rows: T[], size: number, onPull?: (n: number) => void) {
  for (let i = 0; i < rows.length; i += size) {
    onPull?.(i);
    yield rows.slice(i, i + size);
  }
}

const ndjson = ndjsonEncoder((r: { id: number; s: string }) => r);

function capture() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  return {
    lines,
    logger: {
      error: (obj: Record<string, unknown>, msg: string) => void lines.push({ level: 'error', obj, msg }),
      debug: () => {},
    },
  };
}

describe('chunkedStream', () => {
  it('cuts chunks at the threshold, never splitting a row, multibyte text included', async () => {
    const rows = Array.from({ length: 5_000 }, (_, i) => ({ id: i, s: 'ž€😀x'.repeat(i % 37) }));
    let stats: StreamStats | undefined;
    const chunks = await readChunks(
      chunkedStream(batches(rows, 333), ndjson, { chunkBytes: 4096, onFinish: (s) => (stats = s) }),
    );
    expect(chunks.length).toBeGreaterThan(10);
    chunks.forEach((c, i) => {
      if (i < chunks.length - 1) expect(c.length).toBeGreaterThanOrEqual(4096);
      // a chunk ends exactly at a row end, so every chunk decodes on its own
      expect(c.at(-1)).toBe(0x0a);
      expect(() => c.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l))).not.toThrow();
    });
    const back = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(back).toEqual(rows);
    expect(stats).toMatchObject({ rows: 5_000, chunks: chunks.length, outcome: 'complete' });
    expect(stats!.bytes).toBe(Buffer.concat(chunks).length);
  });

  it('a chunk stays close to the threshold even when one batch holds many chunks', async () => {
    const rows = Array.from({ length: 2_000 }, (_, i) => ({ id: i, s: 'abcdefghij' }));
    const chunks = await readChunks(chunkedStream(batches(rows, 2_000), ndjson, { chunkBytes: 1024 }));
    const longestRow = Math.max(...rows.map((r) => JSON.stringify(r).length + 1));
    for (const c of chunks.slice(0, -1)) expect(c.length).toBeLessThan(1024 + longestRow);
  });

  it('an empty source gives head and tail only (NDJSON: no bytes at all)', async () => {
    expect(await readChunks(chunkedStream(batches([], 10), ndjson))).toEqual([]);
    const arr = await readChunks(chunkedStream(batches<number>([], 10), jsonArrayEncoder()));
    expect(Buffer.concat(arr).toString()).toBe('[]');
  });

  it('one row is one chunk, with head and tail', async () => {
    const csv = csvEncoder<{ a: string }>([{ header: 'a', value: (r) => r.a }]);
    const chunks = await readChunks(chunkedStream(batches([{ a: 'x,y' }], 10), csv));
    expect(chunks.map(String)).toEqual(['a\r\n"x,y"\r\n']);
    const arr = await readChunks(chunkedStream(batches([{ seat: 'A-1-1' }], 10), jsonArrayEncoder()));
    expect(arr.map(String)).toEqual(['[{"seat":"A-1-1"}]']);
  });

  it('chunkBytes 1 writes one chunk per row', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: i, s: '' }));
    const chunks = await readChunks(chunkedStream(batches(rows, 7), ndjson, { chunkBytes: 1 }));
    expect(chunks.length).toBe(50);
  });

  it('NDJSON: a failure part-way ends with an error line after the rows already read, and is logged', async () => {
    async function* failing() {
      yield Array.from({ length: 100 }, (_, i) => ({ id: i, s: 'ok' }));
      throw new Error('boom in the database');
    }
    const log = capture();
    let stats: StreamStats | undefined;
    const chunks = await readChunks(
      chunkedStream(failing(), ndjson, { chunkBytes: 512, logger: log.logger, onFinish: (s) => (stats = s) }),
    );
    const lines = Buffer.concat(chunks).toString().trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(101);
    expect(lines[99]).toEqual({ id: 99, s: 'ok' });
    expect(lines[100]).toEqual({
      error: { code: 'STREAM_INCOMPLETE', message: expect.any(String), details: { rowsSent: 100 } },
    });
    expect(JSON.stringify(lines[100])).not.toContain('boom'); // internals stay in the log
    expect(log.lines).toHaveLength(1);
    expect((log.lines[0]!.obj.err as Error).message).toBe('boom in the database');
    expect(stats?.outcome).toBe('failed');
  });

  it('without an error marker (CSV, JSON array) a failure errors the stream, so the transfer is cut', async () => {
    async function* failing() {
      yield [1, 2, 3];
      throw new Error('redis went away');
    }
    const log = capture();
    await expect(readChunks(chunkedStream(failing(), jsonArrayEncoder(), { logger: log.logger }))).rejects.toThrow(StreamIncomplete);
    expect(log.lines).toHaveLength(1);
    expect((log.lines[0]!.obj.err as Error).message).toBe('redis went away');
  });

  it('an encoder that throws stops the source too', async () => {
    let closed = false;
    async function* src() {
      try {
        for (let i = 0; ; i++) yield [i];
      } finally {
        closed = true;
      }
    }
    const enc = { row: (r: number) => { if (r === 5) throw new Error('bad row'); return `${r}\n`; }, error: () => 'ERR\n' };
    const out = Buffer.concat(await readChunks(chunkedStream(src(), enc, { chunkBytes: 1, logger: capture().logger }))).toString();
    expect(out).toBe('0\n1\n2\n3\n4\nERR\n');
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(true);
  });

  it('cancelling the stream closes the source (its finally runs) even while a read is pending', async () => {
    let closed = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* src() {
      try {
        yield [{ id: 1, s: 'a' }];
        await gate; // a slow query
        yield [{ id: 2, s: 'b' }];
        yield [{ id: 3, s: 'never' }];
      } finally {
        closed = true;
      }
    }
    let stats: StreamStats | undefined;
    const reader = chunkedStream(src(), ndjson, { chunkBytes: 1, onFinish: (s) => (stats = s) }).getReader();
    await reader.read();
    const pending = reader.read(); // pull is now waiting on the gate
    await new Promise((r) => setTimeout(r, 10));
    await reader.cancel('client left');
    expect(stats?.outcome).toBe('aborted');
    expect(closed).toBe(false); // the generator is still inside its await
    release();
    await pending;
    await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(true);
  });

  it('an aborted request signal stops the source and ends the stream', async () => {
    let closed = false;
    async function* src() {
      try {
        for (let i = 0; ; i++) yield [{ id: i, s: 'x' }];
      } finally {
        closed = true;
      }
    }
    const ac = new AbortController();
    const reader = chunkedStream(src(), ndjson, { chunkBytes: 64, signal: ac.signal }).getReader();
    await reader.read();
    ac.abort();
    expect((await reader.read()).done).toBe(true);
    await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(true);
  });

  it('reads the source only as fast as the consumer reads (one chunk ahead at most)', async () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => ({ id: i, s: 'x'.repeat(50) }));
    let pulledUpTo = 0;
    const reader = chunkedStream(batches(rows, 100, (i) => (pulledUpTo = i + 100)), ndjson, { chunkBytes: 8192 }).getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 50));
    // ~130 rows make a chunk: one read, one chunk ahead, plus the batch being cut
    expect(pulledUpTo).toBeLessThanOrEqual(500);
    await reader.cancel();
  });
});

describe('ChunkBuffer', () => {
  it('grows past its initial size and reuses its scratch after take()', () => {
    const b = new ChunkBuffer(8);
    b.push('€'.repeat(1000));
    expect(b.size).toBe(3000);
    expect(b.take().toString()).toBe('€'.repeat(1000));
    expect(b.size).toBe(0);
    b.push('ok');
    expect(b.take().toString()).toBe('ok');
  });
});

describe('csvField and config', () => {
  it('quotes only what needs quoting', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(42)).toBe('42');
  });

  it('STREAM_CHUNK_BYTES defaults to 32 KiB and rejects nonsense', () => {
    expect(loadConfig({}).stream.chunkBytes).toBe(32 * 1024);
    expect(loadConfig({ STREAM_CHUNK_BYTES: '65536' }).stream.chunkBytes).toBe(65536);
    expect(() => loadConfig({ STREAM_CHUNK_BYTES: '0' })).toThrow(/STREAM_CHUNK_BYTES/);
    expect(() => loadConfig({ STREAM_CHUNK_BYTES: 'big' })).toThrow(/STREAM_CHUNK_BYTES/);
  });
});
