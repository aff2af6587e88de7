import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import { AppError } from '../shared/errors';

export type ErrorBody = {
  error: { code: string; message: string; details?: Record<string, unknown> };
};

/** Connection-level failures of PostgreSQL or Redis: the client did nothing wrong, retry. */
function isBackendUnavailable(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string };
  if (!e || typeof e !== 'object') return false;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'CONNECTION_CLOSED', 'CONNECTION_ENDED',
    'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', '57014', '57P01', '53300'].includes(e.code ?? '')) return true;
  if (e.name === 'MaxRetriesPerRequestError' || e.name === 'ClusterAllFailedError') return true;
  // Redis Cluster mid-failover: no master for the slot yet, or the slot map still moving.
  return /Connection is closed|Command timed out|Stream isn't writeable|^CLUSTERDOWN|^TRYAGAIN|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available|should belong to the same slots allocation group/.test(e.message ?? '');
}

/** PostgreSQL's class 22 (data exception): invalid text encoding, a date out of range, ... */
function isDataException(err: unknown): boolean {
  const e = err as { name?: string; code?: unknown };
  return !!e && typeof e === 'object' && e.name === 'PostgresError' && typeof e.code === 'string' && e.code.startsWith('22');
}

/** Codes for hono's own HTTPExceptions (body limit, content type, timeout); others map to INVALID_REQUEST or INTERNAL. */
export const HTTP_EXCEPTION_CODES: Readonly<Record<number, string>> = {
  401: 'UNAUTHENTICATED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export type ErrorAnswer = { status: number; body: ErrorBody; headers: Record<string, string> };

/**
 * Renders an error answer as HTML for requests that want a page (the web frontend); the
 * status, code and headers stay those of the JSON answer.
 */
export type HtmlErrorRenderer = {
  wants(c: Context): boolean;
  render(c: Context, answer: ErrorAnswer): Response | Promise<Response>;
};

/** The one place where errors become responses; clients never see a stack trace. */
export function errorBoundary(logger: Logger, html?: HtmlErrorRenderer) {
  return (err: unknown, c: Context): Response | Promise<Response> => {
    const answer = toErrorAnswer(err, c, logger);
    if (html?.wants(c)) return html.render(c, answer);
    return c.json(answer.body, answer.status as 400, answer.headers);
  };
}

/** JSON only: for callers outside the app's own boundary. */
export function toErrorResponse(err: unknown, c: Context, logger: Logger): Response {
  const answer = toErrorAnswer(err, c, logger);
  return c.json(answer.body, answer.status as 400, answer.headers);
}

function toErrorAnswer(err: unknown, c: Context, logger: Logger): ErrorAnswer {
  let status: number;
  let body: ErrorBody;
  let headers: Record<string, string> = {};
  if (err instanceof AppError) {
    status = err.status;
    body = { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
    headers = err.headers ?? {};
  } else if (err instanceof HTTPException) {
    status = err.status;
    const code = HTTP_EXCEPTION_CODES[status] ?? (status < 500 ? 'INVALID_REQUEST' : 'INTERNAL');
    const safe = status < 500 || status === 503;
    body = { error: { code, message: safe ? err.message || 'bad request' : 'internal error' } };
    if (status === 503) headers = { 'Retry-After': '1' };
  } else if (isDataException(err)) {
    // Input the edge let through but PostgreSQL cannot store (a value out of range, an
    // encoding it refuses): still the client's input, so 400, never 500.
    logger.warn({ err, path: c.req.path }, 'data exception from PostgreSQL');
    status = 400;
    body = { error: { code: 'INVALID_REQUEST', message: 'a value in the request cannot be stored' } };
  } else if (isBackendUnavailable(err)) {
    logger.warn({ err, path: c.req.path, requestId: c.get('requestId') }, 'backend unavailable');
    status = 503;
    body = { error: { code: 'UNAVAILABLE', message: 'a backing service is unavailable, retry shortly' } };
    headers = { 'Retry-After': '2' };
  } else {
    logger.error({ err, method: c.req.method, path: c.req.path, requestId: c.get('requestId') }, 'unhandled error');
    status = 500;
    body = { error: { code: 'INTERNAL', message: 'internal error' } };
  }
  return { status, body, headers };
}
