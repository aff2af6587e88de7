import { randomUUID } from 'node:crypto';
import { Agent, request, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';
import { listen } from './queue/helpers';

let h: Harness;
let srv: Awaited<ReturnType<typeof listen>>;
let port: number;
beforeAll(async () => {
  h = await startHarness();
  srv = await listen(h.app.fetch);
  port = Number(new URL(srv.url).port);
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
