import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';
import { checkInvariants } from './invariants';
import { flushScripts, loseRedis } from './redis-admin';

// This file owns Redis db 2 outright, so it can lose everything in it like a real restart
// (on a shared Redis Cluster it loses its event's keys instead: see loseRedis).
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ REDIS_URL: 'redis://127.0.0.1:6379/2' });
  await loseRedis(h, []);
});
afterAll(() => h.close());

let unavailableSeen = 0;
async function holdUntilDecided(token: string, eventId: string, body: unknown) {
  const key = randomUUID();
  for (let i = 0; i < 40; i++) {
    const r = await h.call('POST', `/v1/events/${eventId}/reservations`, { token, body, headers: { 'idempotency-key': key } });
    if (r.status !== 503) return r;
    unavailableSeen++;
    await sleep(150);
  }
  throw new Error('still 503 after retries');
}

async function expectAgreement(eventId: string) {
  const inv = await checkInvariants(h, eventId, { maxPerUser: 4 });
  expect(inv.dupSeats).toEqual([]);
  expect(inv.overLimit).toEqual([]);
  expect(inv.seatDisagreements).toEqual([]);
  for (const z of inv.zones) {
    expect(z.available + z.held + z.sold).toBe(z.capacity);
    const pg = inv.perZone.find((p) => p.zone_code === z.code) ?? { held: 0, sold: 0 };
    expect({ zone: z.code, held: z.held, sold: z.sold }).toEqual({ zone: z.code, held: pg.held, sold: pg.sold });
  }
  return inv;
}

it('Redis flushed mid-sale: rebuilt from PostgreSQL, nothing oversold, confirmed seats stay sold', async () => {
  const ev = await h.createEvent({ maxSeatsPerUser: 4 });
  const seats = Array.from({ length: 100 }, (_, i) => `A-${Math.floor(i / 10) + 1}-${(i % 10) + 1}`);
  const users = await Promise.all(Array.from({ length: 150 }, (_, i) => h.token(`loss-${i}-${randomUUID()}`)));

  // Wave 1, with the flush landing after the 20th answer: the other holds have run their
  // Lua but many of their PostgreSQL writes are still in flight (the dangerous window).
  let answered = 0;
  let flushed: Promise<unknown> = Promise.resolve();
  const wave1 = users.map((token, i) =>
    holdUntilDecided(token, ev.id, i % 2 ? { seats: [seats[(i * 7) % 100]!, seats[(i * 7 + 1) % 100]!] } : { zone: 'FLOOR', quantity: 3 }).then((r) => {
      // Another buyer arrives right after the loss and so starts the rebuild at once.
      if (++answered === 20) flushed = loseRedis(h, [ev.id]).then(() => holdUntilDecided(users[0]!, ev.id, { zone: 'FLOOR', quantity: 1 }));
      return r;
    }),
  );
  const r1 = await Promise.all(wave1);
  await flushed;
  // The rebuild waited out the in-flight writes, so Redis already agrees with PostgreSQL.
  await expectAgreement(ev.id);
  for (const r of r1) expect([201, 409, 429]).toContain(r.status);

  const held = r1.filter((r) => r.status === 201);
  expect(held.length).toBeGreaterThan(20);
  const confirmed = await Promise.all(
    held.slice(0, Math.ceil(held.length / 2)).map((r) => {
      const token = users[r1.indexOf(r)]!;
      return h.call('POST', `/v1/reservations/${r.body.id}/confirm`, { token });
    }),
  );
  for (const c of confirmed) expect(c.status).toBe(200);

  // Lose everything again, then let a second wave try to take every seat and the whole floor.
  await loseRedis(h, [ev.id]);
  await flushScripts(h.core.redis);
  const wave2 = await Promise.all(
    users.map((token, i) => holdUntilDecided(token, ev.id, i % 2 ? { seats: seats.slice((i * 3) % 96, ((i * 3) % 96) + 4) } : { zone: 'FLOOR', quantity: 4 })),
  );
  for (const r of wave2) expect([201, 409, 429]).toContain(r.status);
  // Writes answered 503 while the event was being rebuilt.
  expect(unavailableSeen).toBeGreaterThan(0);

  const inv = await expectAgreement(ev.id);
  const floor = inv.zones.find((z) => z.code === 'FLOOR')!;
  expect(floor.held + floor.sold).toBeLessThanOrEqual(200);

  // Every confirmed seat is still sold in the seat map.
  const map = await h.call('GET', `/v1/events/${ev.id}/zones/A/seats`);
  const status = new Map<string, string>(map.body.map((s: { seat: string; status: string }) => [s.seat, s.status]));
  for (const c of confirmed) for (const s of c.body.seats as string[]) expect(status.get(s)).toBe('sold');
});
