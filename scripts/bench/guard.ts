// npm run bench:guard [-- --seconds 5 --rounds 2 --in-flight 512 --expire-rows 2000]
//
// What PostgreSQL's limit guard (migrations/00004_limit_guard.sql: usage counters kept by
// statement triggers, CHECK constraints; rewritten cheaper in 00009) costs the durable
// hold write: the application's group-commit insert (GroupCommit + insertHolds, batches up to
// 256, 4 in flight) of GA holds, new user each, with the guard's insert trigger disabled,
// enabled, and replaced by 00004's generic one (the cost before 00009), rounds interleaved.
// PostgreSQL only (no Redis, no HTTP): the figure is holds made durable per second. Also
// printed: the backends' CPU per hold (from /proc, when PostgreSQL runs on this machine), and
// how many of the in-flight batches wait on a lock on average (the zone's counter row).
// Then the other side: one statement expiring --expire-rows holds (of as many users), as the
// release worker's batches do, with the update trigger disabled, enabled, and 00004's.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/config';
import { createSql } from '../../src/db/client';
import { GroupCommit } from '../../src/db/group-commit';
import { ensureDatabase, migrate } from '../../src/db/migrate';
import type { NewHold } from '../../src/reservations/model';
import { insertHolds } from '../../src/reservations/repository';

const { values: args } = parseArgs({ options: { seconds: { type: 'string' }, rounds: { type: 'string' }, 'in-flight': { type: 'string' }, 'expire-rows': { type: 'string' } } });
const seconds = Number(args.seconds ?? 5);
const rounds = Number(args.rounds ?? 2);
const inFlight = Number(args['in-flight'] ?? 512);
const expireRows = Number(args['expire-rows'] ?? 2000);
const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/boxoffice_bench';
await ensureDatabase(url);
const schema = `bench_guard_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
const config = loadConfig({ ...process.env, DATABASE_URL: url, PG_SCHEMA: schema, PG_POOL_MAX: '8', PG_STATEMENT_TIMEOUT_MS: '10000', REBUILD_QUIESCE_MS: '11000', RECONCILE_ORPHAN_GRACE_MS: '11000' });
const admin = createSql({ ...config.db, schema: undefined, max: 1 });
await admin.unsafe(`create schema "${schema}"`);
const APP = `bench-guard-${process.pid}`;
const sql = createSql(config.db, { applicationName: APP });
await migrate(sql);
// 00004's triggers and its apply_usage, as they were before 00009, to compare against: taken
// from the migration itself, renamed so they sit beside 00009's. Only the insert trigger is
// switched on, by the rounds that measure it.
await sql.unsafe(`${guard00004()}
  alter table reservations disable trigger bench_usage_insert_00004;
  alter table reservations disable trigger bench_usage_update_00004;
  alter table reservations disable trigger bench_usage_delete_00004;`);

const eventId = randomUUID();
await sql`insert into events (id, name, starts_at, sales_open_at, sales_close_at, hold_seconds, max_seats_per_user)
  values (${eventId}, 'bench guard', now() + interval '1 day', now() - interval '1 hour', now() + interval '1 day', 600, 10)`;
await sql`insert into zones (event_id, code, name, price_cents, kind, capacity, position) values (${eventId}, 'GA', 'GA', 100, 'ga', 100000000, 0)`;

type Mode = 'without' | 'with' | 'with00004';
const TRIGGERS: Record<string, Mode> = { reservations_usage_insert: 'with', bench_usage_insert_00004: 'with00004' };

/** CPU seconds the pool's backends have used so far; null unless PostgreSQL runs here. */
async function backendCpu(): Promise<number | null> {
  const pids = await admin<{ pid: number }[]>`select pid from pg_stat_activity where application_name = ${APP}`;
  try {
    return pids.reduce((t, { pid }) => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return t + (Number(f[11]) + Number(f[12])) / 100;
    }, 0);
  } catch {
    return null;
  }
}

type Round = { rate: number; cpuUs: number | null; lockWaits: number };

async function run(mode: Mode): Promise<Round> {
  for (const [t, m] of Object.entries(TRIGGERS)) await sql.unsafe(`alter table reservations ${m === mode ? 'enable' : 'disable'} trigger ${t}`);
  await Promise.all(Array.from({ length: config.db.max }, () => sql`select 1`));
  const cpu0 = await backendCpu();
  let samples = 0;
  let waiting = 0;
  const sampler = setInterval(() => {
    void admin<{ n: number }[]>`select count(*)::int as n from pg_stat_activity
      where application_name = ${APP} and wait_event_type = 'Lock'`.then(([r]) => (samples++, (waiting += r!.n)), () => {});
  }, 20);
  const writer = new GroupCommit<NewHold, true>({ maxBatch: 256, concurrency: 4, flush: (holds) => insertHolds(sql, holds) });
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const now = Date.now();
        await writer.add({
          id: randomUUID(), eventId, userId: `u-${randomUUID()}`, zone: 'GA', quantity: 1, seats: [], totalCents: 100,
          idempotencyKey: null, requestHash: 'h', expiresAt: new Date(now + 600_000), createdAt: new Date(now), deadline: new Date(now + 10_000),
        });
        n++;
      }
    }),
  );
  const rate = Math.round(n / ((performance.now() - started) / 1000));
  clearInterval(sampler);
  const cpu1 = await backendCpu();
  return { rate, cpuUs: cpu0 === null || cpu1 === null ? null : Math.round(((cpu1 - cpu0) * 1e6) / n), lockWaits: waiting / Math.max(samples, 1) };
}

const UPDATE_TRIGGERS: Record<string, Mode> = { reservations_usage_update: 'with', bench_usage_update_00004: 'with00004' };

/** Milliseconds for one statement expiring `expireRows` holds, each counted by the guard at its insert. */
async function expire(mode: Mode): Promise<number> {
  await sql.unsafe(`alter table reservations enable trigger reservations_usage_insert`);
  await sql.unsafe(`alter table reservations disable trigger bench_usage_insert_00004`);
  const now = Date.now();
  const holds = Array.from({ length: expireRows }, (): NewHold => ({
    id: randomUUID(), eventId, userId: `x-${randomUUID()}`, zone: 'GA', quantity: 1, seats: [], totalCents: 100,
    idempotencyKey: null, requestHash: 'h', expiresAt: new Date(now), createdAt: new Date(now), deadline: new Date(now + 60_000),
  }));
  for (let i = 0; i < holds.length; i += 256) await insertHolds(sql, holds.slice(i, i + 256));
  for (const [t, m] of Object.entries(UPDATE_TRIGGERS)) await sql.unsafe(`alter table reservations ${m === mode ? 'enable' : 'disable'} trigger ${t}`);
  const started = performance.now();
  await sql.begin(async (tx) => {
    await tx`set local statement_timeout = 0`;
    await tx`update reservations set status = 'expired', expired_at = now() where id = any(${holds.map((h) => h.id)}::uuid[])`;
  });
  return Math.round(performance.now() - started);
}

try {
  const modes: Mode[] = ['without', 'with', 'with00004'];
  const res: Record<Mode, Round[]> = { without: [], with: [], with00004: [] };
  await run('without'); // warm-up
  for (let r = 0; r < rounds; r++) for (const m of modes) res[m].push(await run(m));
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const label: Record<Mode, string> = { without: 'without the guard:      ', with: 'with the guard:         ', with00004: 'with the 00004 trigger: ' };
  for (const m of modes) {
    const rs = res[m];
    const cpu = rs.every((r) => r.cpuUs !== null) ? `; backend CPU µs/hold ${rs.map((r) => r.cpuUs).join(', ')}` : '';
    console.log(`durable holds/s ${label[m]}${rs.map((r) => r.rate).join(', ')} (median ${med(rs.map((r) => r.rate))})${cpu}; batches waiting on a lock ${rs.map((r) => r.lockWaits.toFixed(2)).join(', ')}`);
  }
  const cost = (m: Mode) => (100 * (1 - med(res[m].map((r) => r.rate)) / med(res.without.map((r) => r.rate)))).toFixed(1);
  console.log(`cost: ${cost('with')}% (00004's trigger: ${cost('with00004')}%) (one GA zone: every batch updates the same counter row)`);
  const ms: Record<Mode, number[]> = { without: [], with: [], with00004: [] };
  for (let r = 0; r < rounds; r++) for (const m of modes) ms[m].push(await expire(m));
  for (const m of modes) console.log(`ms to expire ${expireRows} holds in one statement ${label[m]}${ms[m].join(', ')} (median ${med(ms[m])})`);
} finally {
  await sql.end({ timeout: 5 });
  await admin.unsafe(`drop schema "${schema}" cascade`);
  await admin.end({ timeout: 5 });
}

function guard00004(): string {
  const text = readFileSync(new URL('../../migrations/00004_limit_guard.sql', import.meta.url), 'utf8');
  const from = text.indexOf('create function apply_usage');
  const to = text.indexOf('-- Reservations made before this migration.');
  if (from < 0 || to < from) throw new Error('migrations/00004_limit_guard.sql: functions and triggers not found');
  const renames: [string, string][] = [
    ['apply_usage', 'bench_apply_usage_00004'],
    ['usage_after_insert', 'bench_usage_after_insert_00004'],
    ['usage_after_update', 'bench_usage_after_update_00004'],
    ['usage_after_delete', 'bench_usage_after_delete_00004'],
    ['reservations_usage_insert', 'bench_usage_insert_00004'],
    ['reservations_usage_update', 'bench_usage_update_00004'],
    ['reservations_usage_delete', 'bench_usage_delete_00004'],
  ];
  return renames.reduce((ddl, [a, b]) => ddl.replace(new RegExp(`\\b${a}\\b`, 'g'), b), text.slice(from, to));
}
