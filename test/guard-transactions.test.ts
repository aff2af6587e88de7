/**
 * The state change and its outbox row commit or roll back together, and confirm and expiry
 * meet only in PostgreSQL's conditional update, so exactly one of them wins. Faults and
 * interleavings are made on purpose (a refusing constraint, a trigger that fails the commit,
 * a transaction held open), so every run exercises the same path.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueBookingEvents } from '../src/outbox/outbox';
import { eventKeys } from '../src/redis/keys';
import { reservationJson } from '../src/reservations/model';
import { expireDue } from '../src/reservations/repository';
import { releaseExpired } from '../src/worker/release';
import { startHarness, type Harness } from './harness';
import { waitUntil, within } from './wait';

let h: Harness;
beforeAll(async () => {
  // Statements may wait on a lock this file holds open for a moment: give them room.
  h = await startHarness({ PG_STATEMENT_TIMEOUT_MS: '3000', REBUILD_QUIESCE_MS: '6000' });
  await h.core.sql.unsafe(`
    create function test_refuse_at_commit() returns trigger language plpgsql as $$
    begin raise exception 'refused at commit (test fault)'; end $$`);
});
afterAll(() => h.close());

const uuid = (s: string) => {
  if (!/^[0-9a-f-]{36}$/.test(s)) throw new Error(`not a uuid: ${s}`);
  return s;
};

/** The outbox refuses rows for this reservation until the returned function is called. */
async function refuseOutboxRows(reservationId: string) {
  const name = `test_refuse_${uuid(reservationId).replaceAll('-', '')}`;
  await h.core.sql.unsafe(`alter table outbox add constraint ${name} check (key <> '${reservationId}') not valid`);
  return () => h.core.sql.unsafe(`alter table outbox drop constraint ${name}`);
}

/** Any transaction that updates this reservation fails at COMMIT (after all its statements ran). */
async function failCommitOf(reservationId: string) {
  const name = `test_commit_${uuid(reservationId).replaceAll('-', '')}`;
  await h.core.sql.unsafe(`create constraint trigger ${name} after update on reservations
    deferrable initially deferred for each row when (new.id = '${reservationId}'::uuid)
    execute function test_refuse_at_commit()`);
  return () => h.core.sql.unsafe(`drop trigger ${name} on reservations`);
}

async function hold(eventId: string, seat: string) {
  const token = await h.token(`u-${randomUUID()}`);
  const res = await h.call('POST', `/v1/events/${eventId}/reservations`, { token, body: { seats: [seat] } });
  expect(res.status, `hold of ${seat}`).toBe(201);
  return { id: res.body.id as string, token };
}

async function state(id: string) {
  const [r] = await h.core.sql<{ status: string; confirmed_at: Date | null; expired_at: Date | null; cancelled_at: Date | null }[]>`
    select status, confirmed_at, expired_at, cancelled_at from reservations where id = ${id}`;
  const outbox = await h.core.sql<{ type: string }[]>`select type from outbox where key = ${id} order by id`;
  return { ...r!, outbox: outbox.map((o) => o.type) };
}

async function seatInRedis(eventId: string, seat: string) {
  return h.core.redis.hget(eventKeys(h.config.redis.prefix, eventId).zoneSeats('A'), seat);
}

const releaseDeps = () => ({ ...h.core.transitions, logger: h.core.logger, batch: 100 });

/** Backends currently waiting on a lock held by `pid`. */
async function blockedBy(pid: number): Promise<number> {
  const [r] = await h.core.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where ${pid} = any(pg_blocking_pids(pid))`;
  return r!.n;
}

describe('outbox row in the same transaction as the state change', () => {
  it('a confirm whose outbox insert fails is not confirmed; once the outbox accepts, it is, with one message', async () => {
    const ev = await h.createEvent();
    const r = await hold(ev.id, 'A-1-1');
    const allow = await refuseOutboxRows(r.id);
    const failed = await h.call('POST', `/v1/reservations/${r.id}/confirm`, { token: r.token });
    await allow();
    expect(failed.status, 'confirm with a refusing outbox').toBeGreaterThanOrEqual(500);
    expect(await state(r.id), 'the confirm rolled back with its outbox row').toMatchObject({ status: 'held', confirmed_at: null, outbox: [] });
    expect(await seatInRedis(ev.id, 'A-1-1'), 'Redis did not mark it sold').toBe(`h:${r.id}`);

    const ok = await h.call('POST', `/v1/reservations/${r.id}/confirm`, { token: r.token });
    expect(ok.status).toBe(200);
    expect(await state(r.id)).toMatchObject({ status: 'confirmed', outbox: ['booking.confirmed'] });
  });

  it('a confirm whose transaction fails at commit leaves no outbox row behind', async () => {
    const ev = await h.createEvent();
    const r = await hold(ev.id, 'A-1-2');
    const restore = await failCommitOf(r.id);
    const failed = await h.call('POST', `/v1/reservations/${r.id}/confirm`, { token: r.token });
    await restore();
    expect(failed.status, 'confirm whose commit fails').toBeGreaterThanOrEqual(500);
    expect(await state(r.id), 'no message for a confirm that never committed').toMatchObject({ status: 'held', outbox: [] });
  });

  it('a cancel whose outbox insert fails, or whose commit fails, leaves the hold held and its seat taken', async () => {
    const ev = await h.createEvent();
    const r = await hold(ev.id, 'A-1-3');
    const allow = await refuseOutboxRows(r.id);
    const a = await h.call('POST', `/v1/reservations/${r.id}/cancel`, { token: r.token });
    await allow();
    expect(a.status).toBeGreaterThanOrEqual(500);
    expect(await state(r.id), 'cancel rolled back with its outbox row').toMatchObject({ status: 'held', cancelled_at: null, outbox: [] });
    const restore = await failCommitOf(r.id);
    const b = await h.call('POST', `/v1/reservations/${r.id}/cancel`, { token: r.token });
    await restore();
    expect(b.status).toBeGreaterThanOrEqual(500);
    expect(await state(r.id), 'no message for a cancel that never committed').toMatchObject({ status: 'held', outbox: [] });
    expect(await seatInRedis(ev.id, 'A-1-3'), 'the seat stays held in Redis').toBe(`h:${r.id}`);
    const [live] = await h.core.sql<{ live: boolean }[]>`select live from reservation_seats where reservation_id = ${r.id}`;
    expect(live!.live, 'the seat stays live in PostgreSQL').toBe(true);
  });

  it('an expiry whose outbox insert fails, or whose commit fails, expires nothing', async () => {
    const ev = await h.createEvent();
    const r = await hold(ev.id, 'A-1-4');
    await h.core.sql`update reservations set expires_at = now() - interval '1 second' where id = ${r.id}`;
    const allow = await refuseOutboxRows(r.id);
    await expect(releaseExpired(releaseDeps()), 'expiry with a refusing outbox').rejects.toThrow();
    await allow();
    expect(await state(r.id), 'expiry rolled back with its outbox row').toMatchObject({ status: 'held', expired_at: null, outbox: [] });
    const restore = await failCommitOf(r.id);
    await expect(releaseExpired(releaseDeps()), 'expiry whose commit fails').rejects.toThrow();
    await restore();
    expect(await state(r.id), 'no message for an expiry that never committed').toMatchObject({ status: 'held', outbox: [] });
    expect(await seatInRedis(ev.id, 'A-1-4'), 'Redis still holds the seat').toBe(`h:${r.id}`);

    expect(await releaseExpired(releaseDeps())).toBeGreaterThanOrEqual(1);
    expect(await state(r.id)).toMatchObject({ status: 'expired', outbox: ['booking.expired'] });
    expect(await seatInRedis(ev.id, 'A-1-4'), 'freed once expired').toBe('');
  });
});

describe('confirm and expiry interleaved on purpose: exactly one wins', () => {
  it('expiry first: a confirm that arrives while the expiring transaction is open loses once it commits', async () => {
    const ev = await h.createEvent();
    const r = await hold(ev.id, 'A-2-1');
    const [{ deadline }] = (await h.core.sql`select expires_at as deadline from reservations where id = ${r.id}`) as unknown as [{ deadline: Date }];

    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    let opened!: (pid: number) => void;
    const open = new Promise<number>((res) => (opened = res));
    const expiring = h.core.sql.begin(async (tx) => {
      const [{ pid }] = (await tx`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
      // The real race: the expiry's clock (its transaction start) is past the deadline, the
      // confirm's is not. Inside the expiring transaction only, the deadline is moved into
      // the past for the expiry to take the hold, then put back; the confirm sees the
      // deadline still ahead, so only the status condition can stop it.
      await tx`update reservations set expires_at = now() - interval '1 second' where id = ${r.id}`;
      const rows = (await expireDue(tx, 100)).filter((x) => x.id === r.id);
      await enqueueBookingEvents(tx, h.config.kafka.topic, 'booking.expired', rows.map((x) => ({ reservation: reservationJson(x), userId: x.userId })));
      await tx`update reservations set expires_at = ${deadline} where id = ${r.id}`;
      opened(pid);
      await gate;
      return rows.length;
    });
    try {
      const pid = await within('the expiring transaction to open', open, 5_000);
      const confirming = h.call('POST', `/v1/reservations/${r.id}/confirm`, { token: r.token });
      await waitUntil('the confirm to wait on the expiring transaction', () => blockedBy(pid), { timeoutMs: 2_500, stepMs: 10 });
      release();
      expect(await expiring, 'the expiry took the hold').toBe(1);
      const confirm = await confirming;
      expect([confirm.status, confirm.body.error?.code], `confirm after the expiry committed: ${JSON.stringify(confirm.body)}`).toEqual([410, 'HOLD_EXPIRED']);
      expect(await state(r.id), 'expired only, one message').toMatchObject({ status: 'expired', confirmed_at: null, outbox: ['booking.expired'] });
    } finally {
      release();
      await expiring.catch(() => {});
    }
  });

  it('confirm first: an expiry run while the confirming transaction is open skips it and never takes it after', async () => {
    const ev = await h.createEvent();
    const r = await hold(ev.id, 'A-2-2');
    // Due soon: the confirm passes its deadline check now, the expiry will see it as due.
    await h.core.sql`update reservations set expires_at = clock_timestamp() + interval '700 milliseconds' where id = ${r.id}`;

    // Hold the confirming transaction open after its update: its outbox insert waits on an
    // advisory lock this test holds (only for this reservation's rows).
    await h.core.sql.unsafe(`
      create function test_outbox_gate() returns trigger language plpgsql as $$
      begin
        if new.key = '${uuid(r.id)}' then perform pg_advisory_xact_lock_shared(4242); end if;
        return new;
      end $$;
      create trigger test_gate before insert on outbox for each row execute function test_outbox_gate()`);
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    let locked!: (pid: number) => void;
    const lockHeld = new Promise<number>((res) => (locked = res));
    const holder = h.core.sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(4242)`;
      const [{ pid }] = (await tx`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
      locked(pid);
      await gate;
    });
    try {
      const pid = await within('the advisory lock', lockHeld, 5_000);
      const confirming = h.call('POST', `/v1/reservations/${r.id}/confirm`, { token: r.token });
      await waitUntil('the confirm to be held open at its outbox insert', () => blockedBy(pid), { timeoutMs: 2_500, stepMs: 10 });
      await waitUntil('the hold to be due', async () => (await h.core.sql<{ due: boolean }[]>`
        select expires_at <= now() as due from reservations where id = ${r.id}`)[0]!.due, { timeoutMs: 2_000 });

      const expiredWhileOpen = await within(
        'an expiry run while a confirm is in progress (it must skip the locked row, not wait for it)',
        releaseExpired(releaseDeps()),
        2_000,
      );
      expect(expiredWhileOpen, 'holds expired while the confirm was open').toBe(0);
      release();
      await holder;
      const confirm = await confirming;
      expect(confirm.status, `confirm: ${JSON.stringify(confirm.body)}`).toBe(200);
      expect(await releaseExpired(releaseDeps()), 'a later expiry run').toBe(0);
      expect(await state(r.id), 'confirmed only, one message').toMatchObject({ status: 'confirmed', expired_at: null, outbox: ['booking.confirmed'] });
      expect(await seatInRedis(ev.id, 'A-2-2')).toBe(`s:${r.id}`);
    } finally {
      release();
      await holder.catch(() => {});
      await h.core.sql.unsafe(`drop trigger if exists test_gate on outbox`);
      await h.core.sql.unsafe(`drop function if exists test_outbox_gate()`);
    }
  });
});
