import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';

let h: Harness;
let eventId: string;
let user: string;
beforeAll(async () => {
  h = await startHarness();
  eventId = (await h.createEvent()).id;
  user = await h.token(`hostile-${randomUUID()}`);
});
afterAll(() => h.close());

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
function forge(header: object, payload: object, secret: string | null) {
  const head = `${b64(header)}.${b64(payload)}`;
  const sig = secret === null ? '' : createHmac('sha256', secret).update(head).digest('base64url');
  return `${head}.${sig}`;
}

function expectErrorShape(r: { status: number; body: any }, status: number, code?: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(typeof r.body.error.code).toBe('string');
  expect(typeof r.body.error.message).toBe('string');
  expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts:\d+|stack/i);
  if (code) expect(r.body.error.code).toBe(code);
}

describe('tokens', () => {
  const exp = () => Math.floor(Date.now() / 1000) + 600;
  const cases: [string, () => string | undefined][] = [
    ['no token', () => undefined],
    ['garbage', () => 'not.a.jwt'],
    ['alg none', () => forge({ alg: 'none', typ: 'JWT' }, { sub: 'x', exp: exp(), role: 'admin' }, null)],
    ['wrong secret', () => forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'x', exp: exp() }, 'some-other-secret-123')],
    ['HS512 header', () => forge({ alg: 'HS512', typ: 'JWT' }, { sub: 'x', exp: exp() }, h.config.jwtSecret)],
    ['expired', () => forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'x', exp: 1000 }, h.config.jwtSecret)],
    ['no exp', () => forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'x' }, h.config.jwtSecret)],
    ['sub too long', () => forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'x'.repeat(129), exp: exp() }, h.config.jwtSecret)],
    ['sub not a string', () => forge({ alg: 'HS256', typ: 'JWT' }, { sub: 42, exp: exp() }, h.config.jwtSecret)],
    ['sub with a NUL', () => forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'a\u0000b', exp: exp() }, h.config.jwtSecret)],
  ];
  it.each(cases)('%s → 401', async (_name, make) => {
    const r = await h.call('POST', `/v1/events/${eventId}/reservations`, { token: make(), body: { seats: ['A-1-1'] } });
    expectErrorShape(r, 401, 'UNAUTHENTICATED');
  });

  it('a forged admin role cannot create events; a user token is 403 before the body is read', async () => {
    const forged = forge({ alg: 'none', typ: 'JWT' }, { sub: 'x', exp: Math.floor(Date.now() / 1000) + 60, role: 'admin' }, null);
    expectErrorShape(await h.call('POST', '/v1/admin/events', { token: forged, body: {} }), 401);
    expectErrorShape(await h.call('POST', '/v1/admin/events', { token: user, body: '{broken' }), 403, 'FORBIDDEN');
  });
});

describe('reservation bodies', () => {
  const bad: [string, unknown, number, string][] = [
    ['malformed JSON', '{"seats": [', 400, 'INVALID_REQUEST'],
    ['JSON array', '[1,2]', 400, 'INVALID_REQUEST'],
    ['JSON null', 'null', 400, 'INVALID_REQUEST'],
    ['empty object', {}, 400, 'INVALID_REQUEST'],
    ['seats not an array', { seats: 'A-1-1' }, 400, 'INVALID_REQUEST'],
    ['seats of numbers', { seats: [1, 2] }, 400, 'INVALID_REQUEST'],
    ['empty seats', { seats: [] }, 400, 'INVALID_REQUEST'],
    ['duplicate seats', { seats: ['A-1-1', 'A-1-1'] }, 400, 'INVALID_REQUEST'],
    ['both forms', { seats: ['A-1-1'], zone: 'FLOOR', quantity: 1 }, 400, 'INVALID_REQUEST'],
    ['zone without quantity', { zone: 'FLOOR' }, 400, 'INVALID_REQUEST'],
    ['negative quantity', { zone: 'FLOOR', quantity: -1 }, 400, 'INVALID_REQUEST'],
    ['zero quantity', { zone: 'FLOOR', quantity: 0 }, 400, 'INVALID_REQUEST'],
    ['fractional quantity', { zone: 'FLOOR', quantity: 1.5 }, 400, 'INVALID_REQUEST'],
    ['huge quantity', { zone: 'FLOOR', quantity: 1e12 }, 400, 'INVALID_REQUEST'],
    ['string quantity', { zone: 'FLOOR', quantity: '2' }, 400, 'INVALID_REQUEST'],
    ['client-supplied price', { zone: 'FLOOR', quantity: 1, totalCents: 1 }, 400, 'INVALID_REQUEST'],
    ['unknown zone', { zone: 'VIP', quantity: 1 }, 400, 'INVALID_REQUEST'],
    ['best available beyond the limit', { zone: 'A', quantity: 7 }, 429, 'LIMIT_EXCEEDED'],
    ['seat outside the zone', { seats: ['A-11-1'] }, 400, 'INVALID_REQUEST'],
    ['seat in unknown zone', { seats: ['Z-1-1'] }, 400, 'INVALID_REQUEST'],
    ['SQL injection seat', { seats: ["A-1-1'; drop table reservations;--"] }, 400, 'INVALID_REQUEST'],
    ['Lua-looking seat', { seats: ['A-1-1|h|x'] }, 400, 'INVALID_REQUEST'],
    ['script seat', { seats: ['<script>alert(1)</script>'] }, 400, 'INVALID_REQUEST'],
    ['very long seat', { seats: ['A'.repeat(5000)] }, 400, 'INVALID_REQUEST'],
    ['too many seats in one request', { seats: Array.from({ length: 7 }, (_, i) => `A-2-${i + 1}`) }, 429, 'LIMIT_EXCEEDED'],
    ['more than the limit by quantity', { zone: 'FLOOR', quantity: 7 }, 429, 'LIMIT_EXCEEDED'],
  ];
  it.each(bad)('%s', async (_name, body, status, code) => {
    const r = await h.call('POST', `/v1/events/${eventId}/reservations`, { token: user, body });
    expectErrorShape(r, status, code);
  });

  it('oversized body → 413', async () => {
    const body = JSON.stringify({ seats: ['A-1-1'], pad: 'x'.repeat(100 * 1024) });
    expectErrorShape(await h.call('POST', `/v1/events/${eventId}/reservations`, { token: user, body }), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('wrong content type → 415', async () => {
    const r = await h.call('POST', `/v1/events/${eventId}/reservations`, {
      token: user,
      body: 'seats=A-1-1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectErrorShape(r, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('bad ids and headers', async () => {
    expectErrorShape(await h.call('POST', `/v1/events/1%27%20or%201=1/reservations`, { token: user, body: { seats: ['A-1-1'] } }), 400);
    expectErrorShape(await h.call('POST', `/v1/events/${randomUUID()}/reservations`, { token: user, body: { seats: ['A-1-1'] } }), 404, 'NOT_FOUND');
    expectErrorShape(await h.call('GET', `/v1/events/${randomUUID()}/availability`), 404);
    expectErrorShape(await h.call('GET', `/v1/events/${eventId}/zones/FLOOR/seats`), 400);
    expectErrorShape(await h.call('GET', `/v1/events/${eventId}/zones/NOPE/seats`), 404);
    expectErrorShape(
      await h.call('POST', `/v1/events/${eventId}/reservations`, { token: user, body: { seats: ['A-1-1'] }, headers: { 'idempotency-key': 'k'.repeat(300) } }),
      400,
    );
    expectErrorShape(await h.call('POST', `/v1/reservations/${randomUUID()}/confirm`, { token: user, body: { paymentRef: 123 } }), 400);
    expectErrorShape(await h.call('POST', `/v1/reservations/${randomUUID()}/confirm`, { token: user, body: '{oops' }), 400);
    expectErrorShape(await h.call('POST', `/v1/reservations/${randomUUID()}/confirm`, { token: user }), 404);
    expectErrorShape(await h.call('GET', '/v1/nope'), 404);
  });

  it('after all of that, nothing is held', async () => {
    const avail = await h.call('GET', `/v1/events/${eventId}/availability`);
    for (const z of avail.body.zones) expect(z.held + z.sold).toBe(0);
    const [n] = await h.core.sql`select count(*)::int as n from reservations where event_id = ${eventId}`;
    expect(n!.n).toBe(0);
  });
});

describe('admin event bodies', () => {
  const base = {
    name: 'X',
    startsAt: '2027-01-01T20:00:00Z',
    salesOpenAt: '2026-12-01T10:00:00Z',
    zones: [{ code: 'A', name: 'A', priceCents: 100, kind: 'seated', rows: 2, seatsPerRow: 2 }],
  };
  const bad: [string, unknown][] = [
    ['no zones', { ...base, zones: [] }],
    ['negative price', { ...base, zones: [{ code: 'G', name: 'G', priceCents: -1, kind: 'ga', capacity: 5 }] }],
    ['zero capacity', { ...base, zones: [{ code: 'G', name: 'G', priceCents: 1, kind: 'ga', capacity: 0 }] }],
    ['huge rows', { ...base, zones: [{ code: 'A', name: 'A', priceCents: 1, kind: 'seated', rows: 1e9, seatsPerRow: 1 }] }],
    ['too many seats', { ...base, zones: [{ code: 'A', name: 'A', priceCents: 1, kind: 'seated', rows: 1000, seatsPerRow: 1000 }] }],
    ['duplicate zone codes', { ...base, zones: [base.zones[0], base.zones[0]] }],
    ['zone code with a dash', { ...base, zones: [{ code: 'A-B', name: 'A', priceCents: 1, kind: 'ga', capacity: 1 }] }],
    ['unknown kind', { ...base, zones: [{ code: 'A', name: 'A', priceCents: 1, kind: 'vip', capacity: 1 }] }],
    ['bad date', { ...base, startsAt: 'tomorrow' }],
    ['opens after it closes', { ...base, salesOpenAt: '2027-02-01T10:00:00Z' }],
    ['hold too short', { ...base, holdSeconds: 1 }],
    ['missing name', { ...base, name: undefined }],
  ];
  it.each(bad)('%s → 400', async (_name, body) => {
    expectErrorShape(await h.call('POST', '/v1/admin/events', { token: h.adminToken, body }), 400, 'INVALID_REQUEST');
  });

  it('the example event from api.md is accepted', async () => {
    const r = await h.call('POST', '/v1/admin/events', {
      token: h.adminToken,
      body: {
        name: 'Arena Night',
        startsAt: '2026-12-31T20:00:00Z',
        salesOpenAt: '2026-12-01T10:00:00Z',
        holdSeconds: 600,
        maxSeatsPerUser: 6,
        queue: { enabled: true, admitPerSecond: 500, passSeconds: 900 },
        zones: [
          { code: 'FLOOR', name: 'Floor', priceCents: 15000, kind: 'ga', capacity: 5000 },
          { code: 'A', name: 'Block A', priceCents: 9000, kind: 'seated', rows: 40, seatsPerRow: 50 },
        ],
      },
    });
    expect(r.status).toBe(201);
    expect(r.body.zones.map((z: { code: string; capacity: number }) => [z.code, z.capacity])).toEqual([['FLOOR', 5000], ['A', 2000]]);
  });
});
