import { decodeProtectedHeader } from 'jose';
import type { Config } from '../config/config';
import { Errors } from '../shared/errors';
import { jwksVerifier } from './jwks';
import { hs256Verifier, type Claims } from './jwt';
import { principalFromClaims, type Principal } from './principal';

export type Authenticator = { verify(token: string): Promise<Principal> };

/**
 * Bearer tokens in, a Principal out. The header's `alg` picks the verifier: HS256 against
 * JWT_SECRET (development, tests), RS256/ES256 against the provider's JWKS. Each verifier
 * pins its own algorithms, so a token cannot choose a weaker path than the one configured.
 */
export function createAuthenticator(auth: Config['auth'], now: () => number = Date.now): Authenticator {
  const hs = auth.hs256Secret ? hs256Verifier(auth.hs256Secret) : undefined;
  const provider = auth.jwks ? jwksVerifier(auth.jwks) : undefined;
  return {
    async verify(token) {
      let alg: unknown;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        throw Errors.unauthenticated('invalid or expired token');
      }
      let claims: Claims;
      if (alg === 'HS256' && hs) claims = hs(token);
      else if ((alg === 'RS256' || alg === 'ES256') && provider) claims = await provider(token);
      else throw Errors.unauthenticated('invalid or expired token');
      return principalFromClaims(claims, Math.floor(now() / 1000), auth.maxTtlSeconds);
    },
  };
}
