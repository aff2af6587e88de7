import { randomUUID } from 'node:crypto';
import { solveChallenge } from 'altcha-lib/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId, signQueueToken } from '../src/queue/tokens';
import { startHarness, type Harness } from './harness';
import { startQueueServer } from './queue/helpers';

const OLD_SECRET = 'queue-secret-before-rotation';
const ENV = {
  QUEUE_JOIN_LIMIT_PER_USER: '3',
  QUEUE_JOIN_LIMIT_PER_ADDRESS: '5',
  QUEUE_TRUST_PROXY_HOPS: '1',
  QUEUE_CHALLENGE_MAX_NUMBER: '2000',
  QUEUE_SECRET: 'queue-secret-after-rotation',
  QUEUE_SECRET_PREVIOUS: OLD_SECRET,
};

let h: Harness;
let url: string;
let stop: () => Promise<void>;
beforeAll(async () => {
  const s = await startQueueServer(ENV);
  ({ h, close: stop } = s);
  url = s.srv.url;
});
afterAll(() => stop());

/** A join over real HTTP, from the client address `from` as one trusted proxy reports it. */
async function join(eventId: string, user: string, o: { from?: string; challenge?: string; base?: string } = {}) {
  const res = await fetch(`${o.base ?? url}/v1/events/${eventId}/queue`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await h.token(user)}`,
      'x-forwarded-for': `203.0.113.9, ${o.from ?? '198.51.100.1'}`,
      ...(o.challenge ? { 'x-queue-challenge': o.challenge } : {}),
    },
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

const adminState = async (eventId: string) => (await h.call('GET', `/v1/admin/events/${eventId}/queue`, { token: h.adminToken })).body;

describe('join limits (shared in Redis)', () => {
  it('refuse a user past its limit and an address past its limit, across two processes, counted by reason', async () => {
    const ev = await h.createEvent({ queue: { enabled: true, admitPerSecond: 1, passSeconds: 600 } });
    const h2 = await startHarness({ ...ENV, REDIS_PREFIX: h.config.redis.prefix, PG_SCHEMA: h.config.db.schema! });
    const { listen } = await import('./queue/helpers');
    const s2 = await listen(h2.app.fetch);
    try {
      const u = `lim-${randomUUID()}`;
      // Two joins here, one in the other process: the third is the last the user may make.
      expect((await join(ev.id, u, { from: '10.0.0.1' })).status).toBe(201);
      expect((await join(ev.id, u, { from: '10.0.0.2' })).status).toBe(200);
      expect((await join(ev.id, u, { from: '10.0.0.3', base: s2.url })).status).toBe(200);
      const refused = await join(ev.id, u, { from: '10.0.0.4', base: s2.url });
      expect([refused.status, refused.body.error.code, refused.body.error.details.per]).toEqual([429, 'RATE_LIMITED', 'user']);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);

      // Five users behind one address (here, alternately through both processes), the sixth is refused.
      for (let i = 0; i < 5; i++) {
        expect((await join(ev.id, `nat${i}-${randomUUID()}`, { from: '192.0.2.7', base: i % 2 ? s2.url : url })).status).toBe(201);
      }
      const crowd = await join(ev.id, `nat5-${randomUUID()}`, { from: '192.0.2.7' });
      expect([crowd.status, crowd.body.error.details.per]).toEqual([429, 'address']);
      // The first entry of X-Forwarded-For is the client's own claim and counts for nothing.
      expect((await join(ev.id, `other-${randomUUID()}`, { from: '192.0.2.8' })).status).toBe(201);

      expect((await adminState(ev.id)).refused).toEqual({ user: 1, address: 1, challenge: 0, replay: 0 });
      const stats = await h.call('GET', `/v1/admin/events/${ev.id}/stats`, { token: h.adminToken });
      expect(stats.body.queue.refused).toMatchObject({ user: 1, address: 1 });
    } finally {
      await s2.close();
      await h2.close();
    }
  });
});

describe('proof of work (queue.challenge "pow")', () => {
  async function solved(eventId: string) {
    const res = await fetch(`${url}/v1/events/${eventId}/queue/challenge`);
    expect(res.status).toBe(200);
    const c = (await res.json()) as { algorithm: string; challenge: string; salt: string; signature: string; maxnumber: number };
    expect(c.maxnumber).toBe(2000);
    const s = await solveChallenge(c.challenge, c.salt, c.algorithm, c.maxnumber).promise;
    return { c, number: s!.number, payload: Buffer.from(JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge, number: s!.number, salt: c.salt, signature: c.signature })).toString('base64') };
  }

  it('admits a solved challenge once; refuses a missing, forged, foreign or replayed one', async () => {
    const ev = await h.createEvent({ queue: { enabled: true, admitPerSecond: 1, passSeconds: 600, challenge: 'pow' } });
    const other = await h.createEvent({ queue: { enabled: true, admitPerSecond: 1, passSeconds: 600, challenge: 'pow' } });
    const plain = await h.createEvent({ queue: { enabled: true, admitPerSecond: 1, passSeconds: 600 } });
    expect((await fetch(`${url}/v1/events/${plain.id}/queue/challenge`)).status).toBe(409);

    const missing = await join(ev.id, `pow-${randomUUID()}`, { from: '10.1.0.1' });
    expect([missing.status, missing.body.error.code]).toEqual([403, 'CHALLENGE_REQUIRED']);

    const { c, number, payload } = await solved(ev.id);
    const forged = Buffer.from(JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge, number: number + 1, salt: c.salt, signature: c.signature })).toString('base64');
    expect((await join(ev.id, `pow-${randomUUID()}`, { from: '10.1.0.2', challenge: forged })).body.error.code).toBe('CHALLENGE_REQUIRED');
    const foreign = (await solved(other.id)).payload;
    expect((await join(ev.id, `pow-${randomUUID()}`, { from: '10.1.0.3', challenge: foreign })).status).toBe(403);
    expect((await join(ev.id, `pow-${randomUUID()}`, { from: '10.1.0.3', challenge: 'bm90IGpzb24=' })).status).toBe(403);

    const ok = await join(ev.id, `pow-${randomUUID()}`, { from: '10.1.0.4', challenge: payload });
    expect(ok.status).toBe(201);
    const replay = await join(ev.id, `pow-${randomUUID()}`, { from: '10.1.0.5', challenge: payload });
    expect([replay.status, replay.body.error.code]).toEqual([403, 'CHALLENGE_REQUIRED']);
    expect(replay.body.error.message).toMatch(/already used/);

    expect((await adminState(ev.id)).refused).toEqual({ user: 0, address: 0, challenge: 4, replay: 1 });
  });
});

describe('key rotation', () => {
  it('accepts tickets and passes of the previous QUEUE_SECRET, refuses unknown keys, signs with the new one', async () => {
    const ev = await h.createEvent({ queue: { enabled: true, admitPerSecond: 1000, passSeconds: 600 } });
    const user = `rot-${randomUUID()}`;
    const j = await join(ev.id, user, { from: '10.2.0.1' });
    expect(j.body.status).toBe('admitted');
    const claims = (t: string) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString());
    expect(claims(j.body.ticket).i).toBe(keyId(ENV.QUEUE_SECRET));
    expect(claims(j.body.pass).i).toBe(keyId(ENV.QUEUE_SECRET));

    const closes = Date.parse((await h.call('GET', `/v1/events/${ev.id}`)).body.salesCloseAt);
    const oldTicket = signQueueToken(OLD_SECRET, { k: 'ticket', e: ev.id, u: user, x: closes });
    const poll = await fetch(`${url}/v1/events/${ev.id}/queue?ticket=${encodeURIComponent(oldTicket)}`);
    expect(poll.status).toBe(200);
    expect(((await poll.json()) as any).pass).toBe(j.body.pass); // same place, same admission
    const unknown = signQueueToken('some-other-secret-xyz', { k: 'ticket', e: ev.id, u: user, x: closes });
    expect((await fetch(`${url}/v1/events/${ev.id}/queue?ticket=${encodeURIComponent(unknown)}`)).status).toBe(403);

    const { a, x } = claims(j.body.pass);
    const withToken = async (pass: string) =>
      h.call('POST', `/v1/events/${ev.id}/reservations`, {
        token: await h.token(user),
        body: { zone: 'FLOOR', quantity: 1 },
        headers: { 'x-queue-pass': pass, 'idempotency-key': randomUUID() },
      });
    expect((await withToken(signQueueToken(OLD_SECRET, { k: 'pass', e: ev.id, u: user, x, a }))).status).toBe(201);
    expect((await withToken(signQueueToken('some-other-secret-xyz', { k: 'pass', e: ev.id, u: user, x, a }))).status).toBe(403);
  });
});
