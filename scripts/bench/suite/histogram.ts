// Latency histogram as a standalone SVG: log-spaced latency bins on x, share of requests on
// y, one step line per series, p50/p99 in the legend. No dependencies, no network.
import { pct } from './stats';

export type Series = { name: string; latencies: number[] };

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
/** The white canvas, the title and the two axes of a W x H chart with margins m. */
function frame(W: number, H: number, m: { l: number; r: number; t: number; b: number }, title: string): string[] {
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" stroke="#333"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="#333"/>`,
  ];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function histogramSvg(title: string, series: Series[], opts: { binsPerDecade?: number } = {}): string {
  const W = 900;
  const m = { l: 60, r: 20, t: 40, b: 58 + 16 * series.length };
  const H = 330 + m.b;
  const perDecade = opts.binsPerDecade ?? 20;
  const all = series.flatMap((s) => s.latencies).filter((v) => v > 0);
  if (!all.length) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="60"><text x="10" y="30">${esc(title)}: no samples</text></svg>`;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of all) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const lmin = Math.floor(Math.log10(Math.max(lo, 0.01)));
  const lmax = Math.ceil(Math.log10(Math.max(hi, lo * 10)));
  const nb = (lmax - lmin) * perDecade;
  const bin = (v: number) => Math.min(nb - 1, Math.max(0, Math.floor((Math.log10(Math.max(v, 10 ** lmin)) - lmin) * perDecade)));
  const hists = series.map((s) => {
    const h = new Array<number>(nb).fill(0);
    for (const v of s.latencies) h[bin(v)]!++;
    return h.map((c) => (s.latencies.length ? (100 * c) / s.latencies.length : 0));
  });
  const ymax = Math.max(1, ...hists.flat()) * 1.1;
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const x = (lv: number) => m.l + ((lv - lmin) / (lmax - lmin)) * pw;
  const y = (share: number) => m.t + ph - (share / ymax) * ph;
  const out = frame(W, H, m, title);
  for (let d = lmin; d <= lmax; d++) {
    const label = 10 ** d >= 1 ? String(10 ** d) : (10 ** d).toFixed(-d);
    out.push(`<line x1="${x(d)}" y1="${m.t}" x2="${x(d)}" y2="${m.t + ph}" stroke="#ddd"/>`);
    out.push(`<text x="${x(d)}" y="${m.t + ph + 16}" text-anchor="middle">${label}</text>`);
  }
  out.push(`<text x="${m.l + pw / 2}" y="${m.t + ph + 34}" text-anchor="middle">latency (ms, log scale)</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (ymax * i) / 4;
    out.push(`<text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(v < 10 ? 1 : 0)}</text>`);
  }
  out.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">% of requests per bin (${perDecade}/decade)</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts: string[] = [];
    hists[i]!.forEach((share, b) => {
      const x0 = x(lmin + b / perDecade);
      const x1 = x(lmin + (b + 1) / perDecade);
      pts.push(`${x0.toFixed(1)},${y(share).toFixed(1)}`, `${x1.toFixed(1)},${y(share).toFixed(1)}`);
    });
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${pts.join(' ')}"/>`);
    const sorted = Float64Array.from(s.latencies).sort();
    const p99 = pct(sorted, 99);
    if (p99 > 0) {
      const px = x(Math.log10(p99));
      out.push(`<line x1="${px}" y1="${m.t}" x2="${px}" y2="${m.t + ph}" stroke="${color}" stroke-dasharray="4 3"/>`);
    }
    const ly = m.t + ph + 56 + i * 16;
    out.push(`<rect x="${m.l}" y="${ly - 9}" width="10" height="10" fill="${color}"/>`);
    out.push(
      `<text x="${m.l + 15}" y="${ly}">${esc(s.name)}: n=${s.latencies.length}, p50 ${pct(sorted, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (dashed line)</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Per-second counts as lines (x: seconds since t0), e.g. holds/s and confirms/s during a sale. */
export function timelineSvg(title: string, series: { name: string; values: number[] }[], yLabel = 'per second'): string {
  const W = 900;
  const m = { l: 60, r: 20, t: 40, b: 50 + 16 * series.length };
  const H = 300 + m.b;
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const ymax = Math.max(1, ...series.flatMap((s) => s.values)) * 1.1;
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const x = (i: number) => m.l + (i / n) * pw;
  const y = (v: number) => m.t + ph - (v / ymax) * ph;
  const out = frame(W, H, m, title);
  out.push(
    `<text x="${m.l + pw / 2}" y="${m.t + ph + 32}" text-anchor="middle">seconds since sales opened</text>`,
    `<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  const step = Math.max(1, Math.ceil(n / 15 / 5) * 5);
  for (let i = 0; i <= n; i += step) {
    out.push(`<line x1="${x(i)}" y1="${m.t}" x2="${x(i)}" y2="${m.t + ph}" stroke="#eee"/>`);
    out.push(`<text x="${x(i)}" y="${m.t + ph + 16}" text-anchor="middle">${i}</text>`);
  }
  for (let k = 0; k <= 4; k++) {
    const v = (ymax * k) / 4;
    out.push(`<text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v)}</text>`);
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.values.map((v, j) => `${x(j + 0.5).toFixed(1)},${y(v).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${pts.join(' ')}"/>`);
    const ly = m.t + ph + 52 + i * 16;
    out.push(`<rect x="${m.l}" y="${ly - 9}" width="10" height="10" fill="${color}"/>`);
    out.push(`<text x="${m.l + 15}" y="${ly}">${esc(s.name)} (total ${s.values.reduce((a, b) => a + b, 0)})</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/**
 * Horizontal bars on a log scale (requests/s spans 100 to 50,000), one per row, grouped by
 * colour (e.g. API processes), with each bar's note (the ratio to the floor) at its end.
 */
export function barSvg(title: string, bars: { label: string; value: number; group: string; note?: string }[], xLabel = 'requests/s (log scale)'): string {
  const W = 900;
  const groups = [...new Set(bars.map((b) => b.group))];
  const m = { l: 230, r: 110, t: 40, b: 48 + 16 * groups.length };
  const rowH = 20;
  const H = m.t + m.b + rowH * Math.max(1, bars.length);
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const lo = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...bars.map((b) => b.value)))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(10, ...bars.map((b) => b.value))));
  const x = (v: number) => m.l + ((Math.log10(Math.max(lo, v)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * pw;
  const out = frame(W, H, m, title);
  out.push(`<text x="${m.l + pw / 2}" y="${m.t + ph + 32}" text-anchor="middle">${esc(xLabel)}</text>`);
  for (let v = lo; v <= hi; v *= 10) {
    out.push(`<line x1="${x(v)}" y1="${m.t}" x2="${x(v)}" y2="${m.t + ph}" stroke="#eee"/>`);
    out.push(`<text x="${x(v)}" y="${m.t + ph + 16}" text-anchor="middle">${v.toLocaleString('en-US')}</text>`);
  }
  bars.forEach((b, i) => {
    const color = COLORS[groups.indexOf(b.group) % COLORS.length];
    const y = m.t + i * rowH + 3;
    out.push(`<text x="${m.l - 6}" y="${y + 11}" text-anchor="end">${esc(b.label)}</text>`);
    out.push(`<rect x="${m.l}" y="${y}" width="${Math.max(1, x(b.value) - m.l).toFixed(1)}" height="${rowH - 6}" fill="${color}"/>`);
    out.push(`<text x="${(x(b.value) + 4).toFixed(1)}" y="${y + 11}">${Math.round(b.value).toLocaleString('en-US')}${b.note ? ` (${esc(b.note)})` : ''}</text>`);
  });
  groups.forEach((g, i) => {
    const ly = m.t + ph + 48 + i * 16;
    out.push(`<rect x="${m.l}" y="${ly - 9}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`);
    out.push(`<text x="${m.l + 15}" y="${ly}">${esc(g)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
