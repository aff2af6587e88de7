import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../src/redis/keys';
import { startHarness, type Harness } from './harness';
import { TEST_DATABASE_URL, TEST_REDIS_CLUSTER_NODES, TEST_REDIS_URL } from './env';
import { dropKeys, sleep, watch } from './queue/helpers';

let h: Harness;
const children: ChildProcess[] = [];

/** A separate API process (tsx) on the same Redis prefix and database. */
function startServer(prefix: string): Promise<string> {
  // node with tsx's loader: one process, so SIGTERM reaches the server itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/queue/server-fixture.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      ...(TEST_REDIS_CLUSTER_NODES ? { REDIS_CLUSTER_NODES: TEST_REDIS_CLUSTER_NODES } : {}),
      REDIS_PREFIX: prefix,
      PG_SCHEMA: h.config.db.schema!,
      LOG_LEVEL: 'warn',
      QUEUE_RETRY_MS: '300',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /LISTENING (\d+)/.exec(out);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.on('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
  });
}

let a: string;
let b: string;
beforeAll(async () => {
  h = await startHarness();
  [a, b] = await Promise.all([startServer(h.config.redis.prefix), startServer(h.config.redis.prefix)]);
});
afterAll(async () => {
  await Promise.all(
    children.map((c) => new Promise<void>((r) => (c.exitCode !== null ? r() : (c.once('exit', () => r()), c.kill('SIGTERM'))))),
  );
  await dropKeys(h);
  await h.close();
});

describe('two API processes on one Redis', () => {
  it('admit at the set rate in total, and their streams agree', async () => {
    const openAt = Date.now() + 3_000;
    const ev = await h.createEvent({
      salesOpenAt: new Date(openAt).toISOString(),
      queue: { enabled: true, admitPerSecond: 20, passSeconds: 600 },
    });
    const users = Array.from({ length: 60 }, (_, i) => `m${i}-${randomUUID().slice(0, 8)}`);
    const tickets = await Promise.all(
      users.map(async (u, i) => {
        const res = await fetch(`${i % 2 ? b : a}/v1/events/${ev.id}/queue`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await h.token(u)}` },
        });
        expect(res.status).toBe(201);
        return ((await res.json()) as { ticket: string }).ticket;
      }),
    );
    const url = (base: string, t: string) => `${base}/v1/events/${ev.id}/queue/stream?ticket=${encodeURIComponent(t)}`;
    const watchers = tickets.map((t, i) => watch(url(i % 2 ? b : a, t)));
    // The same holder watched through both processes.
    const twinA = watchers[0]!;
    const twinB = watch(url(b, tickets[0]!));
    await sleep(openAt - Date.now());

    const admitted = await Promise.all(watchers.map((w) => w.admitted));
    const last = Math.max(...admitted.map((x) => x.at));
    // 60 at 20/s: 3 s. Both processes drive admission; twice the rate would take 1.5 s.
    expect((last - openAt) / 1000).toBeGreaterThan(3 * 0.8);
    expect((last - openAt) / 1000).toBeLessThan(3 * 1.2);

    const b0 = await twinB.admitted;
    expect(b0.data.pass).toBe((await twinA.admitted).data.pass);
    expect(Math.abs(b0.at - twinA.events.at(-1)!.at)).toBeLessThan(600);
    const numberSeen = (w: ReturnType<typeof watch>) =>
      new Set(w.events.filter((e) => e.data.status === 'waiting').map((e) => e.data.position + e.data.admittedUpTo));
    expect([...numberSeen(twinA)]).toEqual([...numberSeen(twinB)]);
    expect(numberSeen(twinA).size).toBe(1);

    for (const w of [...watchers, twinB]) {
      const pos = w.events.filter((e) => e.data.status === 'waiting').map((e) => e.data.position);
      expect(pos).toEqual([...pos].sort((x, y) => y - x));
    }
    const st = await h.core.redis.hgetall(queueKeys(h.config.redis.prefix, ev.id).state);
    expect(st).toMatchObject({ issued: '60', admitted: '60', count: '60', skipped: '0' });
    for (const w of [...watchers, twinB]) w.es.close();
  });
});
