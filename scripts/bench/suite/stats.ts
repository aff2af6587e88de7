// Small numeric helpers shared by the scenarios: percentiles and a latency summary.

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function pct(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export type LatencySummary = { n: number; p50: number; p95: number; p99: number; max: number; mean: number };

/** Latencies in ms -> p50/p95/p99/max (ms, 2 decimals). */
export function summarize(latencies: number[]): LatencySummary {
  const s = Float64Array.from(latencies).sort();
  const r = (x: number) => Math.round(x * 100) / 100;
  let sum = 0;
  for (const v of s) sum += v;
  return {
    n: s.length,
    p50: r(pct(s, 50)),
    p95: r(pct(s, 95)),
    p99: r(pct(s, 99)),
    max: r(s.length ? s[s.length - 1]! : NaN),
    mean: r(s.length ? sum / s.length : NaN),
  };
}

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';

export const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : NaN);

/** Median of a few numbers (rounds of the same measurement). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
