import { randomUUID } from 'node:crypto';
import type { Sql } from '../db/client';
import { dbQuery } from '../db/observe';
import { reservationJson, type Reservation } from '../reservations/model';

export type BookingEventType = 'booking.confirmed' | 'booking.cancelled' | 'booking.expired';

/**
 * Writes the Kafka message for a reservation's state change into the outbox, inside the
 * caller's transaction, so the change and its message commit or roll back together.
 * The relay (worker) publishes it later; the request never waits for Kafka.
 */
export async function enqueueBookingEvents(
  tx: Sql,
  topic: string,
  type: BookingEventType,
  reservations: Reservation[],
  headers: Record<string, string> = {},
): Promise<void> {
  if (!reservations.length) return;
  const occurredAt = new Date().toISOString();
  const messages = reservations.map((r) => {
    const id = randomUUID();
    return { id, key: r.id, payload: { id, type, occurredAt, reservation: reservationJson(r) } };
  });
  await dbQuery('outbox_insert', { 'boxoffice.batch_size': messages.length, 'messaging.message.type': type }, () => tx`
    insert into outbox (message_id, topic, key, type, payload, headers)
    select m.id, ${topic}, m.key, ${type}, m.payload, ${tx.json(headers)}
    from jsonb_to_recordset(${tx.json(messages)}) as m(id uuid, key text, payload jsonb)`);
}
