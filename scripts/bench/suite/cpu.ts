// Which parts of the machine each process had: CPU time per process group, read from /proc
// before and after a measurement. Every process may use both cores (nothing is pinned); the
// figure is cores used on average = CPU seconds / wall seconds.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

export type Groups = Record<string, number[]>;
type Sample = { at: number; ticks: Record<string, number> };

/** CPU of this process's children that have exited and been waited for (each wrk run). */
function reapedChildrenTicks(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[13]) + Number(f[14]); // cutime + cstime
}

function procTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  } catch {
    return 0;
  }
}

/** Shared services found by process name: PostgreSQL (all backends), Redis, Kafka. */
function servicePids(): Groups {
  const g: Groups = { postgres: [], redis: [], kafka: [] };
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const comm = readFileSync(`/proc/${d}/comm`, 'utf8').trim();
      if (comm === 'postgres') g.postgres!.push(Number(d));
      else if (comm === 'redis-server') g.redis!.push(Number(d));
      else if (comm === 'java' && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('kafka')) g.kafka!.push(Number(d));
    } catch {}
  }
  return g;
}

export class CpuMeter {
  constructor(private readonly own: () => Groups) {}

  sample(): Sample {
    const groups = { ...this.own(), ...servicePids(), 'bench driver': [process.pid] };
    const ticks: Record<string, number> = {};
    for (const [name, pids] of Object.entries(groups)) ticks[name] = pids.reduce((a, p) => a + procTicks(p), 0);
    ticks['wrk'] = reapedChildrenTicks();
    return { at: performance.now(), ticks };
  }

  /** Cores used per group between two samples (PostgreSQL backends that ended are not counted). */
  static cores(a: Sample, b: Sample): Record<string, number> {
    const s = (b.at - a.at) / 1000;
    const out: Record<string, number> = {};
    for (const k of Object.keys(b.ticks)) out[k] = Math.round(((b.ticks[k]! - (a.ticks[k] ?? 0)) / TICKS / s) * 100) / 100;
    return out;
  }

  /** CPU seconds per group between two samples. */
  static seconds(a: Sample, b: Sample): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of Object.keys(b.ticks)) out[k] = (b.ticks[k]! - (a.ticks[k] ?? 0)) / TICKS;
    return out;
  }
}
