import { Errors } from '../shared/errors';

export type Role = 'admin' | 'scanner' | 'user';
export type Principal = {
  id: string;
  role: Role;
  /** The token's `email` claim when it is a plausible address (where the tickets are mailed). */
  email?: string;
};

// In a /u pattern a paired surrogate is one code point: only lone halves match \p{Cs}.
const LONE_SURROGATE = /\p{Cs}/u;
const ROLES: Record<string, Role> = { admin: 'admin', scanner: 'scanner' };

/**
 * The one place a verified token's claims become a Principal, whichever algorithm signed it.
 * The signature and `exp` in the past are checked by the verifier before this.
 */
export function principalFromClaims(claims: Record<string, unknown>, nowS: number, maxTtlSeconds: number): Principal {
  const { exp, sub, role, email } = claims;
  // A fractional exp (milliseconds divided wrongly, 1e300) would outlive every key rotation.
  if (typeof exp !== 'number' || !Number.isSafeInteger(exp)) throw Errors.unauthenticated('token exp must be an integer');
  if (exp - nowS > maxTtlSeconds) throw Errors.unauthenticated(`token lifetime exceeds ${maxTtlSeconds} s`);
  const principal: Principal = { id: subjectOf(sub), role: (typeof role === 'string' && ROLES[role]) || 'user' };
  const address = claims.email_verified === false ? null : addressOf(email);
  if (address) principal.email = address;
  return principal;
}

// One local part and a dotted domain, nothing a mail header could break on (no spaces,
// brackets, commas, quotes, control or format characters): an address the mailer can use as it is.
const PLAUSIBLE_ADDRESS = /^[^\s@<>()[\]\\,;:"\p{Cc}\p{Cf}]+@[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)+$/u;

/**
 * The standard `email` claim is optional and only a convenience (the confirmation mail's
 * recipient): one that is not a plausible address, longer than SMTP allows (254), or that
 * the provider says it did not verify is ignored, never a reason to refuse the token.
 */
function addressOf(email: unknown): string | null {
  if (typeof email !== 'string' || email.length > 254 || LONE_SURROGATE.test(email)) return null;
  const address = email.normalize('NFC');
  return address.length <= 254 && PLAUSIBLE_ADDRESS.test(address) ? address : null;
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
