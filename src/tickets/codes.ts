import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Ticket codes: `BT1.<ticket id>.<event id>.<Ed25519 signature, base64url>`. A scanner holding
 * only the public key (published at /.well-known/ticket-keys.json) tells a forged or
 * another event's code from a real one without a database read. Ed25519 signatures are
 * deterministic, so a ticket's code is derived again on every read and never stored.
 */
const PREFIX = 'BT1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// PKCS#8 wrapper of a raw 32-byte Ed25519 seed (RFC 8410).
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export type TicketKeys = { privateKey: KeyObject; publicKey: KeyObject; kid: string };

/** From a PEM private key, or a base64/base64url 32-byte seed. */
export function loadTicketKeys(material: string): TicketKeys {
  const privateKey = material.includes('-----BEGIN')
    ? createPrivateKey(material)
    : createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed(material)]), format: 'der', type: 'pkcs8' });
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('TICKET_SIGNING_KEY must be an Ed25519 key');
  const publicKey = createPublicKey(privateKey);
  const kid = createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('base64url').slice(0, 16);
  return { privateKey, publicKey, kid };
}

function seed(s: string): Buffer {
  const b = Buffer.from(s, 'base64url');
  if (b.length !== 32) throw new Error('TICKET_SIGNING_KEY: expected an Ed25519 PEM or a base64 32-byte seed');
  return b;
}

export function ticketCode(keys: TicketKeys, ticketId: string, eventId: string): string {
  const body = `${PREFIX}.${ticketId}.${eventId}`;
  return `${body}.${sign(null, Buffer.from(body), keys.privateKey).toString('base64url')}`;
}

/** The ticket and event a code names, or null for anything not signed by this key. */
export function verifyTicketCode(publicKey: KeyObject, code: string): { ticketId: string; eventId: string } | null {
  if (typeof code !== 'string' || code.length > 256) return null;
  const parts = code.split('.');
  if (parts.length !== 4 || parts[0] !== PREFIX || !UUID.test(parts[1]!) || !UUID.test(parts[2]!)) return null;
  const sig = Buffer.from(parts[3]!, 'base64url');
  if (sig.length !== 64) return null;
  const ok = verify(null, Buffer.from(parts.slice(0, 3).join('.')), publicKey, sig);
  return ok ? { ticketId: parts[1]!, eventId: parts[2]! } : null;
}

/** The public key as a JWK set, for scanners. */
export function publicJwks(keys: TicketKeys) {
  const jwk = keys.publicKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: keys.kid, alg: 'EdDSA', use: 'sig' }] };
}
