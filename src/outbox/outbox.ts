import { randomUUID } from 'node:crypto';
import type { Db } from '../db/client';
import { dbQuery } from '../db/observe';
import type { BookingEventType, ReservationWire } from './message';

/**
 * Writes the Kafka message for a reservation's state change into the outbox, inside the
 * caller's transaction, so the change and its message commit or roll back together.
 * The relay (worker) publishes it later; the request never waits for Kafka.
 */
export async function enqueueBookingEvents(
  tx: Db,
  topic: string,
  type: BookingEventType,
  reservations: ReservationWire[],
  headers: Record<string, string> = {},
): Promise<void> {
  if (!reservations.length) return;
  const occurredAt = new Date().toISOString();
  const messages = reservations.map((reservation) => {
    const id = randomUUID();
    return { id, key: reservation.id, payload: { id, type, occurredAt, reservation } };
  });
  await dbQuery(tx, 'outbox_insert', { 'boxoffice.batch_size': messages.length, 'messaging.message.type': type }, () => tx`
    insert into outbox (message_id, topic, key, type, payload, headers)
    select m.id, ${topic}, m.key, ${type}, m.payload, ${tx.json(headers)}
    from jsonb_to_recordset(${tx.json(messages)}) as m(id uuid, key text, payload jsonb)`);
}

/** Unsent rows and the age of the oldest: the relay's backlog, for metrics. */
export async function outboxBacklog(sql: Db): Promise<{ backlog: number; oldestAgeSeconds: number }> {
  const [row] = await sql<{ backlog: number; age: number }[]>`
    select count(*)::int as backlog,
      coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as age
    from outbox where sent_at is null`;
  return { backlog: row!.backlog, oldestAgeSeconds: row!.age };
}
