import { serve } from '@hono/node-server';
import { EventSource } from 'eventsource';
import type { Server } from 'node:http';
import { prefixPattern } from '../../src/redis/keys';
import type { RedisClient } from '../../src/redis/client';
import { delEach, keysMatching } from '../redis-admin';
import { within } from '../wait';

/** A real HTTP server on an ephemeral port. */
export function listen(fetch: (req: Request) => Response | Promise<Response>): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        server,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    }) as Server;
  });
}

export type Received = { type: string; id: string; data: any; at: number };

type Watcher = ReturnType<typeof watch>;

/** Every watcher's "admitted" event, or a failure saying how many came and what the others last saw. */
export async function allAdmitted(watchers: Watcher[], timeoutMs: number): Promise<Received[]> {
  let got = 0;
  const each = watchers.map((w) => w.admitted.then((r) => (got++, r)));
  return within(`"admitted" on all ${watchers.length} streams`, Promise.all(each), timeoutMs, () => {
    const stuck = watchers.find((w) => !w.events.some((e) => e.type === 'admitted'));
    return `${got} admitted; a waiting one last saw ${JSON.stringify(stuck?.events.at(-1)?.data ?? null)}`;
  });
}

/** Every EventSource gave up for good (204 after "admitted"), within the bound. */
export async function allClosed(watchers: Watcher[], timeoutMs: number): Promise<void> {
  await within(`all ${watchers.length} streams to end`, Promise.all(watchers.map((w) => w.closed())), timeoutMs, () =>
    `${watchers.filter((w) => w.es.readyState === w.es.CLOSED).length} closed`,
  );
}

/** A browser-style EventSource on a ticket's stream, recording every event it gets. */
export function watch(url: string) {
  const events: Received[] = [];
  const es = new EventSource(url);
  let opens = 0;
  let resolveAdmitted!: (r: Received) => void;
  const admitted = new Promise<Received>((r) => (resolveAdmitted = r));
  const record = (type: string) => (e: MessageEvent) => {
    const r = { type, id: e.lastEventId, data: JSON.parse(e.data), at: Date.now() };
    events.push(r);
    if (type === 'admitted') resolveAdmitted(r);
  };
  es.addEventListener('position', record('position'));
  es.addEventListener('admitted', record('admitted'));
  es.addEventListener('open', () => opens++);
  return {
    es,
    events,
    admitted,
    get opens() {
      return opens;
    },
    /** Resolves once EventSource gave up for good (HTTP 204 after "admitted", or an error status). */
    closed: () =>
      new Promise<void>((resolve) => {
        const check = () => (es.readyState === es.CLOSED ? resolve() : setTimeout(check, 50));
        check();
      }),
  };
}

/** Raw SSE over fetch: status, then parsed events until the server ends the response. */
export async function readStream(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  const events: { event?: string; id?: string; data?: string; retry?: number; comment?: string }[] = [];
  if (res.status !== 200 || !res.body) return { status: res.status, events, text: await res.text() };
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const e: (typeof events)[number] = {};
      for (const line of block.split('\n')) {
        const [k, ...rest] = line.split(': ');
        const v = rest.join(': ');
        if (k === '') e.comment = v;
        else if (k === 'retry') e.retry = Number(v);
        else if (k === 'event' || k === 'id' || k === 'data') e[k] = v;
      }
      events.push(e);
    }
  }
  return { status: 200, events, text: '' };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A harness (own Redis prefix) served over real HTTP; close() also removes its Redis keys. */
export async function startQueueServer(env: Record<string, string> = {}) {
  const { startHarness } = await import('../harness');
  const h = await startHarness(env);
  const srv = await listen(h.app.fetch);
  return {
    h,
    srv,
    close: async () => {
      await srv.close();
      await dropKeys(h);
      await h.close();
    },
  };
}

export async function dropKeys(h: { core: { redis: RedisClient }; config: { redis: { prefix: string } } }) {
  await delEach(h.core.redis, await keysMatching(h.core.redis, prefixPattern(h.config.redis.prefix)));
}
