/**
 * GET /v1/admin/events/:id/reservations/export over the whole app: the error precedence, both
 * formats with real reservations (seats, buyer, statuses), the status filter, gzip, and the
 * chunk framing on a real socket.
 */
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, rawGet } from '../src/streaming/testing/raw-http';
import { startHarness, type Harness } from './harness';

let h: Harness;
let eventId: string;
let emptyEventId: string;
let bulkEventId: string;
const path = (id: string, q = '') => `/v1/admin/events/${id}/reservations/export${q}`;

type Seed = { user: string; status: string; zone: string; qty: number; seats: string[]; at: string; confirmedAt?: string };
const seeds: Seed[] = [
  { user: 'alice', status: 'held', zone: 'A', qty: 2, seats: ['A-1-1', 'A-1-2'], at: '2026-03-01T10:00:00.000Z' },
  { user: 'o"brien, pat', status: 'confirmed', zone: 'FLOOR', qty: 3, seats: [], at: '2026-03-01T10:00:01.000Z', confirmedAt: '2026-03-01T10:05:00.000Z' },
  { user: 'carol', status: 'cancelled', zone: 'A', qty: 1, seats: ['A-2-1'], at: '2026-03-01T10:00:02.000Z' },
  { user: 'dave', status: 'expired', zone: 'FLOOR', qty: 1, seats: [], at: '2026-03-01T10:00:03.000Z' },
];
const ids = seeds.map(() => randomUUID());
const price = { A: 9000, FLOOR: 15000 } as Record<string, number>;

beforeAll(async () => {
  h = await startHarness();
  eventId = (await h.createEvent()).id;
  emptyEventId = (await h.createEvent()).id;
  // PostgreSQL guards GA capacity too (migration 00004): the bulk rows need a zone that holds them.
  bulkEventId = (await h.createEvent({ zones: [{ code: 'FLOOR', name: 'Floor', priceCents: 15000, kind: 'ga', capacity: 3000 }] })).id;
  const { sql } = h.core;
  for (const [i, s] of seeds.entries()) {
    await sql`insert into reservations (id, event_id, user_id, zone_code, quantity, total_cents, status,
        idempotency_key, request_hash, expires_at, created_at, confirmed_at)
      values (${ids[i]!}, ${eventId}, ${s.user}, ${s.zone}, ${s.qty}, ${s.qty * price[s.zone]!}, ${s.status},
        ${randomUUID()}, 'h', now() + interval '10 minutes', ${s.at}, ${s.confirmedAt ?? null})`;
    if (s.seats.length) {
      await sql`insert into reservation_seats (reservation_id, event_id, seat_label, live)
        select ${ids[i]!}, ${eventId}, unnest(${s.seats}::text[]), ${s.status === 'held'}`;
    }
  }
  // enough rows for many 32 KiB chunks; the harness pool's 250 ms statement_timeout is lifted
  // for the seeding, which may be slow when the whole suite runs at once
  await sql.begin(async (tx) => {
    await tx`set local statement_timeout = 0`;
    await tx`insert into reservations (id, event_id, user_id, zone_code, quantity, total_cents, status,
      idempotency_key, request_hash, expires_at, created_at)
    select gen_random_uuid(), ${bulkEventId}, 'bulk-' || g, 'FLOOR', 1, 15000, 'confirmed', ${randomUUID()} || g, 'h',
      now() + interval '10 minutes', now() - make_interval(secs => g)
    from generate_series(1, 3000) g`;
  });
});

afterAll(async () => {
  if (!h) return;
  await h.core.sql.begin(async (tx) => {
    await tx`set local statement_timeout = 0`;
    await tx`delete from reservations where event_id in (${eventId}, ${bulkEventId})`;
  });
  await h.close();
});

const expected = seeds.map((s, i) => ({
  id: ids[i],
  userId: s.user,
  status: s.status,
  zone: s.zone,
  quantity: s.qty,
  seats: s.seats,
  totalCents: s.qty * price[s.zone]!,
  createdAt: s.at,
  confirmedAt: s.confirmedAt ?? null,
}));

async function get(p: string, headers: Record<string, string> = {}) {
  const res = await h.app.request(p, { headers: { authorization: `Bearer ${h.adminToken}`, ...headers } });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

describe('reservations export', () => {
  it('answers 401, then 403, then 400, then 404', async () => {
    const user = await h.token(`u-${randomUUID()}`);
    const unknown = randomUUID();
    expect((await h.call('GET', path(eventId))).status).toBe(401);
    expect((await h.call('GET', path(eventId), { token: 'nope' })).status).toBe(401);
    const notAdmin = await h.call('GET', path(unknown, '?format=xml'), { token: user });
    expect([notAdmin.status, notAdmin.body.error?.code]).toEqual([403, 'FORBIDDEN']);
    for (const q of ['?format=xml', '?status=held,paid', '?status=', '?format=csv&status=HELD']) {
      const r = await h.call('GET', path(unknown, q), { token: h.adminToken });
      expect([q, r.status, r.body.error?.code]).toEqual([q, 400, 'INVALID_REQUEST']);
    }
    expect((await h.call('GET', path('not-a-uuid'), { token: h.adminToken })).status).toBe(400);
    const missing = await h.call('GET', path(unknown), { token: h.adminToken });
    expect([missing.status, missing.body.error?.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('NDJSON (the default): one reservation a line, oldest first, with seats and buyer', async () => {
    const res = await get(path(eventId));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="reservations-${eventId}.ndjson"`);
    const text = res.body.toString();
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(expected);
  });

  it('filters by status', async () => {
    const res = await get(path(eventId, '?format=ndjson&status=held,confirmed'));
    expect(res.body.toString().trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(expected.slice(0, 2));
    const expired = await get(path(eventId, '?status=expired'));
    expect(expired.body.toString().trimEnd().split('\n').map((l) => JSON.parse(l).id)).toEqual([ids[3]]);
  });

  it('CSV: a header, the same columns, RFC 4180 quoting', async () => {
    const res = await get(path(eventId, '?format=csv'));
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.body.toString().split('\r\n')).toEqual([
      'id,userId,status,zone,quantity,seats,totalCents,createdAt,confirmedAt',
      `${ids[0]},alice,held,A,2,A-1-1 A-1-2,18000,2026-03-01T10:00:00.000Z,`,
      `${ids[1]},"o""brien, pat",confirmed,FLOOR,3,,45000,2026-03-01T10:00:01.000Z,2026-03-01T10:05:00.000Z`,
      `${ids[2]},carol,cancelled,A,1,A-2-1,9000,2026-03-01T10:00:02.000Z,`,
      `${ids[3]},dave,expired,FLOOR,1,,15000,2026-03-01T10:00:03.000Z,`,
      '',
    ]);
  });

  it('an event without reservations: an empty body (CSV: the header only)', async () => {
    const nd = await get(path(emptyEventId));
    expect([nd.status, nd.body.length]).toEqual([200, 0]);
    const csv = await get(path(emptyEventId, '?format=csv'));
    expect(csv.body.toString()).toBe('id,userId,status,zone,quantity,seats,totalCents,createdAt,confirmedAt\r\n');
  });

  it('gzip when the client accepts it, plain when it refuses it', async () => {
    const plain = await get(path(eventId));
    const gz = await get(path(eventId), { 'accept-encoding': 'gzip, deflate, br' });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    const refused = await get(path(eventId), { 'accept-encoding': 'gzip;q=0, identity' });
    expect(refused.headers.get('content-encoding')).toBeNull();
    expect(refused.body.equals(plain.body)).toBe(true);
  });

  it('leaves the server in chunks of at least 32 KiB that end at a line end', async () => {
    const server = await listen(h.app.fetch);
    try {
      const res = await rawGet(server.port, path(bulkEventId), { authorization: `Bearer ${h.adminToken}` });
      expect([res.status, res.complete]).toEqual([200, true]);
      expect(res.chunks.length).toBeGreaterThanOrEqual(10);
      res.chunks.forEach((c, i) => {
        if (i < res.chunks.length - 1) expect(c.length).toBeGreaterThanOrEqual(32 * 1024);
        expect(c.at(-1)).toBe(0x0a);
      });
      const lines = Buffer.concat(res.chunks).toString().trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(lines).toHaveLength(3000);
      expect(new Set(lines.map((l) => l.userId)).size).toBe(3000);
      // oldest first: bulk-3000 was created first
      expect([lines[0].userId, lines.at(-1).userId]).toEqual(['bulk-3000', 'bulk-1']);
    } finally {
      await server.close();
    }
  });
});
