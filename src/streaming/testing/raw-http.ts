import { connect, type AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

export type RawResponse = {
  status: number;
  headers: Record<string, string>;
  /** The HTTP/1.1 chunks as the server framed them (the terminating empty chunk excluded). */
  chunks: Buffer[];
  /** The terminating chunk arrived: the server ended the body normally. */
  complete: boolean;
};

/**
 * A GET over a bare socket that keeps the server's chunked-transfer framing, which fetch and
 * http.get hide: tests use it to see how many writes the server made and of what size.
 */
export function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    socket.on('data', (d) => parts.push(d));
    socket.on('error', () => {}); // a reset is an answer too: it shows up as complete=false
    socket.on('close', () => {
      try {
        resolve(parseChunked(Buffer.concat(parts)));
      } catch (err) {
        reject(err);
      }
    });
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`);
  });
}

function parseChunked(raw: Buffer): RawResponse {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) throw new Error(`no HTTP head in ${raw.length} bytes`);
  const [statusLine, ...lines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  const status = Number(statusLine!.split(' ')[1]);
  const chunks: Buffer[] = [];
  if (headers['transfer-encoding'] !== 'chunked') {
    return { status, headers, chunks: [raw.subarray(headEnd + 4)], complete: true };
  }
  let pos = headEnd + 4;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', pos);
    if (lineEnd < 0) return { status, headers, chunks, complete: false };
    const size = parseInt(raw.subarray(pos, lineEnd).toString('latin1'), 16);
    if (size === 0) return { status, headers, chunks, complete: true };
    const start = lineEnd + 2;
    if (start + size + 2 > raw.length) return { status, headers, chunks, complete: false };
    chunks.push(raw.subarray(start, start + size));
    pos = start + size + 2;
  }
}

/** Serves a fetch handler on a free loopback port through @hono/node-server, as production does. */
export async function listen(fetch: (req: Request) => Response | Promise<Response>): Promise<{ port: number; close(): Promise<void> }> {
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' });
  if (!server.listening) await new Promise((r) => server.once('listening', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
