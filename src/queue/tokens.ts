import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Waiting-room tickets and queue passes: HMAC-SHA256 over (kind, event, user, expiry, data),
 * signed with QUEUE_SECRET, which differs from JWT_SECRET, and shaped unlike a JWT, so a
 * pass is never an access token and an access token is never a pass. Verified in process,
 * without a Redis round trip.
 */
export type QueueTokenKind = 'ticket' | 'pass';
export type QueueTokenClaims = { k: QueueTokenKind; e: string; u: string; x: number; n?: number };

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function mac(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

export function signQueueToken(secret: string, claims: QueueTokenClaims): string {
  const body = b64(JSON.stringify(claims));
  return `bq1.${body}.${b64(mac(secret, body))}`;
}

/** Returns the claims when the token is well-formed, authentic, of this kind and unexpired. */
export function verifyQueueToken(
  secret: string,
  kind: QueueTokenKind,
  token: string | undefined | null,
  now = Date.now(),
): QueueTokenClaims | null {
  if (!token || token.length > 1024) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'bq1') return null;
  const [, body, sig] = parts as [string, string, string];
  const expected = mac(secret, body);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let claims: QueueTokenClaims;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (claims.k !== kind || typeof claims.x !== 'number' || claims.x <= now) return null;
  return claims;
}
