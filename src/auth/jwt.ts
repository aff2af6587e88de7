import { sign, verify } from 'hono/jwt';
import { Errors } from '../shared/errors';

export type Principal = { id: string; role: 'admin' | 'user' };

/** HS256 only: a token that names another algorithm (or none) is refused. */
export async function verifyAccessToken(secret: string, token: string): Promise<Principal> {
  let claims: Record<string, unknown>;
  try {
    claims = await verify(token, secret, 'HS256');
  } catch {
    throw Errors.unauthenticated('invalid or expired token');
  }
  const { sub, exp, role } = claims;
  if (typeof sub !== 'string' || sub.length < 1 || sub.length > 128) {
    throw Errors.unauthenticated('token subject must be a string of 1 to 128 characters');
  }
  if (typeof exp !== 'number') throw Errors.unauthenticated('token must carry exp');
  return { id: sub, role: role === 'admin' ? 'admin' : 'user' };
}

export function signAccessToken(
  secret: string,
  p: { sub: string; admin?: boolean; ttlSeconds?: number },
): Promise<string> {
  return sign(
    {
      sub: p.sub,
      ...(p.admin ? { role: 'admin' } : {}),
      exp: Math.floor(Date.now() / 1000) + (p.ttlSeconds ?? 3600),
    },
    secret,
    'HS256',
  );
}
