import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { DedupingConsumer } from '../src/consumers/dedupe';
import { notificationHandler } from '../src/consumers/notifier';
import { createApp } from '../src/app';
import { createKafka, ensureTopic, kafkaReadiness } from '../src/outbox/kafka';
import { createRelayKafka, OutboxRelay } from '../src/outbox/relay';
import { startHarness, type Harness } from './harness';
import { eventually } from './kafka/collect';
import { privateBroker } from './kafka/private-broker';

const broker = privateBroker(19092);
let h: Harness;
let kafka: Kafka;
let relay: OutboxRelay;
let consumer: DedupingConsumer;
let readiness: ReturnType<typeof kafkaReadiness>;
let readyz: () => Promise<{ status: number; body: any }>;
const consumerName = `test-notifications-${randomUUID().slice(0, 8)}`;
const topic = `t.booking.down.${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  await broker.start();
  h = await startHarness({ KAFKA_TOPIC: topic, KAFKA_BROKERS: broker.brokers });
  kafka = createKafka(h.config.kafka, h.core.logger);
  await ensureTopic(kafka, topic, 3);
  readiness = kafkaReadiness(kafka);
  const { app } = createApp({
    core: h.core,
    readiness: { postgres: () => h.core.sql`select 1`, redis: () => h.core.redis.ping(), kafka: readiness.check },
  });
  readyz = async () => {
    const res = await app.request('/readyz');
    return { status: res.status, body: await res.json() };
  };
  consumer = new DedupingConsumer({
    kafka,
    sql: h.core.sql,
    logger: h.core.logger,
    name: consumerName,
    topic,
    handle: notificationHandler(h.core.logger),
  });
  await consumer.start();
  relay = new OutboxRelay({ sql: h.core.sql, kafka: createRelayKafka(h.config.kafka, h.core.logger), logger: h.core.logger, topics: [topic], backoffMaxMs: 2_000 });
  await relay.start();
});

afterAll(async () => {
  await relay?.stop();
  await consumer?.stop().catch(() => {});
  await readiness?.close();
  await h?.close();
  await broker.stop();
});

async function recorded(ids: string[]) {
  return h.core.sql<{ reservation_id: string; type: string; n: number }[]>`
    select reservation_id, min(type) as type, count(*)::int as n from consumer_messages
    where consumer = ${consumerName} and reservation_id = any(${ids}::uuid[])
    group by reservation_id`;
}

describe('outbox with the broker down', () => {
  it('keeps confirming, queues in the outbox, and delivers every message once the broker is back', { timeout: 180_000 }, async () => {
    const ev = await h.createEvent({
      maxSeatsPerUser: 1,
      zones: [{ code: 'FLOOR', name: 'Floor', priceCents: 5000, kind: 'ga', capacity: 250 }],
    });
    const holdAndConfirm = async () => {
      const user = await h.token(`u-${randomUUID()}`);
      const held = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: user, body: { zone: 'FLOOR', quantity: 1 } });
      expect(held.status).toBe(201);
      const conf = await h.call('POST', `/v1/reservations/${held.body.id}/confirm`, { token: user, body: {} });
      expect(conf.status).toBe(200);
      return held.body.id as string;
    };

    // The pipeline works end to end before the outage.
    const warm = await holdAndConfirm();
    expect(await eventually(async () => (await recorded([warm])).length === 1, 20_000), 'the warm-up message consumed before the outage').toBe(true);
    expect((await readyz()).status).toBe(200);

    await broker.stop();
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.checks).toMatchObject({ kafka: 'down', postgres: 'up', redis: 'up' });

    // Confirms never wait for Kafka: all 200 succeed while the broker is gone.
    const ids: string[] = [];
    for (let i = 0; i < 200; i += 20) {
      ids.push(...(await Promise.all(Array.from({ length: 20 }, holdAndConfirm))));
    }
    const [pending] = await h.core.sql<{ n: number }[]>`select count(*)::int as n from outbox
      where key = any(${ids}) and type = 'booking.confirmed' and sent_at is null`;
    expect(pending!.n).toBe(200);
    expect(await eventually(() => !relay.healthy, 15_000), 'the relay reports the broker down').toBe(true);

    await broker.start();
    const delivered = await eventually(async () => (await recorded(ids)).length === 200, 90_000, 250);
    expect(delivered, 'all 200 messages consumed after the broker returned').toBe(true);
    const rows = await recorded(ids);
    expect(rows.every((r) => r.n === 1 && r.type === 'booking.confirmed')).toBe(true);
    expect(new Set(rows.map((r) => r.reservation_id))).toEqual(new Set(ids));
    const [unsent] = await h.core.sql<{ n: number }[]>`select count(*)::int as n from outbox
      where key = any(${ids}) and sent_at is null`;
    expect(unsent!.n).toBe(0);
    expect(relay.healthy).toBe(true);
    expect(await eventually(async () => (await readyz()).status === 200, 15_000, 250), '/readyz back to 200').toBe(true);
  });
});
