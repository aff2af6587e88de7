import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka, Producer } from 'kafkajs';
import { DedupingConsumer } from '../src/consumers/dedupe';
import { notificationHandler } from '../src/consumers/notifier';
import { createKafka, ensureTopic } from '../src/outbox/kafka';
import { startHarness, type Harness } from './harness';
import { eventually } from './kafka/collect';

let h: Harness;
let kafka: Kafka;
let producer: Producer;
const topic = `t.booking.consumer.${randomUUID().slice(0, 8)}`;
const group = `test-notifications-${randomUUID().slice(0, 8)}`;
const members: DedupingConsumer[] = [];

beforeAll(async () => {
  h = await startHarness({ KAFKA_TOPIC: topic });
  kafka = createKafka(h.config.kafka, h.core.logger);
  await ensureTopic(kafka, topic, 3);
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});
afterAll(async () => {
  await Promise.all(members.map((m) => m.stop().catch(() => {})));
  await producer.disconnect();
  await h.close();
});

function message(type: 'booking.confirmed' | 'booking.expired', reservationId = randomUUID()) {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    userId: 'buyer-1',
    occurredAt: now,
    reservation: {
      id: reservationId,
      eventId: randomUUID(),
      status: type === 'booking.confirmed' ? 'confirmed' : 'expired',
      zone: 'A',
      quantity: 2,
      seats: ['A-1-1', 'A-1-2'],
      totalCents: 18000,
      expiresAt: now,
      createdAt: now,
      confirmedAt: type === 'booking.confirmed' ? now : null,
      bookingCode: type === 'booking.confirmed' ? 'ABCDEFGHJK' : null,
    },
  };
}

describe('notifications consumer', () => {
  it('handles each message id once across redeliveries and group members, skipping malformed ones', async () => {
    const handled: { type: string; duplicate: boolean }[] = [];
    for (let i = 0; i < 2; i++) {
      const m = new DedupingConsumer({
        kafka,
        sql: h.core.sql,
        logger: h.core.logger,
        name: group,
        topic,
        handle: notificationHandler(h.core.logger),
        onMessage: (type, duplicate) => handled.push({ type, duplicate }),
      });
      members.push(m);
      await m.start();
    }

    const msgs = Array.from({ length: 40 }, (_, i) => message(i % 4 ? 'booking.confirmed' : 'booking.expired'));
    const send = (list: { key: string; value: string }[]) => producer.send({ topic, acks: -1, messages: list });
    await send(msgs.map((m) => ({ key: m.reservation.id, value: JSON.stringify(m) })));
    // A relay retry republishes the first ten (same message ids), and a poison message arrives.
    await send([{ key: 'junk', value: '{"not":"a booking"}' }]);
    await send(msgs.slice(0, 10).map((m) => ({ key: m.reservation.id, value: JSON.stringify(m) })));

    const ids = msgs.map((m) => m.id);
    const count = async () => {
      const [row] = await h.core.sql<{ n: number }[]>`select count(*)::int as n from consumer_messages
        where consumer = ${group} and message_id = any(${ids}::uuid[])`;
      return row!.n;
    };
    const dups = () => handled.filter((x) => x.duplicate).length;
    expect(await eventually(async () => (await count()) === 40 && dups() >= 10, 30_000, 100), 'all 40 handled once and the 10 redeliveries recognised').toBe(true);
    // At least the ten republished ones were recognised (a rebalance may redeliver more),
    // and the handler ran exactly once per message id.
    expect(dups()).toBeGreaterThanOrEqual(10);
    expect(handled.filter((x) => !x.duplicate)).toHaveLength(40);

    const rows = await h.core.sql<{ message_id: string; type: string; reservation_id: string; outcome: string }[]>`
      select message_id, type, reservation_id, outcome from consumer_messages where consumer = ${group}`;
    expect(rows).toHaveLength(40);
    const byId = new Map(rows.map((r) => [r.message_id, r]));
    for (const m of msgs) {
      const r = byId.get(m.id)!;
      expect(r).toMatchObject({ type: m.type, reservation_id: m.reservation.id });
      expect(r.outcome).toMatch(m.type === 'booking.confirmed' ? /^Booking ABCDEFGHJK confirmed/ : /expired$/);
    }
  });
});
