import type { MiddlewareHandler } from 'hono';
import { Errors } from '../shared/errors';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Request bodies must be valid UTF-8. The Fetch API decodes a body with replacement
 * characters, so two different byte strings would parse to one value and bad bytes would
 * be stored as U+FFFD; here the decode is strict instead. It stays lazy: the body is read
 * only when a handler (or its validator) asks for it, so 401/403 still come first.
 */
export const strictUtf8Body: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
  let text: Promise<string> | undefined;
  Object.defineProperty(c.req.bodyCache, 'text', {
    configurable: true,
    enumerable: true,
    get: () =>
      (text ??= c.req.raw.arrayBuffer().then((buf) => {
        try {
          return decoder.decode(buf);
        } catch {
          throw Errors.invalid('request body is not valid UTF-8');
        }
      })),
    set: (v: Promise<string>) => {
      text = v;
    },
  });
  await next();
};
