import { randomUUID } from 'node:crypto';
import type { Harness } from '../harness';
import { releaseExpired } from '../../src/worker/release';

export async function holdSeats(h: Harness, eventId: string, seats: string[], user = `u-${randomUUID()}`) {
  const token = await h.token(user);
  const held = await h.call('POST', `/v1/events/${eventId}/reservations`, { token, body: { seats } });
  if (held.status !== 201) throw new Error(`hold: ${held.status} ${JSON.stringify(held.body)}`);
  return { token, user, reservation: held.body as { id: string; totalCents: number; expiresAt: string } };
}

/** Ages a hold past its expiry and runs the real seat-release job over it. */
export async function expireNow(h: Harness, reservationId: string) {
  await h.core.sql`update reservations set expires_at = now() - interval '1 second' where id = ${reservationId}`;
  await releaseExpired({ ...h.core.transitions, logger: h.core.logger, batch: 100 });
}

export async function outboxFor(h: Harness, key: string) {
  return h.core.sql<{ type: string; payload: any }[]>`select type, payload from outbox where key = ${key} order by id`;
}
