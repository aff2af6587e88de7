// Scenarios 4 and 5 run the existing standalone benches (scripts/bench/sse.ts, relay.ts) as
// child processes, show their output live as progress, and parse their figures.
import { spawn } from 'node:child_process';
import { mdTable, progress, type ScenarioResult } from './common';
import { fmt } from './stats';
import { ROOT } from './stack';

function runScript(file: string, args: string[], env: Record<string, string>, label: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      for (const line of String(d).split('\n')) if (line.trim()) progress(`${label}: ${line.trim()}`);
    });
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} exited ${code}:\n${err.slice(-4000)}`))));
  });
}

export async function sse(o: { streams: number; window: number }): Promise<ScenarioResult> {
  const out = await runScript('scripts/bench/sse.ts', ['--streams', String(o.streams), '--window', String(o.window)], {}, 'sse');
  const rows: Record<string, unknown>[] = [];
  for (const line of out.split('\n')) {
    const m = /^(.{12}) (\{.*\})$/.exec(line);
    if (m) rows.push({ level: m[1]!.trim(), ...JSON.parse(m[2]!) });
  }
  const after = /after closing: (.*)/.exec(out)?.[1] ?? '';
  const figures = { streams: o.streams, windowSeconds: o.window, rows, afterClosing: after };
  let md = `### 4. SSE: waiting-room streams held by one API process (scripts/bench/sse.ts, ${o.window} s windows)\n\n`;
  md += mdTable(
    ['open streams', 'RSS MiB', 'live heap MiB', 'RSS KiB/stream', 'live heap KiB/stream', 'API CPU %', 'Redis commands/s', 'SSE events/s'],
    rows.map((r) => [r.streams as number, r.rssMiB as number, r.liveHeapMiB as number, (r.rssPerStreamKiB as number) ?? '-', (r.liveHeapPerStreamKiB as number) ?? '-', r.cpuPercent as number, r.redisCmdsPerSec as number, r.sseEventsPerSec as number]),
  );
  md += `\n\nAfter closing every stream: ${after}\n`;
  return { name: 'sse', figures, markdown: md, histograms: [] };
}

export async function relay(o: { outboxRows: number; rates: number[]; seconds: number; holds: number }): Promise<ScenarioResult> {
  const out = await runScript('scripts/bench/relay.ts', [], {
    BENCH_OUTBOX_ROWS: String(o.outboxRows),
    BENCH_RATES: o.rates.join(','),
    BENCH_SECONDS: String(o.seconds),
    BENCH_HOLDS: String(o.holds),
  }, 'relay');
  const lines = out.split('\n').filter((l) => /^(relay throughput|confirm-to-broker|seat release)/.test(l));
  const num = (s: string | undefined) => Number((s ?? '').replace(/,/g, ''));
  const throughput = lines.filter((l) => l.startsWith('relay throughput')).map((l) => ({
    relays: num(/\((\d+) relay/.exec(l)?.[1]),
    messages: num(/: ([\d,]+) messages in/.exec(l)?.[1]),
    seconds: num(/in ([\d.]+) s/.exec(l)?.[1]),
    perSecond: num(/= ([\d,]+) messages\/s/.exec(l)?.[1]),
  }));
  const latency = lines.filter((l) => l.startsWith('confirm-to-broker')).map((l) => ({
    rate: num(/at ([\d,]+) confirms\/s/.exec(l)?.[1]),
    achieved: num(/achieved ([\d,]+)\/s/.exec(l)?.[1]),
    p50: num(/p50 ([\d.]+) ms/.exec(l)?.[1]),
    p99: num(/p99 ([\d.]+) ms/.exec(l)?.[1]),
    max: num(/max ([\d.]+) ms/.exec(l)?.[1]),
  }));
  const release = lines.filter((l) => l.startsWith('seat release')).map((l) => ({
    workers: num(/\((\d+) worker/.exec(l)?.[1]),
    holds: num(/: ([\d,]+) holds expired/.exec(l)?.[1]),
    perSecond: num(/= ([\d,]+) holds\/s/.exec(l)?.[1]),
  }));
  const figures = { options: o, throughput, confirmToBroker: latency, seatRelease: release, lines };
  let md = `### 5. Outbox relay (scripts/bench/relay.ts)\n\n`;
  md += mdTable(['relays', 'messages', 'seconds', 'messages/s'], throughput.map((t) => [t.relays, fmt(t.messages), t.seconds, fmt(t.perSecond)]));
  md += '\n\n';
  md += mdTable(['confirm rate asked', 'achieved/s', 'confirm → broker ack p50 ms', 'p99 ms', 'max ms'], latency.map((x) => [fmt(x.rate), fmt(x.achieved), x.p50, x.p99, x.max]));
  md += '\n\n';
  md += mdTable(['seat-release workers', 'holds expired', 'holds/s'], release.map((r) => [r.workers, fmt(r.holds), fmt(r.perSecond)]));
  md += '\n';
  return { name: 'relay', figures, markdown: md, histograms: [] };
}
