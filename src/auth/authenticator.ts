import { decodeProtectedHeader } from 'jose';
import type { Config } from '../config/config';
import { Errors } from '../shared/errors';
import { jwksVerifier } from './jwks';
import { hs256Verifier, type Claims } from './jwt';
import { principalFromClaims, type Principal } from './principal';

export type Authenticator = { verify(token: string): Promise<Principal> };

/**
 * A buyer sends the same token with every poll, hold and confirm of an on-sale: a verified
 * token is remembered until its `exp` (at most CACHE_TTL_S), FIFO-bounded at CACHE_ENTRIES
 * (~300 bytes each). A provider token is remembered only while the key set it was checked
 * against is the current one: once the JWKS is fetched again (a rotation), it is checked
 * again, so a withdrawn key is refused exactly as without the cache. Only successes are
 * kept: a forged token is checked, and refused, every time.
 */
const CACHE_ENTRIES = 20_000;
const CACHE_TTL_S = 60;

/**
 * Bearer tokens in, a Principal out. The header's `alg` picks the verifier: HS256 against
 * JWT_SECRET (development, tests), RS256/ES256 against the provider's JWKS. Each verifier
 * pins its own algorithms, so a token cannot choose a weaker path than the one configured.
 */
export function createAuthenticator(auth: Config['auth'], now: () => number = Date.now): Authenticator {
  const hs = auth.hs256Secret ? hs256Verifier(auth.hs256Secret) : undefined;
  const provider = auth.jwks ? jwksVerifier(auth.jwks) : undefined;
  // keys: -1 for our own HS256 secret (it never rotates under a running process), else the JWKS generation.
  const cache = new Map<string, { principal: Principal; untilS: number; keys: number }>();

  /** `keys`: -1 when our secret verified it, 0 when the provider's key set did. */
  async function claimsOf(token: string): Promise<{ claims: Claims; keys: number }> {
    // With one verifier configured it decides alone (it refuses every other `alg` itself).
    if (hs && !provider) return { claims: hs(token), keys: -1 };
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw Errors.unauthenticated('invalid or expired token');
    }
    if (alg === 'HS256' && hs) return { claims: hs(token), keys: -1 };
    if ((alg === 'RS256' || alg === 'ES256') && provider) return { claims: await provider.verify(token), keys: 0 };
    throw Errors.unauthenticated('invalid or expired token');
  }

  return {
    async verify(token) {
      const nowS = Math.floor(now() / 1000);
      const hit = cache.get(token);
      if (hit && nowS < hit.untilS && (hit.keys === -1 || hit.keys === provider?.generation())) return hit.principal;
      if (hit) cache.delete(token);
      const { claims, keys } = await claimsOf(token);
      const principal = principalFromClaims(claims, nowS, auth.maxTtlSeconds);
      if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      // A verification that fetched the key set itself belongs to the set it fetched.
      cache.set(token, { principal, untilS: Math.min(claims.exp as number, nowS + CACHE_TTL_S), keys: keys === -1 ? -1 : provider!.generation() });
      return principal;
    },
  };
}
