import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex } from '../src/inventory/seat-index';
import { eventKeys } from '../src/redis/keys';
import { startHarness, type Harness } from './harness';
import { checkInvariants } from './invariants';

let h: Harness;
beforeAll(async () => {
  // A short settle window: cancelling an event sweeps again once in-flight holds have landed.
  h = await startHarness({ REBUILD_QUIESCE_MS: '3000', PG_STATEMENT_TIMEOUT_MS: '1000' });
});
afterAll(() => h.close());

const patch = (id: string, body: unknown) => h.call('PATCH', `/v1/admin/events/${id}`, { token: h.adminToken, body });
const hold = (id: string, token: string, body: unknown) =>
  h.call('POST', `/v1/events/${id}/reservations`, { token, body, headers: { 'idempotency-key': randomUUID() } });

/** Redis counters equal PostgreSQL's, availability adds up, no seat twice, the seat index exact. */
async function expectIntact(eventId: string, maxPerUser = 6) {
  const inv = await checkInvariants(h, eventId, { maxPerUser });
  expect(inv.dupSeats).toEqual([]);
  expect(inv.seatDisagreements).toEqual([]);
  const ev = (await h.call('GET', `/v1/events/${eventId}`)).body;
  for (const z of inv.zones) {
    const pg = inv.perZone.find((p) => p.zone_code === z.code) ?? { held: 0, sold: 0 };
    expect({ zone: z.code, held: z.held, sold: z.sold }).toEqual({ zone: z.code, held: pg.held, sold: pg.sold });
    expect(z.available + z.held + z.sold).toBe(z.capacity);
    expect(z.capacity).toBe(ev.zones.find((x: { code: string }) => x.code === z.code).capacity);
  }
  for (const z of ev.zones.filter((x: { kind: string }) => x.kind === 'seated')) {
    const k = eventKeys(h.config.redis.prefix, eventId);
    const free = (await h.core.redis.getBuffer(k.zoneFree(z.code)))!;
    expect(buildIndex(free, z.rows, z.seatsPerRow).index.equals((await h.core.redis.getBuffer(k.zoneIndex(z.code)))!)).toBe(true);
  }
  return inv;
}

describe('lifecycle', () => {
  it('draft -> on_sale -> closed -> on_sale -> cancelled, holds follow the status', async () => {
    const ev = await h.createEvent({ status: 'draft' });
    expect(ev).toMatchObject({ status: 'draft' });
    const buyer = await h.token(`b-${randomUUID()}`);
    const refused = await hold(ev.id, buyer, { zone: 'A', quantity: 2 });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('SALES_CLOSED');
    // draft -> closed skips the sale: refused, naming what may follow.
    const skip = await patch(ev.id, { status: 'closed' });
    expect(skip.status).toBe(409);
    expect(skip.body.error).toMatchObject({ code: 'INVALID_TRANSITION', details: { field: 'status', allowed: ['on_sale', 'cancelled'] } });

    expect((await patch(ev.id, { status: 'on_sale' })).body.status).toBe('on_sale');
    const held = await hold(ev.id, buyer, { zone: 'A', quantity: 2 });
    expect(held.status).toBe(201);
    const paid = await hold(ev.id, buyer, { seats: ['A-5-1'] });
    expect((await h.call('POST', `/v1/reservations/${paid.body.id}/confirm`, { token: buyer, body: {} })).status).toBe(200);

    expect((await patch(ev.id, { status: 'closed' })).body.status).toBe('closed');
    const closed = await hold(ev.id, buyer, { zone: 'FLOOR', quantity: 1 });
    expect(closed.status).toBe(409);
    expect(closed.body.error.code).toBe('SALES_CLOSED');
    expect((await patch(ev.id, { status: 'on_sale' })).status).toBe(200);
    expect((await hold(ev.id, buyer, { zone: 'FLOOR', quantity: 1 })).status).toBe(201);

    const cancelled = await patch(ev.id, { status: 'cancelled' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const rows = await h.core.sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from reservations where event_id = ${ev.id} group by status`;
    expect(rows).toEqual([{ status: 'cancelled', n: 3 }]);
    // One booking.cancelled message per reservation, the paid one included.
    const msgs = await h.core.sql<{ key: string }[]>`
      select key from outbox where type = 'booking.cancelled'
        and key in (select id::text from reservations where event_id = ${ev.id})`;
    expect(msgs.length).toBe(3);
    expect((await hold(ev.id, buyer, { zone: 'FLOOR', quantity: 1 })).body.error.code).toBe('SALES_CLOSED');
    expect((await patch(ev.id, { name: 'Again' })).body.error.code).toBe('EVENT_CANCELLED');
    const avail = (await h.call('GET', `/v1/events/${ev.id}/availability`)).body.zones;
    expect(avail.map((z: { held: number }) => z.held)).toEqual([0, 0]);
  });

  it('cancelling while holds race it leaves no live reservation behind', async () => {
    const ev = await h.createEvent({ maxSeatsPerUser: 4 });
    const buyers = await Promise.all(Array.from({ length: 100 }, (_, i) => h.token(`r-${i}-${randomUUID()}`)));
    const holds = buyers.map((t, i) => hold(ev.id, t, i % 2 ? { zone: 'A', quantity: 1 + (i % 3) } : { zone: 'FLOOR', quantity: 2 }));
    const cancel = new Promise((r) => setTimeout(r, 20)).then(() => patch(ev.id, { status: 'cancelled' }));
    const results = await Promise.all(holds);
    expect((await cancel).status).toBe(200);
    for (const r of results) expect([201, 409, 503], JSON.stringify(r.body)).toContain(r.status);
    const [live] = await h.core.sql<{ n: number }[]>`
      select count(*)::int as n from reservations where event_id = ${ev.id} and status in ('held', 'confirmed')`;
    expect(live!.n).toBe(0);
    await expectIntact(ev.id, 4);
  });

  it('closing while holds race it keeps Redis and PostgreSQL in step', async () => {
    const ev = await h.createEvent({ maxSeatsPerUser: 4 });
    const buyers = await Promise.all(Array.from({ length: 100 }, (_, i) => h.token(`c-${i}-${randomUUID()}`)));
    const results = await Promise.all([
      ...buyers.map((t, i) => hold(ev.id, t, i % 2 ? { zone: 'A', quantity: 2 } : { zone: 'FLOOR', quantity: 1 })),
      new Promise((r) => setTimeout(r, 20)).then(() => patch(ev.id, { status: 'closed' })),
    ]);
    expect(results.at(-1)!.status).toBe(200);
    await expectIntact(ev.id, 4);
  });
});

describe('PATCH /v1/admin/events/:id', () => {
  it('refuses shrinking, seated capacity, late prices and a window that closes before it opens', async () => {
    const ev = await h.createEvent();
    const cases: [unknown, number, string, string][] = [
      [{ zones: [{ code: 'FLOOR', capacity: 199 }] }, 400, 'INVALID_REQUEST', 'zones.0.capacity'],
      [{ zones: [{ code: 'A', rows: 9 }] }, 400, 'INVALID_REQUEST', 'zones.0.rows'],
      [{ zones: [{ code: 'A', capacity: 500 }] }, 400, 'INVALID_REQUEST', 'zones.0.capacity'],
      [{ zones: [{ code: 'FLOOR', rows: 3 }] }, 400, 'INVALID_REQUEST', 'zones.0.rows'],
      [{ zones: [{ code: 'NOPE', name: 'x' }] }, 400, 'INVALID_REQUEST', 'zones.0.code'],
      [{ zones: [{ code: 'A', priceCents: 1 }] }, 409, 'PRICE_LOCKED', 'zones.0.priceCents'],
      [{ salesCloseAt: '2000-01-01T00:00:00Z' }, 400, 'INVALID_REQUEST', 'salesCloseAt'],
    ];
    for (const [body, status, code, field] of cases) {
      const r = await patch(ev.id, body);
      expect({ status: r.status, code: r.body.error?.code, field: r.body.error?.details?.field }).toEqual({ status, code, field });
    }
    expect((await patch(randomUUID(), { name: 'x' })).status).toBe(404);
    expect((await patch(ev.id, { capacity: 3 })).status).toBe(400);
    const buyer = await h.token(`p-${randomUUID()}`);
    expect((await h.call('PATCH', `/v1/admin/events/${ev.id}`, { token: buyer, body: { name: 'x' } })).status).toBe(403);
  });

  it('changes prices before opening, and names, times and limits at any time', async () => {
    const later = Date.now() + 3_600_000;
    const ev = await h.createEvent({ salesOpenAt: new Date(later).toISOString() });
    const r = await patch(ev.id, {
      name: 'Renamed',
      maxSeatsPerUser: 3,
      holdSeconds: 120,
      zones: [{ code: 'A', priceCents: 12_345, name: 'Front block' }],
      salesOpenAt: new Date(Date.now() - 1000).toISOString(),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'Renamed', maxSeatsPerUser: 3, holdSeconds: 120 });
    expect(r.body.zones[0]).toMatchObject({ code: 'A', name: 'Front block', priceCents: 12_345 });
    // The new window and limit hold in Redis at once: sales are open, and 4 seats are one too many.
    const buyer = await h.token(`q-${randomUUID()}`);
    const held = await hold(ev.id, buyer, { zone: 'A', quantity: 3 });
    expect(held.status).toBe(201);
    expect(held.body.totalCents).toBe(3 * 12_345);
    expect((await hold(ev.id, buyer, { zone: 'A', quantity: 1 })).body.error.code).toBe('LIMIT_EXCEEDED');
  });

  it('a sold-out zone sells again once grown, and a raised limit holds in PostgreSQL too', async () => {
    const ev = await h.createEvent({ maxSeatsPerUser: 2, zones: [{ code: 'G', name: 'Floor', priceCents: 100, kind: 'ga', capacity: 4 }] });
    const [u1, u2, u3] = await Promise.all([1, 2, 3].map((i) => h.token(`g${i}-${randomUUID()}`)));
    expect((await hold(ev.id, u1!, { zone: 'G', quantity: 2 })).status).toBe(201);
    expect((await hold(ev.id, u2!, { zone: 'G', quantity: 2 })).status).toBe(201);
    expect((await hold(ev.id, u3!, { zone: 'G', quantity: 1 })).body.error.code).toBe('SOLD_OUT');
    expect((await patch(ev.id, { maxSeatsPerUser: 4, zones: [{ code: 'G', capacity: 7 }] })).status).toBe(200);
    // Redis and PostgreSQL's own guard (zone_usage, user_usage) both follow the edit.
    expect((await hold(ev.id, u1!, { zone: 'G', quantity: 2 })).status).toBe(201);
    expect((await hold(ev.id, u3!, { zone: 'G', quantity: 1 })).status).toBe(201);
    expect((await hold(ev.id, u3!, { zone: 'G', quantity: 1 })).body.error.code).toBe('SOLD_OUT');
    const [usage] = await h.core.sql<{ capacity: number; used: number }[]>`
      select capacity, used from zone_usage where event_id = ${ev.id} and zone_code = 'G'`;
    expect(usage).toEqual({ capacity: 7, used: 7 });
    await expectIntact(ev.id, 4);
  });

  it('edits racing holds never reset held or sold; capacity and rows only grow', async () => {
    const ev = await h.createEvent({ maxSeatsPerUser: 6 });
    const buyers = await Promise.all(Array.from({ length: 150 }, (_, i) => h.token(`e-${i}-${randomUUID()}`)));
    const holds = buyers.flatMap((t, i) => [
      hold(ev.id, t, { zone: 'FLOOR', quantity: 1 + (i % 3) }),
      hold(ev.id, t, i % 2 ? { zone: 'A', quantity: 2 } : { seats: [`A-${1 + (i % 12)}-${1 + (i % 10)}`] }),
    ]);
    const edits = Array.from({ length: 12 }, (_, i) =>
      new Promise((r) => setTimeout(r, i * 15)).then(() =>
        patch(ev.id, { name: `Edit ${i}`, zones: [{ code: 'FLOOR', capacity: 200 + 10 * (i + 1) }, { code: 'A', rows: 10 + i + 1, name: `A${i}` }] }),
      ),
    );
    const [holdResults, editResults] = await Promise.all([Promise.all(holds), Promise.all(edits)]);
    // 503 is a hold whose write missed its deadline on a starved machine: undone, nothing half-done.
    for (const r of holdResults) expect([201, 400, 409, 429, 503], JSON.stringify(r.body)).toContain(r.status);
    expect(holdResults.filter((r) => r.status === 201).length).toBeGreaterThan(0);
    // Edits apply one at a time, in whatever order their transactions get the event: one that
    // would shrink what a later one grew is refused, and the largest always applies.
    for (const r of editResults) {
      if (r.status !== 200) expect(r.body.error).toMatchObject({ code: 'INVALID_REQUEST', details: { field: expect.stringMatching(/^zones\.\d\.(capacity|rows)$/) } });
    }
    expect(editResults.at(-1)!.status).toBe(200);
    const final = (await h.call('GET', `/v1/events/${ev.id}`)).body;
    expect(final.zones.find((z: { code: string }) => z.code === 'FLOOR').capacity).toBe(320);
    expect(final.zones.find((z: { code: string }) => z.code === 'A')).toMatchObject({ rows: 22, capacity: 220 });
    const inv = await expectIntact(ev.id);
    expect(inv.zones.find((z) => z.code === 'FLOOR')!.held).toBeGreaterThan(0);
    // New rows are sold like the old ones.
    const late = await h.token(`late-${randomUUID()}`);
    expect((await hold(ev.id, late, { seats: ['A-22-10'] })).status).toBe(201);
    await expectIntact(ev.id);
  });
});

describe('GET /v1/events', () => {
  it('pages through listed events, newest sale first, searchable; drafts and test events hidden', async () => {
    const tag = randomUUID().slice(0, 8);
    const base = Date.now() - 600_000;
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const e = await h.createEvent({ name: `Gig ${tag} ${i}`, salesOpenAt: new Date(base + i * 1000).toISOString() });
      made.push(e.id);
    }
    const draft = await h.createEvent({ name: `Gig ${tag} draft`, status: 'draft' });
    const test = await h.createEvent({ name: `Gig ${tag} test`, test: true });
    const page1 = await h.call('GET', `/v1/events?limit=2&q=${encodeURIComponent(`gig ${tag}`)}`);
    expect(page1.status).toBe(200);
    expect(page1.body.events.map((e: { id: string }) => e.id)).toEqual([made[2], made[1]]);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await h.call('GET', `/v1/events?limit=2&q=${encodeURIComponent(`gig ${tag}`)}&cursor=${page1.body.nextCursor}`);
    expect(page2.body.events.map((e: { id: string }) => e.id)).toEqual([made[0]]);
    expect(page2.body.nextCursor).toBeNull();
    // Organisers see everything, drafts and test events included.
    const all = await h.call('GET', `/v1/admin/events?limit=10&q=${tag}`, { token: h.adminToken });
    expect(new Set(all.body.events.map((e: { id: string }) => e.id))).toEqual(new Set([...made, draft.id, test.id]));
    // The search pattern is literal: % and _ match only themselves.
    expect((await h.call('GET', `/v1/events?q=${encodeURIComponent('%')}${tag}`)).body.events).toEqual([]);
    expect((await h.call('GET', '/v1/events?cursor=bogus')).status).toBe(400);
    expect((await h.call('GET', '/v1/events?limit=0')).status).toBe(400);
  });
});
