import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { verifyAccessToken, type Principal } from '../auth/jwt';
import { Errors } from '../shared/errors';

export type AuthEnv = { Variables: { principal: Principal } };
export type AuthMiddleware = MiddlewareHandler<AuthEnv>;

/** Built once by the app and handed to every route factory that needs a signed-in caller. */
export const requireAuth = (secret: string): AuthMiddleware =>
  createMiddleware<AuthEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw Errors.unauthenticated();
    c.set('principal', await verifyAccessToken(secret, m[1]!));
    await next();
  });

/** Admin routes check the role before looking at the body (api.md precedence). */
export const requireAdmin = createMiddleware<AuthEnv>(async (c, next) => {
  if (c.get('principal').role !== 'admin') throw Errors.forbidden('admin role required');
  await next();
});
