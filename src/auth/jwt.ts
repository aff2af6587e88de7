import { createSigner, createVerifier } from 'fast-jwt';
import { Errors } from '../shared/errors';
import type { Role } from './principal';

export type Claims = Record<string, unknown>;

/**
 * HS256 only: a token that names another algorithm (or none) is refused. fast-jwt verifies
 * with node:crypto synchronously (about 6 µs), where a WebCrypto-based verifier imports the
 * key on every call and was the largest single cost of a hold in the profile.
 */
export function hs256Verifier(secret: string): (token: string) => Claims {
  const verify = createVerifier({ key: secret, algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] });
  return (token) => {
    try {
      return verify(token) as Claims;
    } catch {
      throw Errors.unauthenticated('invalid or expired token');
    }
  };
}

/** Development tools and tests; production tokens come from the identity provider. */
export async function signAccessToken(
  secret: string,
  p: { sub: string; admin?: boolean; role?: Exclude<Role, 'user'>; ttlSeconds?: number },
): Promise<string> {
  const sign = createSigner({ key: secret, algorithm: 'HS256', expiresIn: (p.ttlSeconds ?? 3600) * 1000 });
  const role = p.role ?? (p.admin ? 'admin' : undefined);
  return sign({ sub: p.sub, ...(role ? { role } : {}) });
}
