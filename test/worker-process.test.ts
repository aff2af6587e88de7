import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafka } from '../src/outbox/kafka';
import { startHarness, type Harness } from './harness';
import { freePort, spawnEntry } from './process';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS, TEST_REDIS_URL } from './env';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

it('the worker creates the topic with the configured partitions at start, so a consumer can subscribe before the first message', async () => {
  const topic = `t.fresh.${randomUUID().slice(0, 8)}`;
  const worker = spawnEntry('worker', {
    NODE_ENV: 'test',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    KAFKA_BROKERS: TEST_KAFKA_BROKERS,
    REDIS_PREFIX: h.config.redis.prefix,
    PG_SCHEMA: h.config.db.schema!,
    KAFKA_TOPIC: topic,
    KAFKA_PARTITIONS: '2',
    WORKER_METRICS_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
  });
  const exited = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)));
  const kafka = createKafka(h.config.kafka, h.core.logger);
  const admin = kafka.admin();
  await admin.connect();
  try {
    // listTopics never auto-creates a topic (a metadata request for the name could).
    const deadline = Date.now() + 30_000;
    while (!(await admin.listTopics()).includes(topic) && Date.now() < deadline) await sleep(200);
    expect(await admin.listTopics(), worker.output()).toContain(topic);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]!.partitions).toHaveLength(2);

    // Nothing was ever published to it: a consumer subscribes and joins its group all the same.
    const consumer = kafka.consumer({ groupId: `fresh-${randomUUID().slice(0, 8)}` });
    await consumer.connect();
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    let crashed: unknown = null;
    consumer.on(consumer.events.CRASH, (e) => (crashed = e.payload.error));
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    await joined;
    expect(crashed).toBeNull();
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  } finally {
    await admin.disconnect();
    worker.kill('SIGTERM');
  }
  expect(await exited, worker.output()).toBe(0);
});

it('a failed seat-release run is visible in boxoffice_job_runs_total{result="failure"}', async () => {
  const metricsPort = await freePort();
  // A schema with no tables: every seat-release run fails.
  const worker = spawnEntry('worker', {
    NODE_ENV: 'test',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    KAFKA_BROKERS: TEST_KAFKA_BROKERS,
    REDIS_PREFIX: h.config.redis.prefix,
    PG_SCHEMA: `nope_${randomUUID().replaceAll('-', '').slice(0, 8)}`,
    KAFKA_TOPIC: `t.fail.${randomUUID().slice(0, 8)}`,
    RELEASE_INTERVAL_MS: '100',
    WORKER_METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'info',
  });
  const exited = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)));
  try {
    const failures = async () => {
      const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => '');
      const m = /^boxoffice_job_runs_total\{(?=[^}]*job="seat-release")(?=[^}]*result="failure")[^}]*\} (\d+)/m.exec(text);
      return Number(m?.[1] ?? 0);
    };
    const deadline = Date.now() + 30_000;
    while ((await failures()) < 2 && Date.now() < deadline) await sleep(200);
    expect(await failures(), worker.output()).toBeGreaterThanOrEqual(2);
  } finally {
    worker.kill('SIGTERM');
  }
  await exited;
});
