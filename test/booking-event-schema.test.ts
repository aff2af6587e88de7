import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createKafka, ensureTopic } from '../src/outbox/kafka';
import { createRelayKafka, OutboxRelay } from '../src/outbox/relay';
import { startHarness, type Harness } from './harness';
import { collectTopic } from './kafka/collect';
import { expireNow, holdSeats } from './payments/helpers';

let h: Harness;
let kafka: Kafka;
let relay: OutboxRelay;
let topic: string;

beforeAll(async () => {
  topic = `t.schema.${randomUUID().slice(0, 8)}`;
  h = await startHarness({ NODE_ENV: 'development', KAFKA_TOPIC: topic, PAYMENT_PROVIDER: 'dev' });
  kafka = createKafka(h.config.kafka, h.core.logger);
  await ensureTopic(kafka, topic, 1);
  relay = new OutboxRelay({ sql: h.core.sql, kafka: createRelayKafka(h.config.kafka, h.core.logger), logger: h.core.logger, topics: [topic] });
  await relay.start();
});
afterAll(async () => {
  await relay.stop();
  await h.close();
});

describe('booking.events schema', () => {
  it('every kind of message read back from Kafka validates against the served JSON Schema', async () => {
    const served = await h.call('GET', '/v1/schemas/booking-event.json');
    expect(served.status).toBe(200);
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
    (addFormats as unknown as (a: Ajv2020) => void)(ajv);
    const validate = ajv.compile(served.body);

    const collector = await collectTopic(kafka, topic);
    try {
      const ev = (await h.createEvent({ holdSeconds: 60 })).id;
      // confirmed (paid) + checked in + refunded, cancelled, expired
      const paid = await holdSeats(h, ev, ['A-1-1']);
      const c = await h.call('POST', `/v1/reservations/${paid.reservation.id}/checkout`, { token: paid.token });
      await h.call('POST', `/v1/dev/payments/${c.body.paymentId}/succeed`, { token: paid.token });
      const tickets = await h.call('GET', `/v1/reservations/${paid.reservation.id}/tickets`, { token: paid.token });
      await h.call('POST', `/v1/admin/events/${ev}/checkins`, { token: h.adminToken, body: { code: tickets.body.tickets[0].code } });
      await h.call('POST', `/v1/admin/reservations/${paid.reservation.id}/refund`, { token: h.adminToken });
      const cancelled = await holdSeats(h, ev, ['A-1-2']);
      await h.call('POST', `/v1/reservations/${cancelled.reservation.id}/cancel`, { token: cancelled.token });
      const expired = await holdSeats(h, ev, ['A-1-3']);
      await expireNow(h, expired.reservation.id);

      const want = ['booking.confirmed', 'ticket.checked_in', 'booking.refunded', 'booking.cancelled', 'booking.expired'];
      expect(await collector.waitFor((m) => m.length >= want.length, 15_000)).toBe(true);
      const values = collector.received.map((m) => JSON.parse(m.value));
      expect(values.map((v) => v.type).sort()).toEqual([...want].sort());
      for (const v of values) {
        const ok = validate(v);
        expect(ok, `${v.type}: ${JSON.stringify(validate.errors)}`).toBe(true);
        expect(v).toMatchObject({ schemaVersion: 1 });
      }
      expect(values.find((v) => v.type === 'booking.confirmed').userId).toBe(paid.user);
      expect(values.find((v) => v.type === 'ticket.checked_in').userId).toBe(paid.user);

      // The schema can say no: without userId, or another version, a message is invalid.
      const { userId: _drop, ...noUser } = values[0];
      expect(validate(noUser)).toBe(false);
      expect(validate({ ...values[0], schemaVersion: 2 })).toBe(false);
    } finally {
      await collector.stop();
    }
  });

  it('the AsyncAPI document names every message type the schema allows, with the served schema as payload', () => {
    const doc = parse(readFileSync(new URL('../docs/asyncapi.yaml', import.meta.url), 'utf8'));
    expect(doc.asyncapi).toMatch(/^3\./);
    const names = Object.values(doc.components.messages as Record<string, { name: string; payload: { $ref: string } }>);
    expect(names.map((m) => m.name).sort()).toEqual(
      ['booking.cancelled', 'booking.confirmed', 'booking.expired', 'booking.refunded', 'ticket.checked_in'],
    );
    expect(new Set(names.map((m) => m.payload.$ref))).toEqual(new Set(['/v1/schemas/booking-event.json']));
  });
});
