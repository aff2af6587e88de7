import { spawn, type ChildProcess } from 'node:child_process';
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

/** Starts src/<entry>.ts as a real child process, the way npm start does. */
export function spawnEntry(entry: 'api' | 'worker', env: Record<string, string>): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', `src/${entry}.ts`], {
    cwd: ROOT,
    // As in the harness: confirm is v1's unless a test is about payments.
    env: { ...process.env, PAYMENT_PROVIDER: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return Object.assign(child, { output: () => out });
}

export type RawResult = { status: number; body: any; headers?: IncomingHttpHeaders } | { error: string };

/**
 * One request, by default on its own connection (no keep-alive), so a refused connection is
 * visible as such; with `agent`, on that agent's (keep-alive) connections.
 */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; agent?: Agent } = {},
): Promise<RawResult> {
  return new Promise((resolve) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: opts.agent ?? false,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => {
          let body: any = data;
          try {
            body = JSON.parse(data);
          } catch {}
          resolve({ status: res.statusCode!, body, headers: res.headers });
        });
        res.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
      },
    );
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    if (payload) req.write(payload);
    req.end();
  });
}

export async function waitHealthy(port: number, child: { output: () => string }, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await rawRequest(port, 'GET', '/healthz');
    if ('status' in r && r.status === 200) return;
    await sleep(100);
  }
  throw new Error(`process did not become healthy:\n${child.output()}`);
}
