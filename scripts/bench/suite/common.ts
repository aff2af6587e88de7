// What the scenarios share: progress lines, admin calls over HTTP, a pool of signed tokens.
import { randomUUID } from 'node:crypto';
import { signAccessToken } from '../../../src/auth/jwt';
import { rawRequest } from '../../../test/process';
import type { Series } from './histogram';

const started = Date.now();
/** A progress line, prefixed with the time since the suite started. */
export function progress(msg: string): void {
  const s = Math.round((Date.now() - started) / 1000);
  process.stdout.write(`[bench ${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${msg}\n`);
}

export type Zone =
  | { code: string; name: string; priceCents: number; kind: 'ga'; capacity: number }
  | { code: string; name: string; priceCents: number; kind: 'seated'; rows: number; seatsPerRow: number };

export async function createEvent(
  port: number,
  adminToken: string,
  o: { name: string; zones: Zone[]; salesOpenAt?: Date; holdSeconds?: number; queue?: { enabled: boolean; admitPerSecond: number; passSeconds: number } },
): Promise<string> {
  const r = await rawRequest(port, 'POST', '/v1/admin/events', {
    token: adminToken,
    body: {
      name: o.name,
      startsAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      salesOpenAt: (o.salesOpenAt ?? new Date(Date.now() - 60_000)).toISOString(),
      holdSeconds: o.holdSeconds ?? 600,
      maxSeatsPerUser: 6,
      ...(o.queue ? { queue: o.queue } : {}),
      zones: o.zones,
    },
  });
  if (!('status' in r) || r.status !== 201) throw new Error(`create event: ${JSON.stringify(r)}`);
  return (r.body as { id: string }).id;
}

/**
 * Pre-signed access tokens for distinct users (signing inside the load loop would bill the
 * client); users `${prefix}-${from}` onwards, so several driver processes can sign their own slices.
 */
export async function signTokens(secret: string, n: number, prefix = `u${randomUUID().slice(0, 6)}`, from = 0): Promise<{ sub: string; token: string }[]> {
  const out: { sub: string; token: string }[] = [];
  for (let i = 0; i < n; i += 5_000) {
    out.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(5_000, n - i) }, async (_, j) => {
          const sub = `${prefix}-${from + i + j}`;
          return { sub, token: await signAccessToken(secret, { sub, ttlSeconds: 4 * 3600 }) };
        }),
      )),
    );
  }
  return out;
}

/** Seated zone labels in row order: zone-row-n. */
export function* seatLabels(zone: string, rows: number, perRow: number): Generator<string> {
  for (let r = 1; r <= rows; r++) for (let n = 1; n <= perRow; n++) yield `${zone}-${r}-${n}`;
}

/** What a scenario hands back: figures for result.json, Markdown for report.md, histograms. */
export type ScenarioResult = {
  name: string;
  figures: Record<string, unknown>;
  markdown: string;
  histograms: { file: string; title: string; series: Series[] }[];
  /** Per-second charts (SVG) of the run, already rendered. */
  charts?: { file: string; title: string; svg: string }[];
};

export const mdTable = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
