import { afterAll, beforeAll, expect, it } from 'vitest';
import { runsOf, seatBench, seated } from './zone';

let b: Awaited<ReturnType<typeof seatBench>>;
beforeAll(async () => {
  b = await seatBench();
});
afterAll(() => b.close());

const ROWS = 25;
const PER_ROW = 40; // 1,000 seats

/** Groups of 2..6 (mostly pairs and fours), the same seeded sequence for both strategies. */
function requests(count: number, seed: number): number[] {
  const sizes = [2, 2, 2, 3, 4, 4, 5, 6];
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    // mulberry32: an LCG's low bits repeat with a short period, which would make the sizes cyclic
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return sizes[((t ^ (t >>> 14)) >>> 0) % sizes.length]!;
  });
}

/** Naive first-fit: the front-most row with room, leftmost free block; no orphan rule. */
function firstFit(sizes: number[]): Uint8Array {
  const free = new Uint8Array(ROWS * PER_ROW).fill(0x30);
  for (const q of sizes) {
    done: for (let r = 1; r <= ROWS; r++)
      for (const [start, len] of runsOf(free, PER_ROW, r))
        if (len >= q) {
          free.fill(0x31, (r - 1) * PER_ROW + start - 1, (r - 1) * PER_ROW + start - 1 + q);
          break done;
        }
  }
  return free;
}

function orphans(free: Uint8Array): { orphans: number; unsold: number } {
  let o = 0;
  let unsold = 0;
  for (let r = 1; r <= ROWS; r++)
    for (const [, len] of runsOf(free, PER_ROW, r)) {
      unsold += len;
      if (len === 1) o++;
    }
  return { orphans: o, unsold };
}

it('leaves fewer single orphaned seats at sell-out than a naive first-fit', async () => {
  const report: string[] = [];
  let ours = 0;
  let naive = 0;
  for (const seed of [1, 2, 3]) {
    // Demand well beyond capacity: groups keep coming, those that fit nowhere are turned away.
    const sizes = requests(1_500, seed);
    const zone = seated('A', ROWS, PER_ROW);
    const { k } = await b.load([zone]);
    for (const q of sizes) {
      const r = await b.hold(k, 'A', { quantity: q });
      expect(['held', 'no-block']).toContain(r.kind);
    }
    const a = await b.audit(k, zone);
    expect(a.indexExact).toBe(true);
    const best = orphans(a.free);
    const ff = orphans(firstFit(sizes));
    ours += best.orphans;
    naive += ff.orphans;
    report.push(`seed ${seed}: best available ${best.orphans} orphans (${best.unsold} unsold), first-fit ${ff.orphans} orphans (${ff.unsold} unsold)`);
  }
  console.log(`orphans at sell-out, ${ROWS} x ${PER_ROW} seats:\n  ${report.join('\n  ')}\n  total: best available ${ours}, first-fit ${naive}`);
  expect(ours).toBeLessThan(naive);
});
