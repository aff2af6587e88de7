import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { BoxEvent, Zone } from '../../src/events/model';
import { InventoryLoader } from '../../src/inventory/loader';
import { buildIndex } from '../../src/inventory/seat-index';
import { releaseScript, reserveScript, sellScript } from '../../src/inventory/scripts';
import { createRedis, type RedisClient } from '../../src/redis/client';
import { eventKeys, type EventKeys } from '../../src/redis/keys';
import { TEST_REDIS_URL } from '../env';

/**
 * Drives the seat scripts directly on the real Redis, under a random key prefix: an event is
 * loaded by the real loader (no PostgreSQL query runs for a new event).
 */
export async function seatBench(opts: { maxPerUser?: number } = {}) {
  const redis: RedisClient = createRedis({ url: TEST_REDIS_URL, commandTimeoutMs: 30_000, connectTimeoutMs: 5_000 } as never);
  const prefix = `ts${randomUUID().slice(0, 8)}`;
  const loader = new InventoryLoader({ redis, prefix, snapshot: async () => ({ live: [], idempotency: [] }), findEvent: async () => null, lockMs: 5_000, quiesceMs: 0, logger: pino({ level: 'silent' }) });

  async function load(zones: Zone[]) {
    const event: BoxEvent = {
      id: randomUUID(),
      name: 'seat bench',
      startsAt: new Date(Date.now() + 86_400_000),
      salesOpenAt: new Date(Date.now() - 60_000),
      salesCloseAt: new Date(Date.now() + 86_400_000),
      holdSeconds: 600,
      maxSeatsPerUser: opts.maxPerUser ?? 100,
      queue: { enabled: false, admitPerSecond: 1, passSeconds: 60 },
      zones,
    };
    await loader.loadNew(event);
    return { event, k: eventKeys(prefix, event.id) };
  }

  let n = 0;
  const hold = (k: EventKeys, zone: string, a: { quantity?: number; seats?: string[]; user?: string; ga?: boolean }) =>
    reserveScript(redis, k, {
      now: Date.now(),
      reservationId: randomUUID(),
      userId: a.user ?? `u${n++}`,
      idemField: '',
      requestHash: 'x',
      zone,
      quantity: a.seats?.length ?? a.quantity!,
      seats: a.seats ?? [],
      best: !a.seats && !a.ga,
    });

  /** The zone's bitmap as Redis has it, and whether its index equals one rebuilt from it. */
  async function audit(k: EventKeys, zone: Zone) {
    const [free, index, seats, counts] = await Promise.all([
      redis.getBuffer(k.zoneFree(zone.code)),
      redis.getBuffer(k.zoneIndex(zone.code)),
      redis.hgetall(k.zoneSeats(zone.code)),
      redis.hgetall(k.zoneCounts(zone.code)),
    ]);
    const rows = Number(counts.rows);
    const perRow = Number(counts.perRow);
    const expected = buildIndex(free!, rows, perRow);
    let bitmapMatchesSeats = true;
    for (let r = 1; r <= rows; r++)
      for (let s = 1; s <= perRow; s++) {
        const taken = seats[`${zone.code}-${r}-${s}`] !== '';
        if (taken !== (free![(r - 1) * perRow + s - 1] === 0x31)) bitmapMatchesSeats = false;
      }
    return {
      free: free!,
      rows,
      perRow,
      counts,
      bitmapMatchesSeats,
      indexExact: expected.index.equals(index!) && expected.leaves === Number(counts.leaves),
    };
  }

  return {
    redis,
    prefix,
    load,
    hold,
    audit,
    release: (k: EventKeys, zone: string, reservationId: string) => releaseScript(redis, k, { reservationId, zone }),
    sell: (k: EventKeys, zone: string, reservationId: string) => sellScript(redis, k, { reservationId, zone }),
    async close() {
      const keys = await redis.keys(`${prefix}:*`);
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      await redis.quit();
    },
  };
}

export const seated = (code: string, rows: number, seatsPerRow: number): Zone => ({
  code, name: code, priceCents: 100, kind: 'seated', capacity: rows * seatsPerRow, rows, seatsPerRow,
});

/** Free runs of one row of a bitmap, as [start seat, length]. */
export function runsOf(free: Uint8Array, perRow: number, row: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let s = 1; s <= perRow + 1; s++) {
    const isFree = s <= perRow && free[(row - 1) * perRow + s - 1] === 0x30;
    if (isFree && !start) start = s;
    if (!isFree && start) {
      out.push([start, s - start]);
      start = 0;
    }
  }
  return out;
}
