import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { rateLimiter } from 'hono-rate-limiter';
import { AppError } from '../shared/errors';

/**
 * Per-caller request rate limit on writes, kept in process memory (no Redis round trip on
 * the hot path), so with N API processes a caller gets up to N times the limit. The key is
 * the bearer token (hashed) or, without one, the client address; a forged token gains
 * nothing, since it is refused with 401 right after. Generous by default: one buyer's
 * normal burst is never refused.
 */
export function writeRateLimit(opts: { windowMs: number; limit: number }): MiddlewareHandler {
  if (opts.limit <= 0) return (_c, next) => next();
  const limiter = rateLimiter({
    windowMs: opts.windowMs,
    limit: opts.limit,
    standardHeaders: 'draft-6',
    keyGenerator: (c) => {
      const auth = c.req.header('authorization');
      if (auth) return `t:${createHash('sha256').update(auth).digest('base64url')}`;
      return `a:${c.req.header('x-forwarded-for')?.split(',')[0]?.trim() ?? (c.env as { incoming?: { socket?: { remoteAddress?: string } } })?.incoming?.socket?.remoteAddress ?? 'unknown'}`;
    },
    handler: (c) => {
      const reset = Number(c.res.headers.get('RateLimit-Reset') ?? Math.ceil(opts.windowMs / 1000));
      throw new AppError(429, 'RATE_LIMITED', 'too many requests, slow down', { windowMs: opts.windowMs, limit: opts.limit }, {
        'Retry-After': String(Math.max(1, reset)),
      });
    },
  });
  return (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limiter(c, next));
}
