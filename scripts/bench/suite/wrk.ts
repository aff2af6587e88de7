// wrk (C, epoll) as the load generator for the per-route table: the requests to send are
// written into a Lua script (each wrk thread starts at its own offset and cycles through
// them), and the script reports statuses and latency percentiles in a line format parsed
// here. wrk itself comes from Debian's package (scripts/bench/ensure-wrk.sh).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './stack';

export type WrkRequest = { method: string; path: string; headers?: Record<string, string>; body?: string };
export type WrkResult = {
  requests: number;
  seconds: number;
  rps: number;
  statuses: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  socketErrors: { connect: number; read: number; write: number; timeout: number };
};

export function ensureWrk(): string {
  execFileSync('bash', [`${ROOT}scripts/bench/ensure-wrk.sh`], { stdio: 'inherit' });
  // wrk prints its version with a usage text and exits 1.
  const r = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.split('\n')[0]!.trim();
}

const lua = (s: string) => JSON.stringify(s); // a JSON string literal is a valid Lua string literal for ASCII

function script(requests: WrkRequest[]): string {
  const rows = requests.map((r) => {
    const headers = Object.entries(r.headers ?? {}).map(([k, v]) => `[${lua(k)}]=${lua(v)}`).join(',');
    return `{${lua(r.method)},${lua(r.path)},{${headers}},${r.body === undefined ? 'nil' : lua(r.body)}}`;
  });
  return `local raw = {\n${rows.join(',\n')}\n}
local threads = {}
local n = #raw
function setup(thread) table.insert(threads, thread) end
function init(args)
  counts = {}
  formatted = {}
  for k, r in ipairs(raw) do formatted[k] = wrk.format(r[1], r[2], r[3], r[4]) end
  math.randomseed(os.time() + #threads * 7919 + math.floor(os.clock() * 1e6))
  i = math.random(n) - 1
end
function request()
  i = i % n + 1
  return formatted[i]
end
function response(status)
  counts[status] = (counts[status] or 0) + 1
end
function done(summary, latency, requests)
  local agg = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do agg[k] = (agg[k] or 0) + v end
  end
  io.write("STATUSES")
  for k, v in pairs(agg) do io.write(string.format(" %d=%d", k, v)) end
  io.write("\\n")
  io.write(string.format("LATENCY %d %d %d %d\\n", latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  local e = summary.errors
  io.write(string.format("SUMMARY %d %d %d %d %d %d\\n", summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout))
end
`;
}

/** One wrk run against 127.0.0.1:port, cycling through `requests`. */
export async function runWrk(o: { port: number; requests: WrkRequest[]; connections: number; threads: number; seconds: number }): Promise<WrkResult> {
  const file = join(tmpdir(), `boxoffice-wrk-${process.pid}-${Date.now()}.lua`);
  writeFileSync(file, script(o.requests));
  const { stdout } = await promisify(execFile)(
    'wrk',
    ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.seconds}s`, '--timeout', '10s', '-s', file, `http://127.0.0.1:${o.port}`],
    { maxBuffer: 1 << 22 },
  );
  const line = (tag: string) => stdout.split('\n').find((l) => l.startsWith(tag))?.slice(tag.length).trim().split(/\s+/) ?? [];
  const statuses: Record<string, number> = {};
  for (const kv of line('STATUSES')) {
    const [k, v] = kv.split('=');
    if (k) statuses[k] = Number(v);
  }
  const [p50, p90, p99, max] = line('LATENCY').map((us) => Math.round(Number(us) / 10) / 100);
  const [requests, durationUs, connect, read, write, timeout] = line('SUMMARY').map(Number);
  const seconds = durationUs! / 1e6;
  return {
    requests: requests!,
    seconds,
    rps: requests! / seconds,
    statuses,
    latencyMs: { p50: p50!, p90: p90!, p99: p99!, max: max! },
    socketErrors: { connect: connect!, read: read!, write: write!, timeout: timeout! },
  };
}
