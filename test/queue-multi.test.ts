import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../src/redis/keys';
import { startHarness, type Harness } from './harness';
import { TEST_DATABASE_URL, TEST_REDIS_CLUSTER_NODES, TEST_REDIS_URL } from './env';
import { allAdmitted, dropKeys, sleep, watch } from './queue/helpers';

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
      // The same confirm as the harness's (v1): this test is about the waiting room, not payments.
      PAYMENT_PROVIDER: 'none',
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

    const admitted = await allAdmitted(watchers, 15_000);
    const last = Math.max(...admitted.map((x) => x.at));
    // 60 at 20/s: 3 s. Both processes drive admission; twice the rate would take 1.5 s.
    expect((last - openAt) / 1000).toBeGreaterThan(3 * 0.8);
    expect((last - openAt) / 1000).toBeLessThan(3 * 1.2);

    const b0 = (await allAdmitted([twinB], 5_000))[0]!;
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

  it('hold at most maxActive live passes between them; confirm, cancel and revocation each let the next buyer in', async () => {
    // A fast rate (one admission a millisecond), so only the cap decides who waits.
    const ev = await h.createEvent({ queue: { enabled: true, admitPerSecond: 1000, passSeconds: 600, maxActive: 3 } });
    const users = Array.from({ length: 8 }, (_, i) => `cap${i}-${randomUUID().slice(0, 8)}`);
    const call = async (base: string, method: string, path: string, user: string | null, o: { body?: unknown; headers?: Record<string, string> } = {}) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(user ? { authorization: `Bearer ${user === 'admin' ? h.adminToken : await h.token(user)}` } : {}),
          ...(o.body ? { 'content-type': 'application/json' } : {}),
          ...o.headers,
        },
        body: o.body ? JSON.stringify(o.body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const joins: { status: number; body: any }[] = [];
    for (const [i, u] of users.entries()) joins.push(await call(i % 2 ? b : a, 'POST', `/v1/events/${ev.id}/queue`, u));
    // FIFO after opening: the first three go straight in, then the cap holds (the rate would allow all).
    expect(joins.map((j) => j.body.status)).toEqual(['admitted', 'admitted', 'admitted', 'waiting', 'waiting', 'waiting', 'waiting', 'waiting']);
    const state = async () => (await call(b, 'GET', `/v1/admin/events/${ev.id}/queue`, 'admin')).body;
    await sleep(600);
    expect(await state()).toMatchObject({ maxActive: 3, activePasses: 3, admitted: 3, waiting: 5 });
    const snapshot = async (i: number) => (await call(i % 2 ? a : b, 'GET', `/v1/events/${ev.id}/queue?ticket=${encodeURIComponent(joins[i]!.body.ticket)}`, null)).body;
    const hold = (i: number, base = a) =>
      call(base, 'POST', `/v1/events/${ev.id}/reservations`, users[i]!, {
        body: { zone: 'FLOOR', quantity: 1 },
        headers: { 'x-queue-pass': joins[i]!.body.pass, 'idempotency-key': randomUUID() },
      });

    // Buyer 0 confirms through one process: the pass is spent and buyer 3 goes in.
    const r0 = await hold(0);
    expect(r0.status).toBe(201);
    expect((await call(b, 'POST', `/v1/reservations/${r0.body.id}/confirm`, users[0]!, { body: {} })).status).toBe(200);
    expect((await snapshot(3)).status).toBe('admitted');
    const again = await hold(0, b);
    expect([again.status, again.body.error.code]).toEqual([403, 'QUEUE_PASS_REQUIRED']);
    expect((await snapshot(4)).status).toBe('waiting');

    // Buyer 1 is revoked through the other process: refused from then on, buyer 4 goes in.
    const revoked = await call(b, 'DELETE', `/v1/admin/events/${ev.id}/queue/passes/${users[1]}`, 'admin');
    expect([revoked.status, revoked.body.status]).toEqual([200, 'revoked']);
    const refused = await hold(1);
    expect([refused.status, refused.body.error.code]).toEqual([403, 'QUEUE_PASS_REVOKED']);
    expect((await snapshot(4)).status).toBe('admitted');
    expect((await call(a, 'DELETE', `/v1/admin/events/${ev.id}/queue/passes/${users[7]}`, 'admin')).status).toBe(404); // holds no pass
    expect((await call(a, 'DELETE', `/v1/admin/events/${ev.id}/queue/passes/${users[2]}`, users[2]!)).status).toBe(403); // not an admin

    // Buyer 2 holds and cancels: buyer 5 goes in; 6 and 7 still wait behind the cap.
    const r2 = await hold(2, b);
    expect(r2.status).toBe(201);
    expect((await call(a, 'POST', `/v1/reservations/${r2.body.id}/cancel`, users[2]!)).status).toBe(200);
    expect((await snapshot(5)).status).toBe('admitted');
    await sleep(400);
    expect((await snapshot(6)).status).toBe('waiting');
    expect(await state()).toMatchObject({ activePasses: 3, admitted: 6, endedPasses: 3, waiting: 2 });
  });
});
