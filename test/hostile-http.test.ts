import { randomUUID } from 'node:crypto';
import { Agent, request, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';
import { startHttpServer, type HttpServer } from '../src/http/server';

let h: Harness;
let srv: HttpServer;
let port: number;
/** Test-only routes in front of the app: a slow answer, for the shutdown tests. */
const fetchWithSlow = (req: Request, env: any) =>
  new URL(req.url).pathname === '/slow' ? sleep(600).then(() => new Response('slow done')) : h.app.fetch(req, env);
const serverOptions = () => ({ host: '127.0.0.1', port: 0, requestTimeoutMs: 5_000, maxHeaderBytes: 8 * 1024, logger: h.core.logger });
beforeAll(async () => {
  h = await startHarness();
  srv = await startHttpServer(fetchWithSlow, serverOptions());
  port = srv.port;
});
afterAll(async () => {
  await srv?.close();
  await h?.close();
});

type Answer = { status: number; headers: IncomingMessage['headers']; body: string; socket: unknown };
function send(method: string, path: string, opts: { agent?: Agent; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: opts.agent, headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, socket: req.socket }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(cond: () => boolean, ms = 3_000) {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(20);
  return cond();
}

describe('SSE streams are released whatever ends them', () => {
  let streamPath: string;
  beforeAll(async () => {
    // In the lobby until an hour from now: a stream stays open and watching.
    const ev = await h.createEvent({
      salesOpenAt: new Date(Date.now() + 3_600_000).toISOString(),
      queue: { enabled: true, admitPerSecond: 50, passSeconds: 600 },
    });
    const j = await h.call('POST', `/v1/events/${ev.id}/queue`, { token: await h.token(`sse-${randomUUID()}`) });
    expect(j.status).toBe(201);
    streamPath = `/v1/events/${ev.id}/queue/stream?ticket=${encodeURIComponent(j.body.ticket)}`;
  });

  it('HEAD answers the stream headers and watches nothing (20 on one keep-alive connection)', async () => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.setEncoding('latin1').on('data', (d) => (out += d));
    await once(socket, 'connect');
    socket.write(`HEAD ${streamPath} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(20));
    expect(await until(() => (out.match(/^HTTP\/1\.1 /gm) ?? []).length === 20)).toBe(true);
    expect((out.match(/^HTTP\/1\.1 200 /gm) ?? []).length).toBe(20);
    expect((out.match(/^content-type: text\/event-stream/gim) ?? []).length).toBe(20);
    expect(socket.destroyed).toBe(false);
    await sleep(50);
    expect(h.core.queue.stats().streams).toBe(0);
    socket.destroy();
  });

  it('a GET stream is released when the client goes away, and when the server drops the socket', async () => {
    for (const end of ['client', 'server'] as const) {
      const req = request({ host: '127.0.0.1', port, path: streamPath });
      const res = await new Promise<IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', () => {}).end());
      res.on('error', () => {});
      expect(res.statusCode).toBe(200);
      expect(await until(() => h.core.queue.stats().streams === 1)).toBe(true);
      if (end === 'client') req.destroy();
      else srv.server.closeAllConnections();
      expect(await until(() => h.core.queue.stats().streams === 0), end).toBe(true);
    }
  });
});

/** Writes raw bytes on a fresh connection; resolves with everything the server sent once it closed the connection. */
function raw(bytes: string | Buffer, p = port): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(p, '127.0.0.1');
    let text = '';
    let closedByServer = false;
    const timer = setTimeout(() => socket.destroy(), 3_000);
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('end', () => (closedByServer = true));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedByServer });
    });
    socket.write(bytes);
  });
}

function parseAnswer(text: string) {
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...headerLines] = head!.split('\r\n');
  const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine!.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

describe("what Node's HTTP parser refuses gets the contract's error body, and the connection is closed", () => {
  const big = 'a'.repeat(10 * 1024);
  const cases: [string, string | Buffer, number][] = [
    ['headers over the limit', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\n\r\n`, 431],
    ['a URL over the limit', `GET /v1/events?${big} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
    ['a malformed request line', 'GARBAGE\r\n\r\n', 400],
    ['a control character in a header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n', 400],
    ['raw UTF-8 bytes in the path', Buffer.concat([Buffer.from('GET /v1/events/'), Buffer.from('é', 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]), 400],
    ['Content-Length with Transfer-Encoding', 'POST /v1/admin/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['a backslash in the path', 'GET /v1\\events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400],
  ];
  it.each(cases)('%s', async (_name, bytes, status) => {
    const r = await raw(bytes);
    const a = parseAnswer(r.text);
    expect(a.status, r.text.slice(0, 200)).toBe(status);
    expect(a.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(a.body);
    expect(typeof body.error.code).toBe('string');
    expect(typeof body.error.message).toBe('string');
    expect(a.headers.connection).toBe('close');
    expect(r.closedByServer).toBe(true);
  });

  it('the header limit is the configured one', async () => {
    const small = await startHttpServer(fetchWithSlow, { ...serverOptions(), maxHeaderBytes: 2 * 1024 });
    try {
      const r = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Mid: ${'a'.repeat(4 * 1024)}\r\nConnection: close\r\n\r\n`, small.port);
      expect(parseAnswer(r.text).status).toBe(431);
      const ok = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Mid: ${'a'.repeat(4 * 1024)}\r\nConnection: close\r\n\r\n`);
      expect(parseAnswer(ok.text).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});

describe('graceful stop', () => {
  it('closes idle keep-alive sockets at once, answers the request in flight with Connection: close, and is done when it is', async () => {
    const g = await startHttpServer(fetchWithSlow, serverOptions());
    const agent = new Agent({ keepAlive: true });
    const slowAgent = new Agent({ keepAlive: true });
    const get = (path: string, a = agent) =>
      new Promise<{ status: number; connection?: string; body: string; socket: import('node:net').Socket }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: g.port, path, agent: a }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body, socket: req.socket! }));
        });
        req.on('error', reject).end();
      });
    const idle = await Promise.all([get('/healthz'), get('/healthz'), get('/healthz')]);
    const idleClosed = idle.map((r) => (r.socket.destroyed ? Promise.resolve() : once(r.socket, 'close')));
    expect(idle.every((r) => r.connection === 'keep-alive')).toBe(true);

    const slow = get('/slow', slowAgent);
    await sleep(100); // the slow request is in flight
    let stopped = false;
    const stopping = g.close().then(() => (stopped = true));
    await Promise.all(idleClosed); // idle sockets go at once, long before the slow answer
    expect(stopped).toBe(false);
    const s = await slow;
    expect([s.status, s.body, s.connection]).toEqual([200, 'slow done', 'close']);
    // Done as soon as the last request is: far inside the keep-alive timeout (65 s) it used to wait out.
    const outcome = await Promise.race([stopping.then(() => 'stopped'), sleep(10_000).then(() => 'still waiting')]);
    expect(outcome).toBe('stopped');
    agent.destroy();
    slowAgent.destroy();
  });
});
