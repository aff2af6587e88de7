import { createPublicKey, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../src/auth/jwt';
import { verifyTicketCode } from '../src/tickets/codes';
import { startHarness, type Harness } from './harness';

let h: Harness;
let eventId: string;
let otherEventId: string;
let scanner: string;

beforeAll(async () => {
  h = await startHarness();
  eventId = (await h.createEvent()).id;
  otherEventId = (await h.createEvent()).id;
  scanner = await signAccessToken(h.config.jwtSecret, { sub: `scanner-${randomUUID()}`, role: 'scanner' });
});
afterAll(() => h.close());

async function confirmed(body: unknown, ev = eventId) {
  const token = await h.token(`u-${randomUUID()}`);
  const held = await h.call('POST', `/v1/events/${ev}/reservations`, { token, body });
  const c = await h.call('POST', `/v1/reservations/${held.body.id}/confirm`, { token });
  expect(c.status).toBe(200);
  const t = await h.call('GET', `/v1/reservations/${held.body.id}/tickets`, { token });
  expect(t.status).toBe(200);
  return { token, id: held.body.id as string, tickets: t.body.tickets as any[] };
}

const scan = (code: string, token = scanner, ev = eventId) => h.call('POST', `/v1/admin/events/${ev}/checkins`, { token, body: { code } });

describe('tickets', () => {
  it('one ticket per GA unit, codes verifiable offline with the published key', async () => {
    const { tickets } = await confirmed({ zone: 'FLOOR', quantity: 3 });
    expect(tickets).toHaveLength(3);
    expect(tickets.every((t) => t.seat === null && t.zone === 'FLOOR')).toBe(true);
    expect(new Set(tickets.map((t) => t.code)).size).toBe(3);
    const jwks = await h.call('GET', '/.well-known/ticket-keys.json');
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    const key = createPublicKey({ key: jwks.body.keys[0], format: 'jwk' });
    expect(verifyTicketCode(key, tickets[0].code)).toEqual({ ticketId: tickets[0].id, eventId });
    const flipped = tickets[0].code.slice(0, -2) + (tickets[0].code.endsWith('A') ? 'BB' : 'AA');
    expect(verifyTicketCode(key, flipped)).toBeNull();
  });

  it('a held reservation has no tickets yet (409)', async () => {
    const token = await h.token(`u-${randomUUID()}`);
    const held = await h.call('POST', `/v1/events/${eventId}/reservations`, { token, body: { seats: ['A-9-9'] } });
    const r = await h.call('GET', `/v1/reservations/${held.body.id}/tickets`, { token });
    expect(r.status).toBe(409);
  });

  it('two scanners racing on one code: exactly one 200, the other 409 ALREADY_CHECKED_IN; ticket.checked_in once', async () => {
    const { id, tickets } = await confirmed({ seats: ['A-1-1'] });
    const [a, b] = await Promise.all([scan(tickets[0].code), scan(tickets[0].code, h.adminToken)]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const lost = a.status === 409 ? a : b;
    expect(lost.body.error.code).toBe('ALREADY_CHECKED_IN');
    expect(Date.parse(lost.body.error.details.checkedInAt)).not.toBeNaN();
    const won = a.status === 200 ? a : b;
    expect(won.body).toMatchObject({ status: 'checked_in', ticket: { id: tickets[0].id, seat: 'A-1-1' } });
    const msgs = await h.core.sql<{ payload: any }[]>`select payload from outbox where key = ${id} and type = 'ticket.checked_in'`;
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.payload).toMatchObject({ schemaVersion: 1, ticket: { id: tickets[0].id, reservationId: id } });
  });

  it('forged codes and codes of another event are 404', async () => {
    const { tickets } = await confirmed({ seats: ['A-1-2'] });
    const forged = tickets[0].code.replace(/.{4}$/, 'AAAA');
    expect((await scan(forged)).status).toBe(404);
    expect((await scan('BT1.not-a-code')).status).toBe(404);
    const foreign = await scan(tickets[0].code, scanner, otherEventId);
    expect(foreign.status).toBe(404);
    expect((await scan(tickets[0].code)).status).toBe(200);
  });

  it('role scanner may check in and nothing else; a buyer may not check in', async () => {
    const { token, tickets } = await confirmed({ seats: ['A-1-3'] });
    expect((await scan(tickets[0].code, token)).status).toBe(403);
    const create = await h.call('POST', '/v1/admin/events', { token: scanner, body: {} });
    expect(create.status).toBe(403);
    expect((await h.call('GET', `/v1/admin/events/${eventId}/stats`, { token: scanner })).status).toBe(403);
    // Nor may a scanner token act as a buyer.
    const hold = await h.call('POST', `/v1/events/${eventId}/reservations`, { token: scanner, body: { seats: ['A-9-8'] } });
    expect(hold.status).toBe(403);
    expect((await h.call('GET', '/v1/me/reservations', { token: scanner })).status).toBe(403);
  });
});
