import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Authenticator } from '../auth/authenticator';
import type { Principal, Role } from '../auth/principal';
import { Errors } from '../shared/errors';

export type { Principal };
export type AuthEnv = { Variables: { principal: Principal } };
export type AuthMiddleware = MiddlewareHandler<AuthEnv>;

/** Built once by the app and handed to every route factory that needs a signed-in caller. */
export const requireAuth = (auth: Authenticator): AuthMiddleware =>
  createMiddleware<AuthEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw Errors.unauthenticated();
    c.set('principal', await auth.verify(m[1]!));
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
