import type { MiddlewareHandler } from 'hono';
import { bodyLimit as streamingBodyLimit } from 'hono/body-limit';
import { AppError } from '../../shared/errors';
import { nodeIncoming, rawHeader } from './node';

/**
 * Refuses a body over the limit with 413. A declared Content-Length is trusted: Node's
 * parser never reads past it, so checking the number is enough and the body stream is
 * never started here (handlers read it straight from the socket). Only a body whose size
 * is unknown up front (chunked) is counted as it is read (hono's body limit); a request
 * on the wire with neither header has no body.
 */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => {
    throw new AppError(413, 'PAYLOAD_TOO_LARGE', `request body over ${maxBytes} bytes`);
  };
  const counting = streamingBodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return (c, next) => {
    const length = rawHeader(c, 'content-length');
    // No length: chunked on the wire, or a Web Request built in process (app.request()).
    if (length === undefined || rawHeader(c, 'transfer-encoding') !== undefined) {
      return nodeIncoming(c) && rawHeader(c, 'transfer-encoding') === undefined ? next() : counting(c, next);
    }
    if (Number(length) > maxBytes) tooLarge();
    return next();
  };
}
