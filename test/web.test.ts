import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../scripts/seed-demo';
import { startHarness, type Harness } from './harness';

// The web frontend's server side, in process: pages, assets, the development token route
// (present in development, absent in production) and the demo seed.

const STATIC_DIR = new URL('../src/web/static/', import.meta.url);

async function get(h: Harness, path: string) {
  const res = await h.app.request(path);
  return { status: res.status, type: res.headers.get('content-type') ?? '', csp: res.headers.get('content-security-policy') ?? '', text: await res.text() };
}

describe('development mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ NODE_ENV: 'development' });
  });
  afterAll(() => h.close());

  it('serves every page as a complete HTML document that loads only same-origin assets', async () => {
    const ev = await h.createEvent({ name: `Page Night ${randomUUID().slice(0, 6)}` });
    for (const path of ['/', `/events/${ev.id}`, '/me', '/organiser']) {
      const r = await get(h, path);
      expect(r.status, path).toBe(200);
      expect(r.type).toMatch(/^text\/html/);
      expect(r.text.startsWith('<!doctype html>')).toBe(true);
      expect(r.csp).toContain("default-src 'self'");
      expect(r.text).toContain('id="dev-signin"');
      // Offline: nothing to fetch from another origin.
      expect(r.text).not.toMatch(/(src|href)="(https?:)?\/\//);
      for (const [, asset] of r.text.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)) {
        const a = await get(h, asset!);
        expect(a.status, asset).toBe(200);
        expect(a.type).toMatch(asset!.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      }
    }
    const page = await get(h, `/events/${ev.id}`);
    expect(page.text).toContain('Block A');
    expect(page.text).toContain('€90.00');
    expect(page.text).toContain('100 of 100');
    const usd = await h.createEvent({ name: `Dollar Night ${randomUUID().slice(0, 6)}`, currency: 'USD' });
    const dollars = await get(h, `/events/${usd.id}`);
    expect(dollars.text).toContain('$90.00');
    expect(dollars.text).not.toContain('€');
  });

  it('client code fetches nothing from outside and stays small', () => {
    let total = 0;
    for (const name of readdirSync(STATIC_DIR)) {
      const text = readFileSync(new URL(name, STATIC_DIR), 'utf8');
      total += Buffer.byteLength(text);
      const urls = [...text.matchAll(/https?:\/\/[^\s'"`)]+/g)].map((m) => m[0]);
      // The SVG namespace is a name, not a request.
      expect(urls.filter((u) => u !== 'http://www.w3.org/2000/svg'), name).toEqual([]);
    }
    expect(total).toBeLessThan(80 * 1024);
  });

  it('answers unknown events and assets with a plain 404 page, never a stack trace', async () => {
    for (const path of ['/events/not-a-uuid', `/events/${randomUUID()}`]) {
      const r = await get(h, path);
      expect(r.status, path).toBe(404);
      expect(r.type).toMatch(/^text\/html/);
      expect(r.text).toMatch(/We couldn(&#39;|')t find that event\./);
    }
    expect((await get(h, '/static/nope.js')).status).toBe(404);
    expect((await get(h, '/static/..%2Fpages.tsx')).status).toBe(404);
    expect((await get(h, '/static/%2E%2E/routes.tsx')).status).toBe(404);
  });

  it('issues development tokens for either role, documented in the OpenAPI document', async () => {
    const ev = await h.createEvent();
    const org = await h.call('POST', '/v1/dev/token', { body: { sub: 'Olga Organiser', role: 'organiser' } });
    expect(org.status).toBe(200);
    expect(org.body).toMatchObject({ sub: 'Olga Organiser', role: 'organiser' });
    expect(Date.parse(org.body.expiresAt)).toBeGreaterThan(Date.now());
    expect((await h.call('GET', `/v1/admin/events/${ev.id}/stats`, { token: org.body.token })).status).toBe(200);

    const buyer = await h.call('POST', '/v1/dev/token', { body: { sub: 'bea' } });
    expect(buyer.body.role).toBe('buyer');
    const forbidden = await h.call('GET', `/v1/admin/events/${ev.id}/stats`, { token: buyer.body.token });
    expect(forbidden.status).toBe(403);
    expect((await h.call('GET', '/v1/me/reservations', { token: buyer.body.token })).status).toBe(200);

    for (const body of [{}, { sub: '' }, { sub: '<script>' }, { sub: 'x'.repeat(129) }, { sub: 'a', role: 'admin' }, { sub: 'a', extra: 1 }]) {
      const r = await h.call('POST', '/v1/dev/token', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('INVALID_REQUEST');
    }
    const doc = await h.call('GET', '/openapi.json');
    expect(doc.body.paths['/v1/dev/token'].post).toBeDefined();
  });

  it('seeds one demo event with a seated and a GA zone, on sale with a waiting room, idempotently', async () => {
    const first = await seedDemo(h.core);
    const again = await seedDemo(h.core);
    expect(again).toEqual({ id: first.id, created: false });
    const ev = await h.call('GET', `/v1/events/${first.id}`);
    expect(ev.body.name).toBe('Demo Night');
    expect(ev.body.zones.map((z: any) => z.kind).sort()).toEqual(['ga', 'seated']);
    expect(ev.body.queue).toMatchObject({ enabled: true, admitPerSecond: 50, passSeconds: 900 });
    expect(Date.parse(ev.body.salesOpenAt)).toBeLessThan(Date.now());
    expect(Date.parse(ev.body.salesCloseAt)).toBeGreaterThan(Date.now());
  });
});

describe('production mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      NODE_ENV: 'production',
      JWT_SECRET: `jwt-${randomUUID()}`,
      QUEUE_SECRET: `queue-${randomUUID()}`,
      TICKET_SIGNING_KEY: Buffer.alloc(32, 7).toString('base64url'),
    });
  });
  afterAll(() => h.close());

  it('has no development token route, in the API or in its document', async () => {
    const r = await h.call('POST', '/v1/dev/token', { body: { sub: 'mallory', role: 'organiser' } });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('NOT_FOUND');
    const doc = await h.call('GET', '/openapi.json');
    expect(Object.keys(doc.body.paths)).not.toContain('/v1/dev/token');
  });

  it('pages offer no development sign-in', async () => {
    const ev = await h.createEvent();
    for (const path of ['/', `/events/${ev.id}`, '/me', '/organiser']) {
      const page = await get(h, path);
      expect(page.status, path).toBe(200);
      expect(page.text).toContain('data-dev-signin="off"');
      expect(page.text).not.toContain('dev-signin"');
      expect(page.text).not.toContain('Sign in (development)');
    }
  });
});
