import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' });
});
afterAll(() => h.close());

it('a caller over the write limit gets 429 RATE_LIMITED with Retry-After; reads and other callers are untouched', async () => {
  const ev = await h.createEvent();
  const greedy = await h.token(`g-${randomUUID()}`);
  const other = await h.token(`o-${randomUUID()}`);
  const results = [];
  for (let i = 0; i < 7; i++) {
    results.push(await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: greedy, body: { zone: 'FLOOR', quantity: 1 } }));
  }
  expect(results.slice(0, 5).map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
  const limited = results[5]!;
  expect(limited.status).toBe(429);
  expect(limited.body.error.code).toBe('RATE_LIMITED');
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  // Nothing was held by the refused request.
  const [n] = await h.core.sql`select count(*)::int as n from reservations where event_id = ${ev.id}`;
  expect(n!.n).toBe(5);
  expect((await h.call('GET', `/v1/events/${ev.id}/availability`)).status).toBe(200);
  expect((await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: other, body: { zone: 'FLOOR', quantity: 1 } })).status).toBe(201);
});

it('the limit follows the verified subject however the Authorization header is spelled, and the address without a token', async () => {
  const ev = await h.createEvent();
  const sub = `sp-${randomUUID()}`;
  const a = await h.token(sub);
  const b = await h.signToken(sub, 120); // a second, different token for the same user
  expect(b).not.toBe(a);
  const spellings = [`Bearer ${a}`, `bearer ${a}`, `BEARER ${a}`, `Bearer  ${a}`, `Bearer\t${b}`, `bEaReR ${b} `];
  const statuses = [];
  for (const authorization of spellings) {
    const r = await h.call('POST', `/v1/events/${ev.id}/reservations`, { headers: { authorization }, body: { zone: 'FLOOR', quantity: 1 } });
    statuses.push(r.status);
  }
  // One user: five writes pass, the sixth is rate limited.
  expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);

  // Without a valid token: keyed on the peer address of a real connection; X-Forwarded-For changes nothing.
  const server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  try {
    const anon = [];
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/events/${ev.id}/reservations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.0.0.${i}`, authorization: i % 2 ? 'Bearer forged.token.x' : '' },
        body: '{"zone":"FLOOR","quantity":1}',
      });
      anon.push(res.status);
      await res.arrayBuffer();
    }
    expect(anon).toEqual([401, 401, 401, 401, 401, 429, 429]);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
