// Outbox relay and seat-release worker figures, against the real PostgreSQL, Redis and Kafka:
//   1. relay throughput: drain a pre-filled outbox (messages/s), with one and with two relays
//   2. confirm-to-broker latency (outbox row's transaction start -> broker ack), p50/p99,
//      at steady confirm rates while the relay runs
//   3. seat-release throughput: expire a backlog of holds (holds/s), one worker and two
// Usage: npm run bench:relay   (boxoffice_bench database, Redis db 3, a throwaway topic on
// KAFKA_BROKERS, default 127.0.0.1:9092). Env: BENCH_OUTBOX_ROWS, BENCH_RATES, BENCH_SECONDS, BENCH_HOLDS.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config/config';
import { createCore, type Core } from '../../src/core';
import { ensureDatabase, migrate } from '../../src/db/migrate';
import { ensureTopic } from '../../src/outbox/kafka';
import { createRelayKafka, OutboxRelay, type PublishedRow } from '../../src/outbox/relay';
import { createLogger } from '../../src/shared/logger';
import { releaseExpired } from '../../src/worker/release';
import { prefixPattern } from '../../src/redis/keys';

const OUTBOX_ROWS = Number(process.env.BENCH_OUTBOX_ROWS ?? 50_000);
const RATES = (process.env.BENCH_RATES ?? '200,1000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const HOLDS = Number(process.env.BENCH_HOLDS ?? 10_000);

const topic = `bench.booking.${randomUUID().slice(0, 8)}`;
const config = loadConfig({
  ...process.env,
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/boxoffice_bench',
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/3',
  REDIS_PREFIX: `bench${randomUUID().slice(0, 6)}`,
  KAFKA_TOPIC: topic,
  PG_POOL_MAX: process.env.PG_POOL_MAX ?? '20',
  PG_STATEMENT_TIMEOUT_MS: '60000',
  // Config requires both to exceed the statement timeout.
  REBUILD_QUIESCE_MS: '61000',
  RECONCILE_ORPHAN_GRACE_MS: '61000',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
});
const logger = createLogger(config.logLevel, 'bench');
await ensureDatabase(config.db.url);
const core = createCore(config, logger, 'bench');
await migrate(core.sql);
const kafka = createRelayKafka(config.kafka, logger);
await ensureTopic(kafka, topic, 3);

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const fmt = (n: number) => Math.round(n).toLocaleString('en');

async function pending(): Promise<number> {
  const [row] = await core.sql<{ n: number }[]>`select count(*)::int as n from outbox where topic = ${topic} and sent_at is null`;
  return row!.n;
}

function relay(onPublished?: (rows: PublishedRow[]) => void) {
  return new OutboxRelay({ sql: core.sql, kafka, logger, topics: [topic], onPublished });
}

// ---------------------------------------------------------------- 1. relay throughput
for (const relays of [1, 2]) {
  // A realistic payload: the api.md message for a two-seat reservation (~450 bytes).
  await core.sql`
    insert into outbox (message_id, topic, key, type, payload)
    select m, ${topic}, k::text, 'booking.confirmed', jsonb_build_object(
      'id', m, 'type', 'booking.confirmed', 'occurredAt', now(),
      'reservation', jsonb_build_object('id', k, 'eventId', gen_random_uuid(), 'status', 'confirmed',
        'zone', 'A', 'quantity', 2, 'seats', jsonb_build_array('A-1-1', 'A-1-2'), 'totalCents', 18000,
        'expiresAt', now(), 'createdAt', now(), 'confirmedAt', now(), 'bookingCode', 'ABCDEFGHJK'))
    from (select gen_random_uuid() as m, gen_random_uuid() as k from generate_series(1, ${OUTBOX_ROWS})) s`;
  let batches = 0;
  const rs = Array.from({ length: relays }, () => relay(() => batches++));
  const t0 = performance.now();
  await Promise.all(rs.map((r) => r.start()));
  while ((await pending()) > 0) await sleep(20);
  const s = (performance.now() - t0) / 1000;
  await Promise.all(rs.map((r) => r.stop()));
  console.log(
    `relay throughput (${relays} relay${relays > 1 ? 's' : ''}, batch 500): ${fmt(OUTBOX_ROWS)} messages in ${s.toFixed(2)} s = ${fmt(OUTBOX_ROWS / s)} messages/s (${batches} batches, avg ${fmt(OUTBOX_ROWS / batches)})`,
  );
}

// ---------------------------------------------------------------- 2. confirm-to-broker latency
async function createEvent(capacity: number) {
  return core.events.create({
    name: 'bench relay',
    startsAt: new Date(Date.now() + 86_400_000).toISOString(),
    salesOpenAt: new Date(Date.now() - 60_000).toISOString(),
    holdSeconds: 600,
    maxSeatsPerUser: 6,
    zones: [{ code: 'GA', name: 'GA', priceCents: 100, kind: 'ga', capacity }],
  });
}

async function makeHolds(c: Core, eventId: string, n: number): Promise<{ id: string; userId: string }[]> {
  const out: { id: string; userId: string }[] = [];
  for (let i = 0; i < n; i += 200) {
    const chunk = await Promise.all(
      Array.from({ length: Math.min(200, n - i) }, async () => {
        const userId = `bench-${randomUUID()}`;
        const { reservation } = await c.reservations.hold({ userId, eventId, body: { zone: 'GA', quantity: 1 } });
        return { id: reservation.id, userId };
      }),
    );
    out.push(...chunk);
  }
  return out;
}

for (const rate of RATES) {
  const n = rate * SECONDS;
  const ev = await createEvent(n);
  const holds = await makeHolds(core, ev.id, n);
  const lags: number[] = [];
  const r = relay((rows) => {
    const now = Date.now();
    for (const row of rows) lags.push(now - row.createdAt.getTime());
  });
  await r.start();
  const t0 = performance.now();
  const confirms: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const h = holds[i]!;
    confirms.push(core.reservations.confirm(h.userId, h.id, null));
  }
  await Promise.all(confirms);
  const achieved = n / ((performance.now() - t0) / 1000);
  while (lags.length < n) await sleep(20);
  await r.stop();
  lags.sort((a, b) => a - b);
  console.log(
    `confirm-to-broker latency at ${fmt(rate)} confirms/s (achieved ${fmt(achieved)}/s, ${fmt(n)} confirms): p50 ${pct(lags, 50)} ms, p99 ${pct(lags, 99)} ms, max ${lags.at(-1)} ms`,
  );
}

// ---------------------------------------------------------------- 3. seat-release throughput
for (const workers of [1, 2]) {
  const ev = await createEvent(HOLDS);
  await makeHolds(core, ev.id, HOLDS);
  await core.sql`update reservations set expires_at = now() - interval '1 second'
    where event_id = ${ev.id} and status = 'held'`;
  const cores = [core, ...Array.from({ length: workers - 1 }, (_, i) => createCore(config, logger, `bench-w${i}`))];
  const t0 = performance.now();
  const counts = await Promise.all(
    cores.map((c) =>
      releaseExpired({ ...c.transitions, topic, logger, batch: config.worker.releaseBatch }),
    ),
  );
  const s = (performance.now() - t0) / 1000;
  const total = counts.reduce((a, b) => a + b, 0);
  const avail = await core.events.availability(ev.id);
  console.log(
    `seat release (${workers} worker${workers > 1 ? 's' : ''}, batch ${config.worker.releaseBatch}): ${fmt(total)} holds expired in ${s.toFixed(2)} s = ${fmt(total / s)} holds/s (split ${counts.join('/')}; GA available afterwards ${avail[0]!.available}/${HOLDS})`,
  );
  await Promise.all(cores.slice(1).map((c) => c.close()));
}

// The bench's outbox rows, topic and Redis keys are throwaway.
await core.sql`delete from outbox where topic = ${topic}`;
for (let cursor = '0'; ; ) {
  const [next, keys] = await core.redis.scan(cursor, 'MATCH', prefixPattern(config.redis.prefix), 'COUNT', 1000);
  if (keys.length) await core.redis.unlink(...keys);
  if ((cursor = next) === '0') break;
}
const admin = kafka.admin();
await admin.connect();
await admin.deleteTopics({ topics: [topic] }).catch(() => {});
await admin.disconnect();
await core.close();
