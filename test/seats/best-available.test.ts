import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runsOf, seatBench, seated } from './zone';

let b: Awaited<ReturnType<typeof seatBench>>;
beforeAll(async () => {
  b = await seatBench();
});
afterAll(() => b.close());

const row = (seats: string[]) => new Set(seats.map((s) => s.split('-')[1]));
const numbers = (seats: string[]) => seats.map((s) => Number(s.split('-')[2]));

describe('best available (lua/reserve-8.lua)', () => {
  it('takes the front row, centred, and answers the largest block when none fits', async () => {
    const zone = seated('A', 3, 10);
    const { k } = await b.load([zone]);
    const first = await b.hold(k, 'A', { quantity: 4 });
    expect(first).toEqual({ kind: 'held', seats: ['A-1-4', 'A-1-5', 'A-1-6', 'A-1-7'] });
    // Row 1 keeps runs of 3 on each side: a pair there strands a seat, so row 2's centre wins...
    expect(await b.hold(k, 'A', { quantity: 2 })).toEqual({ kind: 'held', seats: ['A-2-5', 'A-2-6'] });
    // ...while a trio fits row 1 exactly (equally central either side: the left one).
    expect(await b.hold(k, 'A', { quantity: 3 })).toEqual({ kind: 'held', seats: ['A-1-1', 'A-1-2', 'A-1-3'] });
    // A block of 11 never fits a 10-seat row.
    expect(await b.hold(k, 'A', { quantity: 11 })).toEqual({ kind: 'no-block', largestBlock: 10 });
    const a = await b.audit(k, zone);
    expect(a.indexExact).toBe(true);
    expect(a.bitmapMatchesSeats).toBe(true);
  });

  it('skips a block that would strand a single seat while an orphan-free one exists elsewhere', async () => {
    const zone = seated('B', 2, 6);
    const { k } = await b.load([zone]);
    // Row 1 keeps a single run of 3 (seats 4-6); a pair there always strands one seat.
    expect(await b.hold(k, 'B', { seats: ['B-1-1', 'B-1-2', 'B-1-3'] })).toMatchObject({ kind: 'held' });
    const pair = await b.hold(k, 'B', { quantity: 2 });
    expect(pair.kind).toBe('held');
    expect(pair.kind === 'held' && [...row(pair.seats)]).toEqual(['2']);
    // Fill row 2 down to a run of 3 as well: now only orphaning blocks exist, so row 1 wins.
    const rest = await b.hold(k, 'B', { seats: ['B-2-1', 'B-2-2', 'B-2-5', 'B-2-6'].filter((s) => pair.kind === 'held' && !pair.seats.includes(s)) });
    expect(rest.kind).toBe('held');
    const a0 = await b.audit(k, zone);
    const runs2 = runsOf(a0.free, 6, 2);
    expect(runs2.every(([, len]) => len !== 2)).toBe(true);
    const forced = await b.hold(k, 'B', { quantity: 2 });
    expect(forced.kind).toBe('held');
    expect(forced.kind === 'held' && [...row(forced.seats)]).toEqual(['1']);
    expect((await b.audit(k, zone)).indexExact).toBe(true);
  });

  it('keeps the index exact through random picks, best holds, sales and releases', async () => {
    const zone = seated('C', 37, 23); // 37 rows: leaves 64, a tree with empty leaves at the back
    const { k } = await b.load([zone]);
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const live: string[] = [];
    let ids: { id: string }[] = [];
    for (let step = 0; step < 600; step++) {
      const op = rand(10);
      if (op < 5) {
        const r = await b.hold(k, 'C', { quantity: 1 + rand(6) });
        if (r.kind === 'held') {
          expect(row(r.seats).size).toBe(1);
          const ns = numbers(r.seats);
          expect(ns).toEqual(ns.map((_, i) => ns[0]! + i));
        } else expect(r.kind).toBe('no-block');
      } else if (op < 7) {
        const seats = [`C-${1 + rand(37)}-${1 + rand(23)}`];
        await b.hold(k, 'C', { seats });
      } else if (op < 9) {
        const holds = await b.redis.hgetall(k.holds);
        ids = Object.keys(holds).filter((id) => holds[id]!.startsWith('h|')).map((id) => ({ id }));
        if (ids.length) expect(await b.release(k, 'C', ids[rand(ids.length)]!.id)).toBe('released');
      } else {
        const holds = await b.redis.hgetall(k.holds);
        const held = Object.keys(holds).filter((id) => holds[id]!.startsWith('h|'));
        if (held.length) {
          const id = held[rand(held.length)]!;
          expect(await b.sell(k, 'C', id)).toBe('sold');
          live.push(id);
        }
      }
      if (step % 50 === 0) {
        const a = await b.audit(k, zone);
        expect(a.indexExact).toBe(true);
        expect(a.bitmapMatchesSeats).toBe(true);
      }
    }
    const a = await b.audit(k, zone);
    expect(a.indexExact).toBe(true);
    expect(a.bitmapMatchesSeats).toBe(true);
  });
});

describe('growing a zone (lua/grow-5.lua)', () => {
  it('adds rows past the tree width and GA capacity, never touching held or sold', async () => {
    const zone = seated('D', 3, 8);
    const ga = { code: 'G', name: 'G', priceCents: 1, kind: 'ga' as const, capacity: 10 };
    const { k } = await b.load([zone, ga]);
    const h1 = await b.hold(k, 'D', { quantity: 8 });
    const h2 = await b.hold(k, 'D', { quantity: 3 });
    expect(h1.kind === 'held' && h2.kind === 'held').toBe(true);
    const ids = Object.keys(await b.redis.hgetall(k.holds));
    expect(await b.sell(k, 'D', ids[0]!)).toBe('sold');
    expect(await b.hold(k, 'G', { quantity: 4, ga: true })).toMatchObject({ kind: 'held' });
    const before = await b.redis.hgetall(k.zoneCounts('D'));
    const { growScript } = await import('../../src/inventory/scripts');
    // 3 rows -> 11 rows: leaves 4 -> 16, two rows per call.
    expect(await growScript(b.redis, k, { zone: 'D', kind: 'seated', target: 11, perRow: 8 })).toBe('grown');
    expect(await growScript(b.redis, k, { zone: 'G', kind: 'ga', target: 25 })).toBe('grown');
    const after = await b.redis.hgetall(k.zoneCounts('D'));
    expect({ held: after.held, sold: after.sold }).toEqual({ held: before.held, sold: before.sold });
    expect(after).toMatchObject({ rows: '11', capacity: String(11 * 8), leaves: '16' });
    expect(await b.redis.hgetall(k.zoneCounts('G'))).toMatchObject({ capacity: '25', held: '4' });
    const extended = { ...zone, rows: 11, capacity: 88 };
    const a = await b.audit(k, extended);
    expect(a.indexExact).toBe(true);
    expect(a.bitmapMatchesSeats).toBe(true);
    // Growing again to a smaller size changes nothing.
    expect(await growScript(b.redis, k, { zone: 'D', kind: 'seated', target: 5, perRow: 8 })).toBe('grown');
    expect((await b.redis.hgetall(k.zoneCounts('D'))).rows).toBe('11');
    // The new rows sell like the old ones: a block of 8 lands in row 3 (the first fully free).
    expect(await b.hold(k, 'D', { quantity: 8 })).toEqual({ kind: 'held', seats: Array.from({ length: 8 }, (_, i) => `D-3-${i + 1}`) });
  });
});
