// The flash bench's load generator is split across driver processes; the report is only as
// true as the merge of what they measured. Pure logic, no services.
import { describe, expect, it } from 'vitest';
import { mergeStats } from '../scripts/bench/suite/client';
import { mergeResults } from '../scripts/bench/suite/flash-drivers';
import type { DriverResult } from '../scripts/bench/suite/flash-protocol';
import { clientAdmission } from '../scripts/bench/suite/flash-report';

const counts = (n: number) => ({
  admitted: n, holds: n, holdSeats: 2 * n, confirmed: n, confirmedSeats: 2 * n, abandoned: 0, confirmTooLate: 0,
  paidTooLate: 0, latePayments: n, failedPayments: 0, paymentErrors: 0, gaveUp: 0, retries: 1,
});

function result(index: number, ids: string[]): DriverResult {
  return {
    index,
    latencies: { 'POST reservations': [index + 1, index + 2] },
    statuses: { 'POST reservations': { 201: 1, '409 SOLD_OUT': index + 1 } },
    timeline: { holds: index === 0 ? [1, 2] : [3, 4, 5] },
    slotWaits: [0, index],
    outcome: {
      counts: counts(ids.length),
      confirmedIds: ids.map((id) => [id, 1]),
      abandonedIds: [`a${index}`],
      lateIds: [`l${index}`],
      failedIds: [],
      lateOutcomes: { 'refunded-late': 1 },
    },
    cpuSeconds: 1.5,
  };
}

describe('flash drivers merged', () => {
  it('adds statuses and per-second series, concatenates latencies and waits', () => {
    const m = mergeStats([result(0, []), result(1, [])]);
    expect(m.latencies['POST reservations']).toEqual([1, 2, 2, 3]);
    expect(m.statuses['POST reservations']).toEqual({ 201: 2, '409 SOLD_OUT': 3 });
    expect(m.timeline.holds).toEqual([4, 6, 5]);
    expect(m.slotWaits).toEqual([0, 0, 0, 1]);
  });

  it('unions the buyers outcomes and sums their counts, whatever order the drivers answer in', () => {
    const { outcome, cpuSeconds } = mergeResults([result(1, ['c', 'd', 'e']), result(0, ['a', 'b'])]);
    expect([...outcome.confirmedIds.keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(outcome.counts.confirmed).toBe(5);
    expect(outcome.counts.holdSeats).toBe(10);
    expect(outcome.counts.retries).toBe(2);
    expect([...outcome.abandonedIds].sort()).toEqual(['a0', 'a1']);
    expect([...outcome.lateIds].sort()).toEqual(['l0', 'l1']);
    expect(outcome.lateOutcomes).toEqual({ 'refunded-late': 2 });
    expect(cpuSeconds).toEqual([1.5, 1.5]);
  });
});

describe('admission as the buyers saw it', () => {
  it('is the rate passes were learned at between 10% and 90% of them', () => {
    expect(clientAdmission(new Array(10).fill(2_000))).toBeCloseTo(2_000, 0);
    // A slow start and a tail of late pollers do not move the middle of the curve.
    expect(clientAdmission([5, ...new Array(10).fill(2_000), 30, 10])).toBeCloseTo(2_000, -1);
    // Half the rate shows as half.
    expect(clientAdmission(new Array(20).fill(1_000))).toBeCloseTo(1_000, 0);
  });

  it('has no figure without passes', () => {
    expect(clientAdmission([])).toBeNaN();
  });
});
