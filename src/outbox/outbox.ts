import { randomUUID } from 'node:crypto';
import type { Db } from '../db/client';
import { dbQuery } from '../db/observe';
import { SCHEMA_VERSION, type BookingEventType, type ReservationWire } from './message';

export type OutboxMessage = {
  /** Kafka key: the reservation id, so one booking's messages stay in order. */
  key: string;
  userId: string;
  /** Fields besides id, type, schemaVersion, userId and occurredAt. */
  body: Record<string, unknown>;
};

/**
 * Writes Kafka messages into the outbox, inside the caller's transaction, so a state change
 * and its message commit or roll back together. The relay (worker) publishes them later;
 * the request never waits for Kafka.
 */
export async function enqueueMessages(
  tx: Db,
  topic: string,
  type: BookingEventType,
  items: OutboxMessage[],
  headers: Record<string, string> = {},
): Promise<void> {
  if (!items.length) return;
  const occurredAt = new Date().toISOString();
  const messages = items.map((m) => {
    const id = randomUUID();
    return { id, key: m.key, payload: { id, type, schemaVersion: SCHEMA_VERSION, userId: m.userId, occurredAt, ...m.body } };
  });
  await dbQuery(tx, 'outbox_insert', { 'boxoffice.batch_size': messages.length, 'messaging.message.type': type }, () => tx`
    insert into outbox (message_id, topic, key, type, payload, headers)
    select m.id, ${topic}, m.key, ${type}, m.payload, ${tx.json(headers)}
    from jsonb_to_recordset(${tx.json(messages)}) as m(id uuid, key text, payload jsonb)`);
}

export type BookingItem = { reservation: ReservationWire; userId: string; extra?: Record<string, unknown> };

/** One message per reservation state change, with the reservation object (and extra fields, e.g. the refund). */
export function enqueueBookingEvents(
  tx: Db,
  topic: string,
  type: BookingEventType,
  items: BookingItem[],
  headers: Record<string, string> = {},
): Promise<void> {
  return enqueueMessages(
    tx,
    topic,
    type,
    items.map((i) => ({ key: i.reservation.id, userId: i.userId, body: { reservation: i.reservation, ...i.extra } })),
    headers,
  );
}

/** Unsent rows and the age of the oldest: the relay's backlog, for metrics. */
export async function outboxBacklog(sql: Db): Promise<{ backlog: number; oldestAgeSeconds: number }> {
  const [row] = await sql<{ backlog: number; age: number }[]>`
    select count(*)::int as backlog,
      coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as age
    from outbox where sent_at is null`;
  return { backlog: row!.backlog, oldestAgeSeconds: row!.age };
}
