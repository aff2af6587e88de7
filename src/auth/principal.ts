import { Errors } from '../shared/errors';

export type Role = 'admin' | 'scanner' | 'user';
export type Principal = { id: string; role: Role };

// In a /u pattern a paired surrogate is one code point: only lone halves match \p{Cs}.
const LONE_SURROGATE = /\p{Cs}/u;
const ROLES: Record<string, Role> = { admin: 'admin', scanner: 'scanner' };

/**
 * The one place a verified token's claims become a Principal, whichever algorithm signed it.
 * The signature and `exp` in the past are checked by the verifier before this.
 */
export function principalFromClaims(claims: Record<string, unknown>, nowS: number, maxTtlSeconds: number): Principal {
  const { exp, sub, role } = claims;
  // A fractional exp (milliseconds divided wrongly, 1e300) would outlive every key rotation.
  if (typeof exp !== 'number' || !Number.isSafeInteger(exp)) throw Errors.unauthenticated('token exp must be an integer');
  if (exp - nowS > maxTtlSeconds) throw Errors.unauthenticated(`token lifetime exceeds ${maxTtlSeconds} s`);
  return { id: subjectOf(sub), role: (typeof role === 'string' && ROLES[role]) || 'user' };
}

/**
 * A user id is stored by PostgreSQL and Redis, which would fold distinct ill-formed strings
 * (lone surrogates) into one user: refuse those, and compare the rest in NFC so one person
 * typed two ways is one user. Control characters are refused: PostgreSQL text cannot hold
 * NUL, and Redis fields join on it.
 */
function subjectOf(sub: unknown): string {
  if (typeof sub !== 'string' || LONE_SURROGATE.test(sub)) throw Errors.unauthenticated('token subject must be well-formed Unicode');
  const id = sub.normalize('NFC');
  if (id.length < 1 || id.length > 128 || /[\u0000-\u001f\u007f]/.test(id)) {
    throw Errors.unauthenticated('token subject must be 1 to 128 printable characters');
  }
  return id;
}
