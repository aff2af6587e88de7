import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, type Authenticator } from '../src/auth/authenticator';
import { signAccessToken } from '../src/auth/jwt';
import { loadConfig } from '../src/config/config';
import { startHarness, type Harness } from './harness';

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'boxoffice-api';
type Key = { kid: string; alg: 'RS256' | 'ES256'; privateKey: CryptoKey; jwk: JWK };

async function makeKey(alg: Key['alg']): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const kid = `${alg}-${randomUUID().slice(0, 8)}`;
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A stand-in identity provider: serves its JWKS over real HTTP and counts the fetches. */
class Idp {
  keys: Key[] = [];
  fetches = 0;
  down = false;
  private server!: Server;
  url = '';
  async start() {
    this.server = createServer((req, res) => {
      this.fetches++;
      if (this.down) return void res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }
  stop = () => new Promise<void>((r) => this.server.close(() => r()));
}

const nowS = () => Math.floor(Date.now() / 1000);
function token(key: Key, claims: Record<string, unknown> = {}, o: { iss?: string; aud?: string; exp?: number } = {}) {
  return new SignJWT({ sub: 'alice', ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(o.exp ?? nowS() + 600)
    .sign(key.privateKey);
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
function hs256(payload: object, secret: string) {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

const idp = new Idp();
let rsa: Key;
let ec: Key;
beforeAll(async () => {
  await idp.start();
  [rsa, ec] = await Promise.all([makeKey('RS256'), makeKey('ES256')]);
  idp.keys = [rsa, ec];
});
afterAll(() => idp.stop());

function authenticator(env: Record<string, string> = {}): Authenticator {
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_JWKS_URL: idp.url,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWT_JWKS_COOLDOWN_MS: '0',
    ...env,
  });
  return createAuthenticator(config.auth);
}

const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { status?: number }) => e.status ?? e);

describe('identity provider tokens (JWKS)', () => {
  it('accepts RS256 and ES256 tokens of the provider, with their role', async () => {
    const auth = authenticator();
    expect(await auth.verify(await token(rsa))).toEqual({ id: 'alice', role: 'user' });
    expect(await auth.verify(await token(ec, { role: 'scanner' }))).toEqual({ id: 'alice', role: 'scanner' });
    expect(await auth.verify(await token(rsa, { role: 'admin' }))).toEqual({ id: 'alice', role: 'admin' });
    expect(await auth.verify(await token(rsa, { role: 'root' }))).toEqual({ id: 'alice', role: 'user' });
  });

  it('refuses another issuer, another audience, an expired token and one that lives too long', async () => {
    const auth = authenticator();
    expect(await refusal(auth.verify(await token(rsa, {}, { iss: 'https://evil.test/' })))).toBe(401);
    expect(await refusal(auth.verify(await token(rsa, {}, { aud: 'another-app' })))).toBe(401);
    expect(await refusal(auth.verify(await token(ec, {}, { exp: nowS() - 120 })))).toBe(401);
    expect(await refusal(auth.verify(await token(rsa, {}, { exp: nowS() + 2 * 86_400 })))).toBe(401);
    const forged = await token(rsa);
    const [h, p] = forged.split('.');
    expect(await refusal(auth.verify(`${h}.${p}.${'A'.repeat(342)}`))).toBe(401);
  });

  it('caches the JWKS and refetches it when a token names a new kid (key rotation)', async () => {
    const auth = authenticator();
    const before = idp.fetches;
    // One token string throughout: verified once, then remembered in the cache.
    const old = await token(rsa);
    for (let i = 0; i < 5; i++) await auth.verify(old);
    expect(idp.fetches - before).toBe(1);
    // The provider rotates: a new key is published and the old one withdrawn.
    const next = await makeKey('RS256');
    idp.keys = [next, ec];
    expect(await auth.verify(await token(next, { sub: 'bob' }))).toEqual({ id: 'bob', role: 'user' });
    expect(idp.fetches - before).toBe(2);
    // The withdrawn key's kid is unknown now: refetched, still unknown, refused, the
    // remembered token too (the cache entry belongs to the key set before the rotation).
    expect(await refusal(auth.verify(old))).toBe(401);
    expect(await refusal(auth.verify(await token(rsa)))).toBe(401);
    idp.keys = [rsa, ec];
  });

  it('does not hammer the provider with unknown kids inside the cooldown', async () => {
    const auth = authenticator({ JWT_JWKS_COOLDOWN_MS: '60000' });
    await auth.verify(await token(rsa));
    const before = idp.fetches;
    for (let i = 0; i < 5; i++) expect(await refusal(auth.verify(await token(await makeKey('ES256'))))).toBe(401);
    expect(idp.fetches - before).toBe(0);
  });

  it('answers 503 while the provider cannot serve its keys, and recovers', async () => {
    const auth = authenticator();
    idp.down = true;
    try {
      expect(await refusal(auth.verify(await token(rsa)))).toBe(503);
    } finally {
      idp.down = false;
    }
    expect(await auth.verify(await token(rsa))).toEqual({ id: 'alice', role: 'user' });
    // Nothing listening at all: still the provider's outage, not the caller's token.
    const refused = authenticator({ JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json' });
    expect(await refusal(refused.verify(await token(rsa)))).toBe(503);
  });

  it('without a shared secret, refuses HS256 (no algorithm confusion with the public key)', async () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      QUEUE_SECRET: 'q'.repeat(32),
      PAYMENT_PROVIDER: 'none',
      TICKET_SIGNING_KEY: 't'.repeat(43),
      JWT_JWKS_URL: idp.url,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
    });
    expect(config.auth.hs256Secret).toBeUndefined();
    const auth = createAuthenticator(config.auth);
    const asSecret = JSON.stringify(rsa.jwk);
    expect(await refusal(auth.verify(hs256({ sub: 'mallory', exp: nowS() + 60, role: 'admin' }, asSecret)))).toBe(401);
    expect(await refusal(auth.verify(await signAccessToken(config.jwtSecret, { sub: 'mallory', admin: true })))).toBe(401);
    expect(await auth.verify(await token(rsa))).toEqual({ id: 'alice', role: 'user' });
  });

  it('needs the issuer and audience with a JWKS URL', () => {
    expect(() => loadConfig({ JWT_JWKS_URL: idp.url })).toThrow(/JWT_ISSUER and JWT_AUDIENCE/);
  });
});

describe('token lifetime and subject (every algorithm)', () => {
  const secret = 'hs256-test-secret-0123456789';
  const auth = () => createAuthenticator(loadConfig({ NODE_ENV: 'test', JWT_SECRET: secret }).auth);

  it('refuses a non-integer exp and one further ahead than JWT_MAX_TTL_SECONDS', async () => {
    const a = auth();
    expect(await refusal(a.verify(hs256({ sub: 'x', exp: 1e300 }, secret)))).toBe(401);
    expect(await refusal(a.verify(hs256({ sub: 'x', exp: nowS() + 60.5 }, secret)))).toBe(401);
    expect(await refusal(a.verify(hs256({ sub: 'x', exp: Date.now() + 60_000 }, secret)))).toBe(401); // milliseconds
    expect(await refusal(a.verify(hs256({ sub: 'x', exp: nowS() + 86_400 + 60 }, secret)))).toBe(401);
    expect(await a.verify(hs256({ sub: 'x', exp: nowS() + 86_400 - 60 }, secret))).toEqual({ id: 'x', role: 'user' });
    const short = createAuthenticator(loadConfig({ NODE_ENV: 'test', JWT_SECRET: secret, JWT_MAX_TTL_SECONDS: '600' }).auth);
    expect(await refusal(short.verify(hs256({ sub: 'x', exp: nowS() + 3600 }, secret)))).toBe(401);
  });

  it('remembers a verified token only until its exp, and never a refused one', async () => {
    const a = auth();
    const token = hs256({ sub: 'cached', exp: nowS() + 2 }, secret);
    expect(await a.verify(token)).toEqual({ id: 'cached', role: 'user' });
    expect(await a.verify(token)).toEqual({ id: 'cached', role: 'user' });
    const forged = `${token.slice(0, -4)}AAAA`;
    expect(await refusal(a.verify(forged))).toBe(401);
    expect(await refusal(a.verify(forged))).toBe(401);
    await new Promise((r) => setTimeout(r, 2_100));
    expect(await refusal(a.verify(token))).toBe(401);
  });

  it('refuses lone surrogates and compares subjects in NFC', async () => {
    const a = auth();
    const exp = nowS() + 60;
    expect(await refusal(a.verify(hs256({ sub: 'user\ud800', exp }, secret)))).toBe(401);
    expect(await refusal(a.verify(hs256({ sub: 'user\udbff', exp }, secret)))).toBe(401);
    expect(await refusal(a.verify(hs256({ sub: '\udc00user', exp }, secret)))).toBe(401);
    expect(await a.verify(hs256({ sub: 'fan \ud83c\udfab', exp }, secret))).toMatchObject({ id: 'fan \ud83c\udfab' });
    const composed = await a.verify(hs256({ sub: 'Zo\u00e9', exp }, secret));
    const decomposed = await a.verify(hs256({ sub: 'Zoe\u0301', exp }, secret));
    expect(decomposed.id).toBe(composed.id);
  });
});

describe('over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ JWT_JWKS_URL: idp.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_JWKS_COOLDOWN_MS: '0' });
  });
  afterAll(() => h.close());

  it('a provider token signs in; its admin role opens admin routes, scanner does not; HS256 still works', async () => {
    const me = await h.call('GET', '/v1/me/reservations', { token: await token(ec, { sub: `idp-${randomUUID()}` }) });
    expect(me.status).toBe(200);
    const ev = await h.createEvent();
    const stats = (t: string) => h.call('GET', `/v1/admin/events/${ev.id}/stats`, { token: t });
    expect((await stats(await token(rsa, { role: 'admin' }))).status).toBe(200);
    const scanner = await stats(await token(rsa, { role: 'scanner' }));
    expect(scanner).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    const wrongAud = await h.call('GET', '/v1/me/reservations', { token: await token(rsa, {}, { aud: 'x' }) });
    expect(wrongAud).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    expect((await h.call('GET', '/v1/me/reservations', { token: await h.token('hs-user') })).status).toBe(200);
  });
});
