import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { nodeOutgoing, rawHeader } from './node';

export type RequestIdEnv = { Variables: { requestId: string } };

// The same ids hono/request-id keeps: short and plain, safe in logs and headers.
const SAFE_ID = /^[\w\-=]{1,255}$/;

/**
 * The caller's X-Request-Id, or a new one; echoed on the response and carried in logs.
 * On a Node server the header goes straight on the ServerResponse (Node merges it into
 * whatever the handler answers): setting it on the context instead would build a Web
 * `Headers` object for every response, the slow path of the adapter.
 */
export function requestId(): MiddlewareHandler<RequestIdEnv> {
  return (c, next) => {
    const given = rawHeader(c, 'x-request-id');
    const id = given !== undefined && SAFE_ID.test(given) ? given : randomUUID();
    c.set('requestId', id);
    const outgoing = nodeOutgoing(c);
    if (outgoing) outgoing.setHeader('X-Request-Id', id);
    else c.header('X-Request-Id', id);
    return next();
  };
}
