// CPU profile of a live API process through scripts/profile.sh (the inspector, no restart),
// summarised as self time per function and per area (our code, a library, Node itself).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ROOT } from './stack';

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] };
type CpuProfile = { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

export type ProfileSummary = {
  file: string;
  seconds: number;
  /** Share of sampled time the process was busy (not idle). */
  busyPercent: number;
  top: { fn: string; where: string; selfPercent: number }[];
  areas: { area: string; selfPercent: number }[];
  /** Time with the function anywhere on the stack (each sample counted once per function): our code and libraries. */
  inclusive: { fn: string; where: string; totalPercent: number }[];
};

/** Runs `scripts/profile.sh cpu <pid> <seconds> <port>`; resolves with the .cpuprofile path. */
export async function captureProfile(pid: number, inspectPort: number, seconds: number): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', ['scripts/profile.sh', 'cpu', String(pid), String(seconds), String(inspectPort)], {
    cwd: ROOT,
  });
  return stdout.trim().split('\n').at(-1)!;
}

function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native / V8 builtins)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const src = url.indexOf('/src/');
  if (src >= 0) return `src/${url.slice(src + 5).split('/')[0]}`;
  return url.replace(/^file:\/\//, '');
}

export async function summarizeProfile(file: string, topN = 15): Promise<ProfileSummary> {
  const p = JSON.parse(await readFile(`${ROOT}/${file}`, 'utf8').catch(() => readFile(file, 'utf8'))) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // The first delta is the time from the profiler's start to its first sample, not work.
  if (p.timeDeltas.length) p.timeDeltas[0] = 0;
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  let idle = 0;
  const fns = new Map<string, { fn: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const fn = functionName || '(anonymous)';
    const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const e = fns.get(key) ?? { fn, where, us: 0 };
    e.us += us;
    fns.set(key, e);
    const a = area(url, fn);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const busy = total - idle;
  // Inclusive time of our own functions and library entry points: walk each sample's stack.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map<string, { fn: string; where: string; us: number }>();
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const { functionName, url, lineNumber } = byId.get(cur)!.callFrame;
      if (functionName === '(idle)' || !url || url.startsWith('node:')) continue;
      const where = `${url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/')}:${lineNumber + 1}`;
      const key = `${functionName}@${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const e = incl.get(key) ?? { fn: functionName || '(anonymous)', where, us: 0 };
      e.us += us;
      incl.set(key, e);
    }
  });
  const share = (us: number) => Math.round((1000 * us) / Math.max(1, busy)) / 10;
  return {
    file,
    seconds: total / 1e6,
    busyPercent: Math.round((1000 * busy) / Math.max(1, total)) / 10,
    top: [...fns.values()].sort((a, b) => b.us - a.us).slice(0, topN).map((e) => ({ fn: e.fn, where: e.where, selfPercent: share(e.us) })),
    inclusive: [...incl.values()].sort((a, b) => b.us - a.us).slice(0, 40).map((e) => ({ fn: e.fn, where: e.where, totalPercent: share(e.us) })),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([a, us]) => ({ area: a, selfPercent: share(us) })),
  };
}
