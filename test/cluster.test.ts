import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './env';
import { freePort, rawRequest } from './process';

// src/cluster.ts as npm start runs it: API_PROCESSES copies of the API behind one port,
// pools cut to the connection budget, one SIGTERM stops them all.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const running: ChildProcess[] = [];
afterAll(() => {
  for (const c of running) if (c.exitCode === null) c.kill('SIGKILL');
});

function startCluster(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cluster.ts'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, output: () => out };
}

const childPids = (pid: number) =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
    .filter((p) => { try { return readFileSync(`/proc/${p}/environ`, 'utf8').includes('API_PROCESS_INDEX='); } catch { return false; } });
const envOf = (pid: number, name: string) =>
  readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((l) => l.startsWith(`${name}=`))?.slice(name.length + 1);

describe('API cluster', () => {
  it('runs API_PROCESSES processes on one port, each with its share of the connection budget, and stops them all on SIGTERM', async () => {
    const port = await freePort();
    const c = startCluster({ PORT: String(port), API_PROCESSES: '2', PG_POOL_MAX: '10', API_PG_CONNECTIONS: '6' });
    const deadline = Date.now() + 60_000;
    let pids: number[] = [];
    for (;;) {
      const r = await rawRequest(port, 'GET', '/healthz');
      pids = childPids(c.child.pid!);
      if ('status' in r && r.status === 200 && pids.length === 2) break;
      if (c.child.exitCode !== null || Date.now() > deadline) throw new Error(`cluster did not start:\n${c.output()}`);
      await sleep(200);
    }
    // Both listening (the second may come up a moment after the first).
    for (let i = 0; i < 50 && (c.output().match(/api listening/g) ?? []).length < 2; i++) await sleep(200);
    expect((c.output().match(/api listening/g) ?? []).length).toBe(2);
    expect(pids.map((p) => envOf(p, 'PG_POOL_MAX'))).toEqual(['3', '3']);
    for (let i = 0; i < 6; i++) {
      const r = await rawRequest(port, 'GET', '/healthz');
      expect('status' in r && r.status).toBe(200);
    }

    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    expect(c.output()).toContain('every API process stopped');
    for (const p of pids) expect(() => readFileSync(`/proc/${p}/stat`)).toThrow();
  }, 90_000);

  it('refuses a connection budget PostgreSQL cannot hold', async () => {
    const c = startCluster({ PORT: String(await freePort()), API_PROCESSES: '2', PG_POOL_MAX: '500', API_PG_CONNECTIONS: '5000' });
    expect(await c.exited).toBe(78);
    expect(c.output()).toContain('max_connections');
  }, 60_000);
});
