import type { Context, MiddlewareHandler } from 'hono';
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
 *
 * Fixed windows counted in one map that is replaced when the window turns: a write costs
 * one lookup, memory is bounded by one window's callers, and headers (Retry-After,
 * RateLimit-*) go only on the refusal.
 */
export function writeRateLimit(opts: { windowMs: number; limit: number }, identify: Identify): MiddlewareHandler {
  if (opts.limit <= 0) return (_c, next) => next();
  let windowStart = 0;
  let counts = new Map<string, number>();
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const sub = await identify(c);
    const key = sub !== null ? `u:${sub}` : `a:${clientAddress(c)}`;
    const now = Date.now();
    if (now - windowStart >= opts.windowMs) {
      windowStart = now - (now % opts.windowMs);
      counts = new Map();
    }
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (n <= opts.limit) return next();
    const reset = Math.max(1, Math.ceil((windowStart + opts.windowMs - now) / 1000));
    throw new AppError(429, 'RATE_LIMITED', 'too many requests, slow down', { windowMs: opts.windowMs, limit: opts.limit }, {
      'Retry-After': String(reset),
      'RateLimit-Limit': String(opts.limit),
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': String(reset),
    });
  };
}
