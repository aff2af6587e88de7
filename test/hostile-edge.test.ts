import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBoundary } from '../src/http/error-boundary';
import { csvField } from '../src/streaming/encoders';
import { startHarness, type Harness } from './harness';

let h: Harness;
let eventId: string;
let user: string;
beforeAll(async () => {
  h = await startHarness();
  eventId = (await h.createEvent()).id;
  user = await h.token(`edge-${randomUUID()}`);
});
afterAll(() => h.close());

function expectError(r: { status: number; body: any }, status: number, code?: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(typeof r.body.error.code).toBe('string');
  expect(typeof r.body.error.message).toBe('string');
  if (code) expect(r.body.error.code).toBe(code);
}

const event = (over: Record<string, unknown> = {}) => ({
  name: 'Edge Night',
  startsAt: '2027-01-01T20:00:00Z',
  salesOpenAt: '2026-12-01T10:00:00Z',
  zones: [{ code: 'G', name: 'Floor', priceCents: 100, kind: 'ga', capacity: 5 }],
  ...over,
});

describe('strings and times PostgreSQL cannot store are refused at the edge (400, never 500)', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['NUL in the event name', event({ name: 'a\u0000b' })],
    ['NUL in a zone name', event({ zones: [{ code: 'G', name: 'x\u0000', priceCents: 1, kind: 'ga', capacity: 1 }] })],
    ['lone high surrogate in the name', event({ name: 'x\ud800' })],
    ['lone low surrogate in a zone name', event({ zones: [{ code: 'G', name: '\udc00y', priceCents: 1, kind: 'ga', capacity: 1 }] })],
    ['salesOpenAt in year 0', event({ salesOpenAt: '0000-01-01T00:00:00Z' })],
    ['salesOpenAt in year 0 after the offset', event({ salesOpenAt: '0001-01-01T00:00:00+01:00' })],
    ['startsAt in year 10000 after the offset', event({ startsAt: '9999-12-31T23:59:59-23:59' })],
  ];
  it.each(cases)('%s', async (_name, body) => {
    expectError(await h.call('POST', '/v1/admin/events', { token: h.adminToken, body }), 400, 'INVALID_REQUEST');
  });

  it('a paired surrogate (an emoji) is fine', async () => {
    const r = await h.call('POST', '/v1/admin/events', { token: h.adminToken, body: event({ name: 'Night 🎫' }) });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.name).toBe('Night 🎫');
  });

  it('NUL in paymentRef: 400 and the hold is still held', async () => {
    const hold = await h.call('POST', `/v1/events/${eventId}/reservations`, { token: user, body: { zone: 'FLOOR', quantity: 1 } });
    expect(hold.status).toBe(201);
    expectError(await h.call('POST', `/v1/reservations/${hold.body.id}/confirm`, { token: user, body: { paymentRef: 'p\u0000' } }), 400, 'INVALID_REQUEST');
    expectError(await h.call('POST', `/v1/reservations/${hold.body.id}/confirm`, { token: user, body: { paymentRef: '\ud83d' } }), 400, 'INVALID_REQUEST');
    const [row] = await h.core.sql`select status from reservations where id = ${hold.body.id}`;
    expect(row!.status).toBe('held');
  });

  it('a body that is not valid UTF-8 is 400', async () => {
    // A whole valid event whose name holds one Latin-1 byte (0xE9): replaced by U+FFFD without the check.
    const json = Buffer.from(JSON.stringify(event({ name: 'caf\u00e9' })), 'latin1');
    const res = await h.app.request('/v1/admin/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
      body: json,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('INVALID_REQUEST');
  });

  it('a lone surrogate in a seat label or the zone of a hold is 400', async () => {
    expectError(await h.call('POST', `/v1/events/${eventId}/reservations`, { token: user, body: { seats: ['A-1-\udfff'] } }), 400);
    expectError(await h.call('POST', `/v1/events/${eventId}/reservations`, { token: user, body: { zone: 'FL\u0000', quantity: 1 } }), 400);
  });
});

describe('the error boundary', () => {
  it('maps any PostgreSQL data exception (class 22) to 400 in the error shape', async () => {
    const app = new Hono();
    app.get('/nul', async () => {
      await h.core.sql`select ${'a\u0000b'}::text`;
      return new Response('unreachable');
    });
    app.get('/date', async () => {
      await h.core.sql`select '0000-01-01'::date`;
      return new Response('unreachable');
    });
    app.onError(errorBoundary(h.core.logger));
    for (const path of ['/nul', '/date']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as any).error.code).toBe('INVALID_REQUEST');
    }
  });
});

describe('development routes and their document', () => {
  let dev: Harness;
  let forgotEnv: Harness;
  beforeAll(async () => {
    dev = await startHarness({ NODE_ENV: 'development' });
    // A deployment with a real secret that forgot NODE_ENV (unset reads as development).
    forgotEnv = await startHarness({ NODE_ENV: '', JWT_SECRET: `real-${randomUUID()}`, QUEUE_SECRET: `queue-${randomUUID()}` });
  });
  afterAll(async () => {
    await dev?.close();
    await forgotEnv?.close();
  });

  it('exist only in development with the development secret', async () => {
    expect(dev.config.devRoutes).toBe(true);
    expect((await dev.call('POST', '/v1/dev/token', { body: { sub: 'alice' } })).status).toBe(200);
    expect(forgotEnv.config.env).toBe('development');
    expect(forgotEnv.config.devRoutes).toBe(false);
    const r = await forgotEnv.call('POST', '/v1/dev/token', { body: { sub: 'mallory', role: 'organiser' } });
    expectError(r, 404, 'NOT_FOUND');
    expect(Object.keys((await forgotEnv.call('GET', '/openapi.json')).body.paths)).not.toContain('/v1/dev/token');
    // The test stack (NODE_ENV=test) has none either.
    expect(h.config.devRoutes).toBe(false);
    expect((await h.call('POST', '/v1/dev/token', { body: { sub: 'alice' } })).status).toBe(404);
  });

  it('every pattern in the OpenAPI document is a plain ECMA-262 pattern accepting what the server accepts', async () => {
    const doc = (await dev.call('GET', '/openapi.json')).body;
    const patterns = [...JSON.stringify(doc).matchAll(/"pattern":("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1]!) as string);
    expect(patterns.length).toBeGreaterThan(3);
    for (const p of patterns) {
      expect(p, p).not.toMatch(/\/[dgimsuvy]*$/);
      expect(() => new RegExp(p, 'u'), p).not.toThrow();
    }
    const sub = new RegExp(doc.components.schemas.DevTokenRequest.properties.sub.pattern, 'u');
    for (const ok of ['alice', 'Olga Organiser', 'zoë.o@x_y-1']) {
      expect(sub.test(ok), ok).toBe(true);
      expect((await dev.call('POST', '/v1/dev/token', { body: { sub: ok } })).status, ok).toBe(200);
    }
    expect(sub.test('<script>')).toBe(false);
    const uuid = patterns.find((p) => p.includes('{12}'))!;
    expect(new RegExp(uuid, 'u').test(randomUUID().toUpperCase())).toBe(true);
  });
});

describe('CSV export', () => {
  it('neutralises cells a spreadsheet would run as formulas (OWASP: a leading quote, and quoted)', async () => {
    const ev = await h.createEvent();
    // (Subjects with control characters are refused by auth; tab and CR are checked below.)
    const subs = ['=HYPERLINK("http://x.test","y")', '+1+1', '-2+3', '@SUM(A1)', '＝1'];
    for (const sub of subs) {
      const r = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: await h.token(sub), body: { zone: 'FLOOR', quantity: 1 } });
      expect(r.status, sub).toBe(201);
    }
    const res = await h.call('GET', `/v1/admin/events/${ev.id}/reservations/export?format=csv`, { token: h.adminToken });
    expect(res.status).toBe(200);
    const text = res.body as string;
    for (const sub of subs) {
      expect(text, sub).toContain(`,"'${sub.replaceAll('"', '""')}",`);
    }
    // No cell of any line starts a formula.
    const cells = text.split(/,|\r\n/);
    for (const cell of cells) expect(cell, cell).not.toMatch(/^[=+@\t\r＝]|^-[^0-9]/);
    expect(csvField('\t=1')).toBe(`"'\t=1"`);
    expect(csvField('\r=1')).toBe(`"'\r=1"`);
    expect(csvField('plain')).toBe('plain');
  });
});
