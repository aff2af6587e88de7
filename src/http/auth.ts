import type { Context, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Authenticator } from '../auth/authenticator';
import type { Principal, Role } from '../auth/principal';
import { Errors } from '../shared/errors';

export type { Principal };
type Verified = { principal: Principal } | { error: unknown };
export type AuthEnv = { Variables: { principal: Principal; verified?: Promise<Verified> } };
export type AuthMiddleware = MiddlewareHandler<AuthEnv>;

/** `Bearer <token>` in any case, with any run of spaces or tabs; anything else is no token. */
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The request's bearer token, verified at most once per request: the rate limit (keyed on
 * the verified subject) and the route's auth share the result, so however the header is
 * spelled both see the same caller.
 */
export function verifiedPrincipal(c: Context, auth: Authenticator): Promise<Verified> {
  let v = c.get('verified') as Promise<Verified> | undefined;
  if (!v) {
    const header = c.req.header('authorization');
    const token = header ? BEARER.exec(header)?.[1] : undefined;
    v = token
      ? auth.verify(token).then((principal) => ({ principal }), (error: unknown) => ({ error }))
      : Promise.resolve({ error: Errors.unauthenticated() });
    c.set('verified', v);
  }
  return v;
}

/**
 * Built once by the app and handed to every route factory that needs a signed-in caller.
 * A `scanner` token (door staff) is refused everywhere except where `scanner: true` lets it in
 * (check-in): a scanner may check tickets in and do nothing else.
 */
export const requireAuth = (auth: Authenticator, opts: { scanner?: boolean } = {}): AuthMiddleware =>
  createMiddleware<AuthEnv>(async (c, next) => {
    const v = await verifiedPrincipal(c, auth);
    if ('error' in v) throw v.error;
    if (v.principal.role === 'scanner' && !opts.scanner) throw Errors.forbidden('a scanner token may only check tickets in');
    c.set('principal', v.principal);
    await next();
  });

/** Role routes check the role before looking at the body (api.md precedence). */
export const requireRole = (...roles: Exclude<Role, 'user'>[]) =>
  createMiddleware<AuthEnv>(async (c, next) => {
    const { role } = c.get('principal');
    if (!(roles as Role[]).includes(role)) throw Errors.forbidden(`${roles.join(' or ')} role required`);
    await next();
  });

export const requireAdmin = requireRole('admin');
