import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql } from '../src/db/client';
import { BatchSizer, releaseExpired } from '../src/worker/release';
import { startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ PG_POOL_MAX: '3', PG_EXPORT_POOL_MAX: '1' });
});
afterAll(() => h.close());

describe('resource isolation', () => {
  it('ten stalled exports never take the connections holds and confirms need', async () => {
    const ev = await h.createEvent();
    const buyer = await h.token(`iso-${randomUUID()}`);
    for (let i = 0; i < 2; i++) {
      expect((await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: buyer, body: { zone: 'FLOOR', quantity: 1 } })).status).toBe(201);
    }
    // Ten downloads that read their first row and then stall (a slow client): each keeps its
    // cursor, and so its connection, open.
    const exports = await Promise.all(Array.from({ length: 10 }, () => h.core.exports.reservations(ev.id, null, 1)));
    const firsts = exports.map((g) => g.next());
    await sleep(200);

    const work = (async () => {
      const other = await h.token(`iso2-${randomUUID()}`);
      const hold = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: other, body: { zone: 'FLOOR', quantity: 2 } });
      const confirm = await h.call('POST', `/v1/reservations/${hold.body.id}/confirm`, { token: other });
      return [hold.status, confirm.status];
    })();
    const outcome = await Promise.race([work, sleep(8_000).then(() => 'starved')]);
    expect(outcome).toEqual([201, 200]);

    // Each stalled export ends in turn (they share the exports' one connection).
    for (let i = 0; i < exports.length; i++) {
      await firsts[i];
      await exports[i]!.return();
    }
  });

  it('9,000 holds due at once expire in batches that stay inside a short statement timeout', async () => {
    const ev = await h.createEvent({ zones: [{ code: 'FLOOR', name: 'Floor', priceCents: 15000, kind: 'ga', capacity: 10_000 }] });
    // Setup only: a bulk insert, beyond the stack's own statement timeout on a loaded machine.
    await h.core.sql.begin(async (tx) => {
      await tx`set local statement_timeout = 60000`;
      await tx`
      insert into reservations (id, event_id, user_id, zone_code, quantity, total_cents, status, idempotency_key, request_hash, expires_at)
      select gen_random_uuid(), ${ev.id}, 'burst-' || g, 'FLOOR', 1, 15000, 'held', 'k-' || g, 'h', now() - interval '1 second'
      from generate_series(1, 9000) g`;
    });
    await h.core.loader.rebuildNow(ev.id); // Redis holds them too, as if they had come through the API
    // A worker pool whose statements PostgreSQL cancels after 150 ms, and a batch limit far too big for it.
    const sql = createSql({ ...h.config.db, max: 2, statementTimeoutMs: 150 }, { applicationName: 'iso-expiry' });
    try {
      const sizer = new BatchSizer(5_000, 150 / 4);
      const sizes: number[] = [];
      const times: number[] = [];
      const n = await releaseExpired({ ...h.core.transitions, sql, batch: 5_000, sizer, logger: h.core.logger, onBatch: (k, ms) => (sizes.push(k), times.push(Math.round(ms))) });
      console.log(`expiry batches: ${sizes.join(",")} ms: ${times.join(",")}`);
      expect(n).toBe(9_000);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(9_000);
      const [left] = await h.core.sql`select count(*)::int as n from reservations where event_id = ${ev.id} and status = 'held'`;
      expect(left!.n).toBe(0);
      const [out] = await h.core.sql`select count(*)::int as n from outbox where type = 'booking.expired'
        and payload->'reservation'->>'eventId' = ${ev.id}`;
      expect(out!.n).toBe(9_000);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('the batch size halves when slow, shrinks hard on a timeout, grows back when fast', () => {
    const s = new BatchSizer(500, 100);
    s.took(250);
    expect(s.size).toBe(250);
    expect(s.timedOut()).toBe(true);
    expect(s.size).toBe(62);
    for (let i = 0; i < 50; i++) s.took(10);
    expect(s.size).toBe(500);
    while (s.timedOut());
    expect(s.size).toBe(10);
    expect(s.timedOut()).toBe(false);
  });
});
