import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { Errors } from '../shared/errors';
import type { Claims } from './jwt';

/**
 * jose raises its generic JOSEError only while fetching the JWKS (a non-200 or non-JSON
 * answer); every fault of the token itself has its own subclass. Anything not from jose is
 * the fetch failing (refused connection, DNS).
 */
const providerFault = (err: unknown) =>
  !(err instanceof errors.JOSEError) ||
  err instanceof errors.JWKSTimeout ||
  err instanceof errors.JWKSInvalid ||
  err.code === errors.JOSEError.code;

export type JwksOptions = { url: string; issuer: string; audience: string; cooldownMs: number; cacheMaxAgeMs: number; timeoutMs: number };

/**
 * RS256/ES256 tokens of an identity provider. jose keeps the JWKS in memory, refetches it
 * when a token names an unknown `kid` (a rotation) at most once per cooldown, and after
 * cacheMaxAge. A provider that cannot be reached is a dependency outage (503), not a bad token.
 */
export function jwksVerifier(o: JwksOptions): (token: string) => Promise<Claims> {
  const keys = createRemoteJWKSet(new URL(o.url), {
    cooldownDuration: o.cooldownMs,
    cacheMaxAge: o.cacheMaxAgeMs,
    timeoutDuration: o.timeoutMs,
  });
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: o.issuer,
        audience: o.audience,
        algorithms: ['RS256', 'ES256'],
        requiredClaims: ['sub', 'exp'],
      });
      return payload as Claims;
    } catch (err) {
      if (providerFault(err)) {
        throw Errors.unavailable('identity provider keys unavailable', 2);
      }
      throw Errors.unauthenticated('invalid or expired token');
    }
  };
}
