import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createKafka, ensureTopic } from '../src/outbox/kafka';
import { bookingMessageSchema } from '../src/outbox/message';
import { createRelayKafka, OutboxRelay } from '../src/outbox/relay';
import { startHarness, type Harness } from './harness';
import { collectTopic, eventually } from './kafka/collect';

let h: Harness;
let kafka: Kafka;
let topic: string;
const relays: OutboxRelay[] = [];

beforeAll(async () => {
  topic = `t.booking.${randomUUID().slice(0, 8)}`;
  h = await startHarness({ KAFKA_TOPIC: topic });
  kafka = createKafka(h.config.kafka, h.core.logger);
  await ensureTopic(kafka, topic, 3);
});
afterAll(async () => {
  await Promise.all(relays.map((r) => r.stop()));
  await h.close();
});

function relay(opts: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}) {
  const r = new OutboxRelay({ sql: h.core.sql, kafka: createRelayKafka(h.config.kafka, h.core.logger), logger: h.core.logger, topics: [topic], ...opts });
  relays.push(r);
  return r;
}

describe('outbox relay', () => {
  it('publishes a confirm within 5 s, keyed by reservation id, in the api.md shape', async () => {
    const collector = await collectTopic(kafka, topic);
    // No fallback poll within the test's window: only LISTEN/NOTIFY can wake the relay in time.
    const r = relay({ pollMs: 60_000 });
    await r.start();
    try {
      const ev = await h.createEvent();
      const user = await h.token(`u-${randomUUID()}`);
      const held = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: user, body: { seats: ['A-1-1', 'A-1-2'] } });
      expect(held.status).toBe(201);
      const t0 = Date.now();
      const confirmed = await h.call('POST', `/v1/reservations/${held.body.id}/confirm`, { token: user, body: { paymentRef: 'p1' } });
      expect(confirmed.status).toBe(200);

      const arrived = await collector.waitFor((m) => m.some((x) => x.key === held.body.id), 5_000);
      expect(arrived, 'the confirm reached Kafka within 5 s (LISTEN/NOTIFY wake-up)').toBe(true);
      expect(Date.now() - t0).toBeLessThan(5_000);

      const msgs = collector.received.filter((x) => x.key === held.body.id);
      expect(msgs).toHaveLength(1);
      const value = JSON.parse(msgs[0]!.value);
      expect(bookingMessageSchema.safeParse(value).success).toBe(true);
      expect(Object.keys(value).sort()).toEqual(['id', 'occurredAt', 'reservation', 'schemaVersion', 'type', 'userId']);
      expect(value.schemaVersion).toBe(1);
      expect(value).toMatchObject({
        type: 'booking.confirmed',
        reservation: {
          id: held.body.id,
          eventId: ev.id,
          status: 'confirmed',
          zone: 'A',
          quantity: 2,
          seats: ['A-1-1', 'A-1-2'],
          totalCents: 18000,
          bookingCode: confirmed.body.bookingCode,
        },
      });
      expect(msgs[0]!.headers['message-id']).toBe(value.id);
      expect(msgs[0]!.headers['message-type']).toBe('booking.confirmed');

      // The value is byte for byte the outbox payload, and the row is marked sent (by the
      // relay's commit, which follows the broker's ack: a consumer may see it a moment earlier).
      const row = async () =>
        (await h.core.sql<{ payload: string; sent_at: Date | null }[]>`
          select payload::text as payload, sent_at from outbox where message_id = ${value.id}`)[0]!;
      expect((await row()).payload).toBe(msgs[0]!.value);
      expect(await eventually(async () => (await row()).sent_at !== null, 2_000), 'the row marked sent after the ack').toBe(true);
    } finally {
      await collector.stop();
    }
  });

  it('several relays at once publish each row exactly once (SKIP LOCKED)', async () => {
    const n = 3_000;
    const ids = Array.from({ length: n }, () => randomUUID());
    await h.core.sql`
      insert into outbox (message_id, topic, key, type, payload)
      select m, ${topic}, m::text, 'booking.confirmed', jsonb_build_object('id', m)
      from unnest(${ids}::uuid[]) as m`;
    const collector = await collectTopic(kafka, topic);
    try {
      const racing = [relay({ batchSize: 64 }), relay({ batchSize: 64 }), relay({ batchSize: 64 })];
      await Promise.all(racing.map((r) => r.start()));
      const wanted = new Set(ids);
      const done = await collector.waitFor((m) => m.filter((x) => wanted.has(x.key as never)).length >= n, 30_000);
      expect(done, `all ${n} rows published within 30 s (got ${collector.received.filter((x) => wanted.has(x.key as never)).length})`).toBe(true);
      // Give a would-be duplicate time to show up before counting.
      await new Promise((r) => setTimeout(r, 500));
      const mine = collector.received.filter((x) => wanted.has(x.key as never));
      expect(mine).toHaveLength(n);
      expect(new Set(mine.map((x) => x.headers['message-id'])).size).toBe(n);
      const pending = await eventually(async () => {
        const [row] = await h.core.sql<{ n: number }[]>`
          select count(*)::int as n from outbox where message_id = any(${ids}::uuid[]) and sent_at is null`;
        return row!.n === 0;
      }, 5_000);
      expect(pending, 'no row left unsent').toBe(true);
    } finally {
      await collector.stop();
    }
  });
});
