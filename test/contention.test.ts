import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';
import { checkInvariants } from './invariants';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const USERS = 300;
const ATTEMPTS_PER_USER = 8; // 2,400 concurrent hold attempts
const MAX_PER_USER = 6;

function pick<T>(xs: T[], n: number): T[] {
  const copy = [...xs];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

it('2,400 concurrent holds from 300 users never double-book, overfill GA or exceed the limit', async () => {
  const ev = await h.createEvent({
    maxSeatsPerUser: MAX_PER_USER,
    zones: [
      { code: 'A', name: 'Block A', priceCents: 9000, kind: 'seated', rows: 10, seatsPerRow: 10 },
      { code: 'FLOOR', name: 'Floor', priceCents: 15000, kind: 'ga', capacity: 200 },
    ],
  });
  const seats = Array.from({ length: 100 }, (_, i) => `A-${Math.floor(i / 10) + 1}-${(i % 10) + 1}`);
  const users = await Promise.all(Array.from({ length: USERS }, (_, i) => h.token(`buyer-${i}-${randomUUID()}`)));

  const attempts = users.flatMap((token) =>
    Array.from({ length: ATTEMPTS_PER_USER }, () =>
      Math.random() < 0.5
        ? { token, body: { seats: pick(seats, 1 + Math.floor(Math.random() * 3)) } }
        : { token, body: { zone: 'FLOOR', quantity: 1 + Math.floor(Math.random() * 4) } },
    ),
  );
  const started = performance.now();
  const results = await Promise.all(
    attempts.map((a) =>
      h.call('POST', `/v1/events/${ev.id}/reservations`, { token: a.token, body: a.body, headers: { 'idempotency-key': randomUUID() } }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const byStatus = results.reduce<Record<string, number>>((m, r) => {
    const key = r.status === 201 ? '201' : `${r.status} ${r.body.error.code}`;
    m[key] = (m[key] ?? 0) + 1;
    return m;
  }, {});
  // Figures for the closing note (not an assertion: speed belongs to benchmarks).
  console.log(`contention: ${attempts.length} attempts in ${seconds.toFixed(2)} s = ${(attempts.length / seconds).toFixed(0)} attempts/s`, byStatus);

  for (const r of results) expect([201, 409, 429]).toContain(r.status);
  const held = results.filter((r) => r.status === 201);
  expect(held.length).toBeGreaterThan(0);
  // The whole seated block and GA zone are in demand far beyond capacity.
  expect(byStatus['409 SEATS_UNAVAILABLE'] ?? 0).toBeGreaterThan(0);

  // Seats in successful responses never overlap.
  const heldSeats = held.flatMap((r) => r.body.seats as string[]);
  expect(new Set(heldSeats).size).toBe(heldSeats.length);

  // Confirm half and cancel a quarter while another wave of holds races them.
  const wave2 = users.slice(0, 100).map((token) =>
    h.call('POST', `/v1/events/${ev.id}/reservations`, { token, body: { zone: 'FLOOR', quantity: 1 } }),
  );
  const owners = new Map(held.map((r, i) => [r.body.id as string, attempts[results.indexOf(r)]!.token] as const));
  const actions = [...owners].map(([id, token], i) =>
    i % 4 < 2
      ? h.call('POST', `/v1/reservations/${id}/confirm`, { token })
      : i % 4 === 2
        ? h.call('POST', `/v1/reservations/${id}/cancel`, { token })
        : Promise.resolve(null),
  );
  const after = await Promise.all([...actions, ...wave2]);
  for (const r of after) if (r) expect([200, 201, 409, 429]).toContain(r.status);

  const inv = await checkInvariants(h, ev.id, { maxPerUser: MAX_PER_USER });
  expect(inv.dupSeats).toEqual([]);
  expect(inv.liveFlagMismatch).toEqual([]);
  expect(inv.overLimit).toEqual([]);
  expect(inv.seatDisagreements).toEqual([]);
  for (const z of inv.zones) {
    expect(z.available + z.held + z.sold).toBe(z.capacity);
    expect(z.available).toBeGreaterThanOrEqual(0);
    const pg = inv.perZone.find((p) => p.zone_code === z.code) ?? { held: 0, sold: 0 };
    expect({ held: z.held, sold: z.sold }).toEqual({ held: pg.held, sold: pg.sold });
  }
  const ga = inv.zones.find((z) => z.code === 'FLOOR')!;
  expect(ga.held + ga.sold).toBeLessThanOrEqual(200);
});
