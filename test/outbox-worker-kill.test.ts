import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DedupingConsumer } from '../src/consumers/dedupe';
import { notificationHandler } from '../src/consumers/notifier';
import { createSql, type Sql } from '../src/db/client';
import { createKafka, ensureTopic } from '../src/outbox/kafka';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS, TEST_REDIS_URL } from './env';
import { startHarness, type Harness } from './harness';
import { collectTopic, eventually } from './kafka/collect';
import { freePort, spawnEntry } from './process';

// Worker-kill drill: a real worker process is SIGKILLed while its relay holds a batch that
// the broker has acknowledged but PostgreSQL has not marked sent. A test transaction holds
// a SHARE lock on the outbox (it lets the relay claim rows, FOR UPDATE, but not mark them
// sent), so the kill lands in exactly that window every time rather than by luck.
const CONFIRMS = 1_000;
const BATCH = 50;

let h: Harness;
let locker: Sql;
const topic = `t.booking.kill.${randomUUID().slice(0, 8)}`;
const consumerName = `test-kill-${randomUUID().slice(0, 8)}`;
const children: ReturnType<typeof spawnEntry>[] = [];
let all: Set<string>;
let rowsMs = 0;

beforeAll(async () => {
  h = await startHarness({ KAFKA_TOPIC: topic, RATE_LIMIT_MAX: '0' });
  await ensureTopic(createKafka(h.config.kafka, h.core.logger), topic, 3);
  locker = createSql({ ...h.config.db, max: 1, statementTimeoutMs: 60_000 });
  const rowsFrom = Date.now();
  // The rows, through the real code path: holds and confirms, each confirm one booking.confirmed.
  const ev = await h.createEvent({ maxSeatsPerUser: 10, zones: [{ code: 'FLOOR', name: 'Floor', priceCents: 100, kind: 'ga', capacity: CONFIRMS }] });
  const users = await Promise.all(Array.from({ length: CONFIRMS / 10 }, (_, i) => h.token(`kill-${i}-${randomUUID()}`)));
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let i = next++; i < CONFIRMS; i = next++) {
      const token = users[i % users.length]!;
      const held = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token, body: { zone: 'FLOOR', quantity: 1 } });
      expect(held.status).toBe(201);
      expect((await h.call('POST', `/v1/reservations/${held.body.id}/confirm`, { token })).status).toBe(200);
    }
  }));
  const outbox = await h.core.sql<{ message_id: string }[]>`select message_id from outbox where topic = ${topic}`;
  expect(outbox.length).toBe(CONFIRMS);
  all = new Set(outbox.map((r) => r.message_id));
  rowsMs = Date.now() - rowsFrom;
}, 120_000);

afterAll(async () => {
  await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise<void>((r) => {
    const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
    c.once('exit', () => (clearTimeout(t), r()));
    c.kill('SIGTERM');
  })));
  await locker?.end({ timeout: 5 });
  await h?.close();
});

const startWorker = async () => {
  const worker = spawnEntry('worker', {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: TEST_DATABASE_URL,
    PG_SCHEMA: h.config.db.schema!,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: h.config.redis.prefix,
    KAFKA_BROKERS: TEST_KAFKA_BROKERS,
    KAFKA_TOPIC: topic,
    RELAY_BATCH_SIZE: String(BATCH),
    // The blocked "mark sent" must end by the kill, not by a statement timeout and a retry.
    PG_STATEMENT_TIMEOUT_MS: '15000',
    REBUILD_QUIESCE_MS: '16000',
    RECONCILE_ORPHAN_GRACE_MS: '16000',
    WORKER_METRICS_PORT: String(await freePort()),
  });
  children.push(worker);
  return worker;
};

it('SIGKILL of the worker mid relay batch: every outbox row reaches Kafka, the acknowledged-but-unmarked batch twice, and the consumer handles each message once', async () => {
  const started = Date.now();
  // Two readers of the topic: a raw one that counts every copy, and the real notifications
  // consumer (its dedupe table in this schema) whose handler counts what it really handled.
  const kafka = createKafka(h.config.kafka, h.core.logger);
  const raw = await collectTopic(kafka, topic);
  const copies = () => {
    const n = new Map<string, number>();
    for (const r of raw.received) n.set(r.headers['message-id']!, (n.get(r.headers['message-id']!) ?? 0) + 1);
    return n;
  };
  const handled = new Map<string, number>();
  let skipped = 0;
  const inner = notificationHandler(h.core.logger);
  const consumer = new DedupingConsumer({
    kafka,
    sql: h.core.sql,
    logger: h.core.logger,
    name: consumerName,
    topic,
    handle: async (msg, tx) => {
      const outcome = await inner(msg, tx);
      handled.set(msg.id, (handled.get(msg.id) ?? 0) + 1);
      return outcome;
    },
    onMessage: (_type, duplicate) => void (duplicate && skipped++),
  });
  await consumer.start();

  try {
    const sent = async () => (await h.core.sql<{ n: number }[]>`select count(*)::int as n from outbox where sent_at is not null`)[0]!.n;
    // Ready before the relay starts, so the lock lands a few batches in, not after the last.
    const lock = await locker.reserve();
    const first = await startWorker();
    // Let the relay publish and mark a few batches, then stop it from marking any more.
    expect(await eventually(async () => (await sent()) >= 2 * BATCH, 30_000, 10), first.output()).toBe(true);
    await lock`begin`;
    await lock`lock table outbox in share mode`;
    const lockPid = (await lock<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid;
    const sentBefore = new Set((await h.core.sql<{ message_id: string }[]>`select message_id from outbox where sent_at is not null`).map((r) => r.message_id));

    // In flight: the relay's "mark sent" waits for the lock, so the broker has acknowledged
    // the whole batch (acks=-1), and the raw reader sees its messages arrive.
    const blocked = async () =>
      (await h.core.sql`select pid from pg_stat_activity where ${lockPid}::int = any(pg_blocking_pids(pid)) and query like 'update outbox set sent_at%'`).length > 0;
    expect(await eventually(blocked, 15_000, 20), first.output()).toBe(true);
    const unmarked = async () => {
      const onKafka = [...copies().keys()];
      return h.core.sql<{ message_id: string }[]>`select message_id from outbox where sent_at is null and message_id = any(${onKafka}::uuid[])`;
    };
    expect(await eventually(async () => (await unmarked()).length === BATCH, 15_000, 20)).toBe(true);
    const inFlight = new Set((await unmarked()).map((r) => r.message_id));
    const killedAt = Date.now();
    const exited = new Promise((r) => first.once('exit', r));
    first.kill('SIGKILL');
    await exited;
    const sentAtKill = await sent();
    // The dead worker's transaction never commits: its backend rolls back once the lock is gone.
    await lock`commit`;
    lock.release();

    const second = await startWorker();
    const delivered = await eventually(async () => (await sent()) === CONFIRMS && [...all].every((id) => copies().has(id)), 30_000, 100);
    expect(delivered, second.output()).toBe(true);
    const total = raw.received.length;
    expect(await eventually(() => [...handled.values()].reduce((a, b) => a + b, 0) + skipped >= total, 20_000, 100)).toBe(true);
    await sleep(500);

    const n = copies();
    const repeated = [...n].filter(([, c]) => c > 1).map(([id]) => id);
    const [recorded] = await h.core.sql<{ n: number; distinct: number }[]>`
      select count(*)::int as n, count(distinct message_id)::int as distinct from consumer_messages where consumer = ${consumerName}`;
    console.log('worker-kill drill', {
      rows: CONFIRMS,
      rowsMs,
      batch: BATCH,
      sentBeforeLock: sentBefore.size,
      sentAtKill,
      inFlightAtKill: inFlight.size,
      recoveredMs: Date.now() - killedAt,
      kafkaMessages: total,
      repeated: repeated.length,
      consumerHandled: handled.size,
      consumerSkippedDuplicates: skipped,
      totalMs: Date.now() - started,
    });

    // Every row reached Kafka and is marked sent; nothing else was published.
    expect(new Set(n.keys())).toEqual(all);
    expect(sentAtKill).toBe(sentBefore.size);
    // The batch the broker acknowledged before the kill went out again, and only it: rows
    // marked sent before the kill were never republished.
    expect(inFlight.size).toBe(BATCH);
    expect(new Set(repeated)).toEqual(inFlight);
    for (const id of inFlight) expect(n.get(id)).toBe(2);
    for (const id of sentBefore) expect(n.get(id)).toBe(1);
    // The consumer handled every message id exactly once and skipped every repeat it saw.
    expect(handled.size).toBe(CONFIRMS);
    for (const c of handled.values()) expect(c).toBe(1);
    expect(skipped).toBe(total - CONFIRMS);
    expect(recorded).toEqual({ n: CONFIRMS, distinct: CONFIRMS });
  } finally {
    await consumer.stop().catch(() => {});
    await raw.stop().catch(() => {});
  }
}, 60_000);
