/**
 * The seat map of a big zone (over 5,000 seats) is streamed through the chunked helper with
 * batched HMGETs instead of one HGETALL, and stays the same JSON array as a small zone's.
 */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zoneSeatLabels, type BoxEvent } from '../src/events/model';
import { seatMapBatches } from '../src/inventory/availability';
import { eventKeys } from '../src/redis/keys';
import { chunkedStream, StreamIncomplete } from '../src/streaming/chunked-stream';
import { jsonArrayEncoder } from '../src/streaming/encoders';
import { listen, rawGet } from '../src/streaming/testing/raw-http';
import { startHarness, type Harness } from './harness';

let h: Harness;
let event: BoxEvent;
const ROWS = 120;
const PER_ROW = 50; // 6,000 seats: streamed
const marks: Record<string, string> = { 'BIG-1-2': 'h:r1', 'BIG-10-1': 'h:r2', 'BIG-120-50': 's:r3', 'BIG-99-7': 's:r4' };

beforeAll(async () => {
  h = await startHarness();
  const created = await h.createEvent({
    zones: [
      { code: 'BIG', name: 'Big', priceCents: 5000, kind: 'seated', rows: ROWS, seatsPerRow: PER_ROW },
      { code: 'SMALL', name: 'Small', priceCents: 9000, kind: 'seated', rows: 3, seatsPerRow: 4 },
    ],
  });
  event = (await h.core.catalog.get(created.id))!;
  const k = eventKeys(h.config.redis.prefix, event.id);
  await h.core.redis.hset(k.zoneSeats('BIG'), marks);
  await h.core.redis.hset(k.zoneSeats('SMALL'), { 'SMALL-2-3': 's:r5' });
});

afterAll(async () => {
  await h?.close();
});

const url = (zone: string) => `/v1/events/${event.id}/zones/${zone}/seats`;
const expectedMap = (zone: string, m: Record<string, string>) =>
  [...zoneSeatLabels(event.zones.find((z) => z.code === zone)!)].map((seat) => ({
    seat,
    status: m[seat] ? (m[seat]![0] === 's' ? 'sold' : 'held') : 'available',
  }));

describe('seat map of a big zone', () => {
  it('is the same JSON array, in row/seat order, with each seat status', async () => {
    const big = await h.call('GET', url('BIG'));
    expect(big.status).toBe(200);
    expect(big.headers.get('content-type')).toMatch(/^application\/json/);
    expect(big.body).toHaveLength(6000);
    expect(big.body).toEqual(expectedMap('BIG', marks));
    const small = await h.call('GET', url('SMALL'));
    expect(small.body).toEqual(expectedMap('SMALL', { 'SMALL-2-3': 's' }));
  });

  it('is streamed in 32 KiB chunks on the wire; a small zone is sent whole', async () => {
    const server = await listen(h.app.fetch);
    const port = server.port;
    try {
      const big = await rawGet(port, url('BIG'));
      expect([big.status, big.complete, big.headers['transfer-encoding']]).toEqual([200, true, 'chunked']);
      expect(big.chunks.length).toBeGreaterThan(4);
      big.chunks.slice(0, -1).forEach((c) => expect(c.length).toBeGreaterThanOrEqual(32 * 1024));
      expect(JSON.parse(Buffer.concat(big.chunks).toString())).toEqual(expectedMap('BIG', marks));
      const small = await rawGet(port, url('SMALL'));
      expect(small.headers['transfer-encoding']).toBeUndefined();
      expect(JSON.parse(small.chunks[0]!.toString())).toHaveLength(12);
    } finally {
      await server.close();
    }
  });

  it('is gzipped when the client accepts it', async () => {
    const res = await h.app.request(url('BIG'), { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(JSON.parse(gunzipSync(Buffer.from(await res.arrayBuffer())).toString())).toEqual(expectedMap('BIG', marks));
  });

  it('reads Redis batch by batch, as the stream asks', async () => {
    const zone = event.zones.find((z) => z.code === 'BIG')!;
    const it = seatMapBatches(h.core.redis, h.config.redis.prefix, event, zone, 1000);
    const first = await it.next();
    expect(first.value).toHaveLength(1000);
    // a change after the first batch shows in a later one: nothing was read ahead
    const k = eventKeys(h.config.redis.prefix, event.id);
    await h.core.redis.hset(k.zoneSeats('BIG'), 'BIG-100-1', 's:late');
    const rest = [];
    for await (const b of it) {
      expect(b.length).toBeLessThanOrEqual(1000);
      rest.push(...b);
    }
    expect(rest).toHaveLength(5000);
    expect(rest.find((s) => s.seat === 'BIG-100-1')?.status).toBe('sold');
    await h.core.redis.hset(k.zoneSeats('BIG'), 'BIG-100-1', '');
  });

  it('a zone whose seats vanish part-way ends as an error, not as a shorter array', async () => {
    const created = await h.createEvent({
      zones: [{ code: 'BIG', name: 'Big', priceCents: 5000, kind: 'seated', rows: ROWS, seatsPerRow: PER_ROW }],
    });
    const ev = (await h.core.catalog.get(created.id))!;
    const zone = ev.zones[0]!;
    const reader = chunkedStream(seatMapBatches(h.core.redis, h.config.redis.prefix, ev, zone, 500), jsonArrayEncoder(), {
      chunkBytes: 1024,
    }).getReader();
    expect((await reader.read()).done).toBe(false);
    await h.core.redis.del(eventKeys(h.config.redis.prefix, ev.id).zoneSeats('BIG'));
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return 'ended cleanly';
      })(),
    ).rejects.toThrow(StreamIncomplete);
  });

  it('answers 503 while the inventory is missing, 404 for an unknown zone', async () => {
    const created = await h.createEvent({
      zones: [{ code: 'BIG', name: 'Big', priceCents: 5000, kind: 'seated', rows: ROWS, seatsPerRow: PER_ROW }],
    });
    await h.core.redis.del(eventKeys(h.config.redis.prefix, created.id).meta);
    const res = await h.call('GET', `/v1/events/${created.id}/zones/BIG/seats`);
    expect([res.status, res.body.error?.code]).toEqual([503, 'UNAVAILABLE']);
    expect((await h.call('GET', url('NOPE'))).status).toBe(404);
  });
});
