import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../shared/errors';

/**
 * Every route answers within `ms`, except paths `exempt` says live on (the SSE stream).
 * A streamed body (an export) is past its handler already and is not cut. One timer and
 * one promise per request (no Promise.race, no finally chain).
 */
export function deadline(ms: number, exempt: (path: string) => boolean): MiddlewareHandler {
  return (c, next) => {
    if (exempt(c.req.path)) return next();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppError(503, 'UNAVAILABLE', 'request timed out', undefined, { 'Retry-After': '1' })), ms);
      next().then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (err) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  };
}
