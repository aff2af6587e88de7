import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { nodeIncoming } from './node';

/**
 * An answer sent before the request body was all received (413 for a body over the
 * limit, 401 or 404 before the body is read, a chunked upload still coming) must not
 * leave a keep-alive connection the client cannot use: the adapter would drain what is
 * left for up to 500 ms and then drop the socket under the client's next request. When
 * the body is complete (read, or small and already buffered) the adapter's drain ends at
 * once and the connection is kept; otherwise the answer says `Connection: close`, so the
 * client opens a new one instead of writing into a socket about to go.
 */
export function connectionHygiene(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const incoming = nodeIncoming(c);
    if (!incoming || incoming.method === 'GET' || incoming.method === 'HEAD' || bodyReceived(incoming)) return;
    c.res.headers.set('Connection', 'close');
  };
}

/**
 * Whether every byte of the body is in: read to the end, or all of a declared length
 * sitting unread in the stream's buffer (Node sets `complete` a tick after parsing it).
 */
function bodyReceived(incoming: IncomingMessage): boolean {
  if (incoming.complete || incoming.readableEnded) return true;
  const length = incoming.headers['content-length'];
  return length !== undefined && !incoming.readableDidRead && incoming.readableLength >= Number(length);
}
