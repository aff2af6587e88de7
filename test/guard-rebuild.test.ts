/**
 * A Redis loss while a hold's PostgreSQL write is provably in flight: the write is held
 * open by a table lock, Redis loses the event, a rebuild starts, then the write commits.
 * The rebuild's quiesce wait is what lets it see that write; without it the GA zone,
 * which has no unique index behind it, would be sold twice.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventKeys } from '../src/redis/keys';
import { startHarness, type Harness } from './harness';
import { waitUntil, within } from './wait';

let h: Harness;
beforeAll(async () => {
  // Write budget = quiesce - statement timeout - 250 ms = 2.25 s: room for the held write.
  h = await startHarness({ PG_STATEMENT_TIMEOUT_MS: '2500', REBUILD_QUIESCE_MS: '5000' });
});
afterAll(() => h.close());

it('a rebuild started while a hold is being written waits for it: nothing is sold twice', async () => {
  const ev = await h.createEvent({
    maxSeatsPerUser: 4,
    zones: [{ code: 'FLOOR', name: 'Floor', priceCents: 1000, kind: 'ga', capacity: 4 }],
  });
  const k = eventKeys(h.config.redis.prefix, ev.id);
  const hold = async (quantity: number) =>
    h.call('POST', `/v1/events/${ev.id}/reservations`, { token: await h.token(`u-${randomUUID()}`), body: { zone: 'FLOOR', quantity } });

  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let locked!: (pid: number) => void;
  const lockHeld = new Promise<number>((r) => (locked = r));
  // Reads go on (a rebuild can snapshot), inserts wait.
  const blocker = h.core.sql.begin(async (tx) => {
    await tx`lock table reservations in exclusive mode`;
    const [{ pid }] = (await tx`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
    locked(pid);
    await gate;
  });
  try {
    const pid = await within('the table lock', lockHeld, 5_000);
    const first = hold(4);
    await waitUntil("the first hold's Lua to take the whole zone", async () => (await h.core.redis.hget(k.zoneCounts('FLOOR'), 'held')) === '4', { timeoutMs: 3_000, stepMs: 5 });
    await waitUntil("the first hold's INSERT to wait on the lock", async () =>
      (await h.core.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where ${pid} = any(pg_blocking_pids(pid))`)[0]!.n > 0,
    { timeoutMs: 2_000, stepMs: 5 });

    // Redis loses the event while that write is in flight; the next request starts a rebuild.
    const keys = await h.core.redis.keys(k.pattern);
    await h.core.redis.del(...keys);
    const during = await hold(1);
    expect(during.status, 'a write while the event is missing from Redis').toBe(503);

    // Let the write commit once a (wrong) rebuild has had the chance to snapshot without it,
    // or after 500 ms at most (well inside the write's 2.25 s budget).
    const t = Date.now();
    while (!(await h.core.loader.isLoaded(ev.id)) && Date.now() - t < 500) await sleep(10);
    release();
    await blocker;
    const firstRes = await first;
    expect(firstRes.status, `the in-flight hold: ${JSON.stringify(firstRes.body)}`).toBe(201);

    await waitUntil('the rebuild to finish', () => h.core.loader.isLoaded(ev.id), { timeoutMs: 15_000, stepMs: 50 });
    // The rebuilt Redis already has the in-flight hold: nothing had to be refused to find out.
    expect(await h.core.redis.hget(k.zoneCounts('FLOOR'), 'held'), 'GA units held in the rebuilt Redis, before any new write').toBe('4');
    const again = await hold(4);
    expect([again.status, again.body.error?.code], `four more of a zone of four after the rebuild: ${JSON.stringify(again.body)}`).toEqual([409, 'SOLD_OUT']);

    const [pg] = await h.core.sql<{ q: number }[]>`select coalesce(sum(quantity), 0)::int as q from reservations
      where event_id = ${ev.id} and status in ('held', 'confirmed')`;
    expect(pg!.q, 'live GA units in PostgreSQL (capacity 4)').toBe(4);
    expect(await h.core.redis.hget(k.zoneCounts('FLOOR'), 'held'), 'Redis agrees with PostgreSQL').toBe('4');
  } finally {
    release();
    await blocker.catch(() => {});
  }
});
