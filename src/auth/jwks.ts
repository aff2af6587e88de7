import { createRemoteJWKSet, customFetch, errors, jwtVerify } from 'jose';
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
export type JwksVerifier = {
  verify(token: string): Promise<Claims>;
  /** Changes whenever the key set was fetched again: what it verified before may be withdrawn now. */
  generation(): number;
};

export function jwksVerifier(o: JwksOptions): JwksVerifier {
  let generation = 0;
  const keys = createRemoteJWKSet(new URL(o.url), {
    cooldownDuration: o.cooldownMs,
    cacheMaxAge: o.cacheMaxAgeMs,
    timeoutDuration: o.timeoutMs,
    [customFetch]: async (...args: Parameters<typeof fetch>) => {
      const res = await fetch(...args);
      generation++;
      return res;
    },
  });
  const verify = async (token: string): Promise<Claims> => {
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
  return { verify, generation: () => generation };
}
