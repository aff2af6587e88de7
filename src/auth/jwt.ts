import { createSigner, createVerifier } from 'fast-jwt';
import { Errors } from '../shared/errors';

export type Principal = { id: string; role: 'admin' | 'user' };

type Verify = (token: string) => Record<string, unknown>;
const verifiers = new Map<string, Verify>();

/**
 * HS256 only: a token that names another algorithm (or none) is refused. fast-jwt verifies
 * with node:crypto synchronously (about 6 µs), where a WebCrypto-based verifier imports the
 * key on every call and was the largest single cost of a hold in the profile.
 */
function verifierFor(secret: string): Verify {
  let v = verifiers.get(secret);
  if (!v) {
    v = createVerifier({ key: secret, algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] });
    verifiers.set(secret, v);
  }
  return v;
}

export async function verifyAccessToken(secret: string, token: string): Promise<Principal> {
  let claims: Record<string, unknown>;
  try {
    claims = verifierFor(secret)(token);
  } catch {
    throw Errors.unauthenticated('invalid or expired token');
  }
  const { sub, role } = claims;
  // Control characters are refused: PostgreSQL text cannot hold NUL, and Redis fields join on it.
  if (typeof sub !== 'string' || sub.length < 1 || sub.length > 128 || /[\u0000-\u001f\u007f]/.test(sub)) {
    throw Errors.unauthenticated('token subject must be 1 to 128 printable characters');
  }
  return { id: sub, role: role === 'admin' ? 'admin' : 'user' };
}

export async function signAccessToken(
  secret: string,
  p: { sub: string; admin?: boolean; ttlSeconds?: number },
): Promise<string> {
  const sign = createSigner({ key: secret, algorithm: 'HS256', expiresIn: (p.ttlSeconds ?? 3600) * 1000 });
  return sign({ sub: p.sub, ...(p.admin ? { role: 'admin' } : {}) });
}
