import type { Context, MiddlewareHandler } from 'hono';
import { rateLimiter } from 'hono-rate-limiter';
import { AppError } from '../shared/errors';

/** The verified subject of the request's token, or null when it has none that verifies. */
export type Identify = (c: Context) => Promise<string | null>;

/** The peer address of the TCP connection; a client-set header (X-Forwarded-For) would let anyone pick a fresh key. */
function clientAddress(c: Context): string {
  return (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/**
 * Per-caller request rate limit on writes, kept in process memory (no Redis round trip on
 * the hot path), so with N API processes a caller gets up to N times the limit. The key is
 * the verified token subject (so re-spelling the Authorization header, or minting many
 * tokens for one user, changes nothing) or, for a request without a valid token, the client
 * address. Generous by default: one buyer's normal burst is never refused.
 */
export function writeRateLimit(opts: { windowMs: number; limit: number }, identify: Identify): MiddlewareHandler {
  if (opts.limit <= 0) return (_c, next) => next();
  const limiter = rateLimiter({
    windowMs: opts.windowMs,
    limit: opts.limit,
    standardHeaders: 'draft-6',
    keyGenerator: async (c) => {
      const sub = await identify(c);
      return sub !== null ? `u:${sub}` : `a:${clientAddress(c)}`;
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
