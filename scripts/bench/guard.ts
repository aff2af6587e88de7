// npm run bench:guard [-- --seconds 5 --rounds 2 --in-flight 512]
//
// What PostgreSQL's limit guard (migrations/00004_limit_guard.sql: usage counters kept by
// statement triggers, CHECK constraints) costs the durable hold write: the application's
// group-commit insert (GroupCommit + insertHolds, batches up to 256, 4 in flight) of GA holds,
// new user each, with the guard's insert trigger enabled and disabled, rounds interleaved.
// PostgreSQL only (no Redis, no HTTP): the figure is holds made durable per second.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/config';
import { createSql } from '../../src/db/client';
import { GroupCommit } from '../../src/db/group-commit';
import { ensureDatabase, migrate } from '../../src/db/migrate';
import type { NewHold } from '../../src/reservations/model';
import { insertHolds } from '../../src/reservations/repository';

const { values: args } = parseArgs({ options: { seconds: { type: 'string' }, rounds: { type: 'string' }, 'in-flight': { type: 'string' } } });
const seconds = Number(args.seconds ?? 5);
const rounds = Number(args.rounds ?? 2);
const inFlight = Number(args['in-flight'] ?? 512);
const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/boxoffice_bench';
await ensureDatabase(url);
const schema = `bench_guard_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
const config = loadConfig({ ...process.env, DATABASE_URL: url, PG_SCHEMA: schema, PG_POOL_MAX: '8', PG_STATEMENT_TIMEOUT_MS: '10000', REBUILD_QUIESCE_MS: '11000', RECONCILE_ORPHAN_GRACE_MS: '11000' });
const admin = createSql({ ...config.db, schema: undefined, max: 1 });
await admin.unsafe(`create schema "${schema}"`);
const sql = createSql(config.db);
await migrate(sql);

const eventId = randomUUID();
await sql`insert into events (id, name, starts_at, sales_open_at, sales_close_at, hold_seconds, max_seats_per_user)
  values (${eventId}, 'bench guard', now() + interval '1 day', now() - interval '1 hour', now() + interval '1 day', 600, 10)`;
await sql`insert into zones (event_id, code, name, price_cents, kind, capacity, position) values (${eventId}, 'GA', 'GA', 100, 'ga', 100000000, 0)`;

async function run(guard: boolean): Promise<number> {
  await sql.unsafe(`alter table reservations ${guard ? 'enable' : 'disable'} trigger reservations_usage_insert`);
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
  return Math.round(n / ((performance.now() - started) / 1000));
}

try {
  const res: Record<string, number[]> = { with: [], without: [] };
  await run(false); // warm-up
  for (let r = 0; r < rounds; r++) {
    res.without!.push(await run(false));
    res.with!.push(await run(true));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`durable holds/s without the guard: ${res.without!.join(', ')} (median ${med(res.without!)})`);
  console.log(`durable holds/s with the guard:    ${res.with!.join(', ')} (median ${med(res.with!)})`);
  console.log(`cost: ${(100 * (1 - med(res.with!) / med(res.without!))).toFixed(1)}% (one GA zone: every batch updates the same counter row)`);
} finally {
  await sql.end({ timeout: 5 });
  await admin.unsafe(`drop schema "${schema}" cascade`);
  await admin.end({ timeout: 5 });
}
