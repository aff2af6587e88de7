import { createHmac, timingSafeEqual } from 'node:crypto';
import type { BoxEvent } from '../events/model';
import { AppError, Errors } from '../shared/errors';

/**
 * Waiting-room tickets and queue passes: HMAC-SHA256 over (kind, event, user, expiry, data),
 * signed with QUEUE_SECRET, which differs from JWT_SECRET, and shaped unlike a JWT, so a
 * pass is never an access token and an access token is never a pass. Verified in process,
 * without a Redis round trip.
 */
export type AdmittedView = { status: 'admitted'; pass: string; expiresAt: string };

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
  // Compared as canonical text: base64url decoding ignores a final character's spare bits,
  // so comparing decoded bytes would accept more than one spelling of a signature.
  const expected = Buffer.from(b64(mac(secret, body)));
  const given = Buffer.from(sig);
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

const TOKEN_SHAPE = /^bq1\.[A-Za-z0-9_-]{1,900}\.[A-Za-z0-9_-]{43}$/;

/** Tickets and passes of every waiting room; no Redis here. */
export class QueueTokens {
  constructor(private readonly secret: string) {}

  /**
   * The same (event, user) always gets the identical ticket string: it names no number
   * (that is drawn at opening for the lobby) and expires when sales close.
   */
  ticket(event: BoxEvent, userId: string): string {
    return signQueueToken(this.secret, { k: 'ticket', e: event.id, u: userId, x: event.salesCloseAt.getTime() });
  }

  /** The pass is fixed by the admission time, so every process signs the identical string. */
  pass(event: BoxEvent, userId: string, admittedAt: number): AdmittedView {
    const x = admittedAt + event.queue.passSeconds * 1000;
    return {
      status: 'admitted',
      pass: signQueueToken(this.secret, { k: 'pass', e: event.id, u: userId, x }),
      expiresAt: new Date(x).toISOString(),
    };
  }

  /** The ticket's user; 400 when it is not a ticket at all, 403 when forged, expired or another event's. */
  readTicket(eventId: string, ticket: string): string {
    if (!TOKEN_SHAPE.test(ticket)) throw Errors.invalid('malformed ticket', { field: 'ticket' });
    const claims = verifyQueueToken(this.secret, 'ticket', ticket);
    if (!claims || claims.e !== eventId || typeof claims.u !== 'string') {
      throw new AppError(403, 'FORBIDDEN', 'invalid or expired ticket for this event');
    }
    return claims.u;
  }

  /** Throws unless `pass` admits this user to this event (checked in process, no Redis). */
  checkPass(event: BoxEvent, userId: string, pass: string | undefined): void {
    const claims = verifyQueueToken(this.secret, 'pass', pass);
    if (!claims || claims.e !== event.id || claims.u !== userId) throw Errors.queuePassRequired();
  }
}
