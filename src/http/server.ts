import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener, RequestError } from '@hono/node-server';
import type { Logger } from 'pino';
import type { ErrorBody } from './error-boundary';

export type HttpServerOptions = {
  host: string;
  port: number;
  /** Bounds receiving a request (slow headers and bodies), never a streamed response. */
  requestTimeoutMs: number;
  /** Request line plus headers; over it Node's parser answers 431. */
  maxHeaderBytes: number;
  logger: Logger;
};

export type HttpServer = {
  server: Server;
  port: number;
  url: string;
  /**
   * Graceful stop: no new connections; idle keep-alive sockets closed at once; requests in
   * flight (and any that still arrive on an open connection) answered with
   * `Connection: close`; `drain` ends long-lived streams; resolves when the last socket is
   * gone, so the process can exit as soon as the last request is done.
   */
  close(drain?: () => Promise<void>): Promise<void>;
};

/**
 * Keep-alive outlives a typical load balancer's idle timeout (60 s) so the balancer, not us,
 * closes idle connections.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Slow headers (slowloris): bounded on their own, at most the whole request's bound (Node requires it). */
const HEADERS_TIMEOUT_MS = 20_000;

/** What Node's parser raised, as the contract's error (api.md v1.1 Errors). */
function parserAnswer(code: string | undefined): { status: number; code: string; message: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'HEADERS_TOO_LARGE', message: 'the request line and headers are over the limit' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'REQUEST_TIMEOUT', message: 'the request was not received in time' };
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { status: 400, code: 'INVALID_REQUEST', message: 'Content-Length together with Transfer-Encoding' };
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 400, code: 'INVALID_REQUEST', message: 'malformed request body framing' };
    default:
      return { status: 400, code: 'INVALID_REQUEST', message: 'malformed HTTP request' };
  }
}

/** A whole HTTP/1.1 answer written straight to a socket the parser gave up on; the socket closes after it. */
export function rawErrorResponse(status: number, code: string, message: string): string {
  const body = JSON.stringify({ error: { code, message } } satisfies ErrorBody);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/**
 * The node HTTP server of the API: the app's fetch handler, explicit timeouts and header
 * limits, parser errors in the contract's error shape, and a graceful stop.
 */
export function startHttpServer(fetch: Parameters<typeof getRequestListener>[0], o: HttpServerOptions): Promise<HttpServer> {
  const listener = getRequestListener(fetch, {
    hostname: o.host,
    // Requests the adapter itself refuses (a backslash in the path) or a crash that escaped
    // the app's error boundary: still the error shape.
    errorHandler: (err) => {
      if (err instanceof RequestError) return json(400, 'INVALID_REQUEST', err.message);
      o.logger.error({ err }, 'unhandled error outside the app');
      return json(500, 'INTERNAL', 'internal error');
    },
  });
  const server = createServer({
    maxHeaderSize: o.maxHeaderBytes,
    requestTimeout: o.requestTimeoutMs,
    headersTimeout: Math.min(HEADERS_TIMEOUT_MS, o.requestTimeoutMs),
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  });
  // Long-lived SSE streams: no socket inactivity (write) timeout, since a stream may be quiet
  // between pings; handlers other than the stream get their own timeout from middleware.
  server.timeout = 0;

  let closing = false;
  const active = new Set<ServerResponse>();
  const closeIdle = () => server.closeIdleConnections();
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    active.add(res);
    if (closing) res.setHeader('connection', 'close');
    res.once('close', () => {
      active.delete(res);
      // The socket it leaves behind is idle now: do not keep it for the next request.
      if (closing) setImmediate(closeIdle);
    });
  });
  server.on('request', listener);

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const inProgress = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent) {
      socket.destroy();
      return;
    }
    const a = parserAnswer(err.code);
    o.logger.debug({ code: err.code, status: a.status }, 'refused a request the HTTP parser could not read');
    socket.end(rawErrorResponse(a.status, a.code, a.message));
    // end() half-closes; a client that never closes its side must not keep the socket.
    socket.setTimeout(5_000, () => socket.destroy());
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        server,
        port,
        url: `http://${o.host}:${port}`,
        async close(drain) {
          closing = true;
          const closed = new Promise<void>((r) => server.close(() => r()));
          closeIdle();
          for (const res of active) if (!res.headersSent) res.setHeader('connection', 'close');
          await drain?.();
          closeIdle();
          await closed;
        },
      });
    });
  });
}

function json(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ error: { code, message } } satisfies ErrorBody), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}
