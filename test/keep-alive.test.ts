import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../src/http/server';
import { startHarness, type Harness } from './harness';

// Early answers (413, 401, 404, a chunked upload refused) against a real listening server,
// with a raw keep-alive client: after each answer the connection must either be usable for
// the next request on the same socket, or the answer must have said `Connection: close`.

let h: Harness;
let server: HttpServer;
let port: number;
let eventId: string;
let token: string;
beforeAll(async () => {
  // Development: the dev sign-in route exists only there.
  h = await startHarness({ BODY_LIMIT_BYTES: '4096', NODE_ENV: 'development' });
  eventId = (await h.createEvent()).id;
  token = await h.token('keep-alive-buyer');
  // The API's own server (src/http/server.ts), as src/api.ts starts it.
  server = await startHttpServer(h.app.fetch, { host: '127.0.0.1', port: 0, requestTimeoutMs: h.config.requestTimeoutMs, maxHeaderBytes: h.config.maxHeaderBytes, logger: h.core.logger });
  port = server.port;
});
afterAll(async () => {
  await server.close();
  await h.close();
});

type Answer = { status: number; headers: Record<string, string>; body: string };

/** One client connection that parses answers as they come (Content-Length or chunked). */
class Conn {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  closed = false;
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }
  static open(): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }
  private async until<T>(take: () => T | undefined, ms: number): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = take();
      if (v !== undefined) return v;
      if (this.closed) throw new Error(`connection closed before a full answer (have ${this.buf.length} bytes)`);
      if (Date.now() > deadline) throw new Error('no answer in time');
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 50);
      });
    }
  }
  answer(ms = 3_000): Promise<Answer> {
    return this.until(() => {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const [line, ...lines] = this.buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      const rest = this.buf.subarray(end + 4);
      let body: Buffer;
      let used: number;
      if (headers['content-length'] !== undefined) {
        const n = Number(headers['content-length']);
        if (rest.length < n) return undefined;
        body = rest.subarray(0, n);
        used = n;
      } else if (headers['transfer-encoding'] === 'chunked') {
        const parts: Buffer[] = [];
        let at = 0;
        for (;;) {
          const eol = rest.indexOf('\r\n', at);
          if (eol < 0) return undefined;
          const size = parseInt(rest.subarray(at, eol).toString(), 16);
          if (rest.length < eol + 2 + size + 2) return undefined;
          parts.push(rest.subarray(eol + 2, eol + 2 + size));
          at = eol + 2 + size + 2;
          if (size === 0) break;
        }
        body = Buffer.concat(parts);
        used = at;
      } else return undefined;
      this.buf = rest.subarray(used);
      return { status: Number(line!.split(' ')[1]), headers, body: body.toString() };
    }, ms);
  }
}

const head = (method: string, path: string, headers: Record<string, string | number>) =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;

/**
 * The contract for the connection after an answer: `Connection: close` and the server ends
 * it, or it stays usable: the rest of the body (if the client was still sending, and
 * slowly) and then a second request on the same socket.
 */
async function expectUsableOrClosed(conn: Conn, first: Answer, rest?: string | Buffer): Promise<'kept' | 'closed'> {
  expect(() => JSON.parse(first.body)).not.toThrow();
  if (first.headers.connection?.toLowerCase() === 'close') {
    for (let i = 0; i < 40 && !conn.closed; i++) await sleep(50);
    expect(conn.closed).toBe(true);
    // And a new connection works.
    const fresh = await Conn.open();
    await fresh.write(head('GET', '/healthz', {}));
    expect((await fresh.answer()).status).toBe(200);
    fresh.socket.destroy();
    return 'closed';
  }
  // A slow uploader: the rest of the body comes after the adapter's 500 ms drain window.
  await sleep(700);
  if (rest !== undefined) await conn.write(rest);
  await conn.write(head('GET', '/healthz', {}));
  const next = await conn.answer();
  expect(next.status).toBe(200);
  expect(JSON.parse(next.body)).toEqual({ status: 'ok' });
  conn.socket.destroy();
  return 'kept';
}

describe('request ids on the wire', () => {
  it('every answer carries X-Request-Id once: a new one per request, the caller\'s when it sends a plain one', async () => {
    const conn = await Conn.open();
    await conn.write(head('GET', '/healthz', {}));
    const a = await conn.answer();
    await conn.write(head('GET', '/healthz', { 'X-Request-Id': 'trace-abc-123' }));
    const b = await conn.answer();
    await conn.write(head('GET', '/v1/events/not-a-uuid', { 'X-Request-Id': 'bad id with spaces' }));
    const c = await conn.answer();
    conn.socket.destroy();
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.headers['x-request-id']).toBe('trace-abc-123');
    expect(c.status).toBe(400);
    expect(c.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.headers['x-request-id']).not.toBe(a.headers['x-request-id']);
  });
});

describe('keep-alive connections after early answers', () => {
  it('a body over the limit (Content-Length): 413 in the error shape, connection usable or closed', async () => {
    const conn = await Conn.open();
    const body = JSON.stringify({ seats: ['A-1-1'], pad: 'x'.repeat(20_000) });
    await conn.write(head('POST', `/v1/events/${eventId}/reservations`, { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }));
    const first = await conn.answer();
    expect(first.status).toBe(413);
    expect(JSON.parse(first.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    await expectUsableOrClosed(conn, first, body);
  });

  it('a chunked body over the limit: 413, connection usable or closed', async () => {
    const conn = await Conn.open();
    await conn.write(head('POST', `/v1/events/${eventId}/reservations`, { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' }));
    await conn.write(chunk(`{"seats":["A-1-1"],"pad":"${'x'.repeat(6_000)}`));
    const first = await conn.answer();
    expect(first.status).toBe(413);
    await expectUsableOrClosed(conn, first, `${chunk('"}')}0\r\n\r\n`);
  });

  it('a small chunked body is served and the connection kept', async () => {
    const conn = await Conn.open();
    await conn.write(head('POST', '/v1/dev/token', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }));
    await conn.write(`${chunk('{"sub":"alice"}')}0\r\n\r\n`);
    const first = await conn.answer();
    expect(first.status).toBe(200);
    expect(await expectUsableOrClosed(conn, first)).toBe('kept');
  });

  it('POST /v1/dev/token with a body: the connection is kept', async () => {
    const conn = await Conn.open();
    const body = JSON.stringify({ sub: 'bob', role: 'buyer' });
    await conn.write(head('POST', '/v1/dev/token', { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) + body);
    const first = await conn.answer();
    expect(first.status).toBe(200);
    expect(await expectUsableOrClosed(conn, first)).toBe('kept');
  });

  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    it(`${method} on an unrouted /v1 path with a body: 404, connection usable or closed`, async () => {
      const conn = await Conn.open();
      const body = JSON.stringify({ anything: 'x'.repeat(500) });
      await conn.write(head(method, '/v1/no/such/route', { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) + body);
      const first = await conn.answer();
      expect(first.status).toBe(404);
      await expectUsableOrClosed(conn, first);
    });
  }

  it('401 sent while the client is still uploading: connection usable or closed', async () => {
    const conn = await Conn.open();
    const body = JSON.stringify({ seats: ['A-1-1'], pad: 'y'.repeat(3_000) });
    await conn.write(head('POST', `/v1/events/${eventId}/reservations`, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) + body.slice(0, 100));
    const first = await conn.answer();
    expect(first.status).toBe(401);
    await expectUsableOrClosed(conn, first, body.slice(100));
  });

  it('404 for an unknown event while the client is still uploading: connection usable or closed', async () => {
    const conn = await Conn.open();
    const body = JSON.stringify({ zone: 'FLOOR', quantity: 1, pad: 'z'.repeat(2_000) });
    await conn.write(head('POST', '/v1/events/00000000-0000-4000-8000-000000000000/reservations/nope', { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) + body.slice(0, 50));
    const first = await conn.answer();
    expect(first.status).toBe(404);
    await expectUsableOrClosed(conn, first, body.slice(50));
  });

  it('a whole small body refused early (401) keeps the connection', async () => {
    const conn = await Conn.open();
    const body = JSON.stringify({ zone: 'FLOOR', quantity: 1 });
    await conn.write(head('POST', `/v1/events/${eventId}/reservations`, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) + body);
    const first = await conn.answer();
    expect(first.status).toBe(401);
    expect(await expectUsableOrClosed(conn, first)).toBe('kept');
  });
});
