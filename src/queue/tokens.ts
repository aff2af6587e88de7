import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { BoxEvent } from '../events/model';
import { AppError, Errors } from '../shared/errors';

/**
 * Waiting-room tickets and queue passes: HMAC-SHA256 over (kind, event, user, expiry, data),
 * signed with QUEUE_SECRET, which differs from JWT_SECRET, and shaped unlike a JWT, so a
 * pass is never an access token and an access token is never a pass. Verified in process,
 * without a Redis round trip. Each token names its key, so QUEUE_SECRET can rotate: the
 * earlier secret stays in QUEUE_SECRET_PREVIOUS until the tokens it signed have lapsed.
 */
export type AdmittedView = { status: 'admitted'; pass: string; expiresAt: string };

export type QueueTokenKind = 'ticket' | 'pass';
/**
 * k kind, e event, u user, x expiry (ms), i id of the signing key, a admission time (ms,
 * passes: which admission the pass stands for, so an ended one is told from a later one).
 */
export type QueueTokenClaims = { k: QueueTokenKind; e: string; u: string; x: number; n?: number; i?: string; a?: number };

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function mac(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

/** A key's id: derived from the secret, so rotating QUEUE_SECRET needs no id to be configured. */
export const keyId = (secret: string): string => b64(createHash('sha256').update(`boxoffice-queue-key:${secret}`).digest()).slice(0, 8);

/** Signs with `secret`; the token names the key (claim `i`) so verifiers pick it among several. */
export function signQueueToken(secret: string, claims: QueueTokenClaims): string {
  const body = b64(JSON.stringify({ ...claims, i: keyId(secret) }));
  return `bq1.${body}.${b64(mac(secret, body))}`;
}

/**
 * Returns the claims when the token is well-formed, authentic under one of `secrets` (the
 * current one first, then earlier ones still accepted), of this kind and unexpired.
 */
export function verifyQueueToken(
  secrets: string | readonly string[],
  kind: QueueTokenKind,
  token: string | undefined | null,
  now = Date.now(),
): QueueTokenClaims | null {
  if (!token || token.length > 1024) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'bq1') return null;
  const [, body, sig] = parts as [string, string, string];
  let claims: QueueTokenClaims;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!claims || typeof claims !== 'object') return null;
  // The key id only picks the key; nothing in the body counts until the signature holds.
  const keys = typeof secrets === 'string' ? [secrets] : secrets;
  const secret = typeof claims.i === 'string' ? keys.find((k) => keyId(k) === claims.i) : undefined;
  if (!secret) return null;
  // Compared as canonical text: base64url decoding ignores a final character's spare bits,
  // so comparing decoded bytes would accept more than one spelling of a signature.
  const expected = Buffer.from(b64(mac(secret, body)));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  if (claims.k !== kind || typeof claims.x !== 'number' || claims.x <= now) return null;
  return claims;
}

const TOKEN_SHAPE = /^bq1\.[A-Za-z0-9_-]{1,900}\.[A-Za-z0-9_-]{43}$/;

/** Tickets and passes of every waiting room; no Redis here. */
export class QueueTokens {
  private readonly keys: string[];

  /** Signs with `secret`; verifies with it and with `previous` (rotation). */
  constructor(private readonly secret: string, previous: readonly string[] = []) {
    this.keys = [secret, ...previous.filter((p) => p !== secret)];
  }

  /**
   * The same (event, user) always gets the identical ticket string under one key: it names
   * no number (that is drawn at opening for the lobby) and expires when sales close.
   */
  ticket(event: BoxEvent, userId: string): string {
    return signQueueToken(this.secret, { k: 'ticket', e: event.id, u: userId, x: event.salesCloseAt.getTime() });
  }

  /** The pass is fixed by the admission time, so every process signs the identical string. */
  pass(event: BoxEvent, userId: string, admittedAt: number): AdmittedView {
    const x = admittedAt + event.queue.passSeconds * 1000;
    return {
      status: 'admitted',
      pass: signQueueToken(this.secret, { k: 'pass', e: event.id, u: userId, x, a: admittedAt }),
      expiresAt: new Date(x).toISOString(),
    };
  }

  /** The ticket's user; 400 when it is not a ticket at all, 403 when forged, expired or another event's. */
  readTicket(eventId: string, ticket: string): string {
    if (!TOKEN_SHAPE.test(ticket)) throw Errors.invalid('malformed ticket', { field: 'ticket' });
    const claims = verifyQueueToken(this.keys, 'ticket', ticket);
    if (!claims || claims.e !== eventId || typeof claims.u !== 'string') {
      throw new AppError(403, 'FORBIDDEN', 'invalid or expired ticket for this event');
    }
    return claims.u;
  }

  /**
   * The admission time the pass stands for; throws unless `pass` admits this user to this
   * event (checked in process, no Redis).
   */
  checkPass(event: BoxEvent, userId: string, pass: string | undefined): number {
    const claims = verifyQueueToken(this.keys, 'pass', pass);
    if (!claims || claims.e !== event.id || claims.u !== userId) throw Errors.queuePassRequired();
    return typeof claims.a === 'number' ? claims.a : claims.x - event.queue.passSeconds * 1000;
  }
}
