import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { rawHeader } from './node';

export type RequestIdEnv = { Variables: { requestId: string } };

// The same ids hono/request-id keeps: short and plain, safe in logs and headers.
const SAFE_ID = /^[\w\-=]{1,255}$/;

/** The caller's X-Request-Id, or a new one; echoed on the response and carried in logs. */
export function requestId(): MiddlewareHandler<RequestIdEnv> {
  return async (c, next) => {
    const given = rawHeader(c, 'x-request-id');
    const id = given !== undefined && SAFE_ID.test(given) ? given : randomUUID();
    c.set('requestId', id);
    c.header('X-Request-Id', id);
    await next();
  };
}
