import type { BoxEvent, Zone } from '../events/model';
import { parseSeatLabel } from '../events/model';
import type { RedisClient } from '../redis/client';
import { eventKeys } from '../redis/keys';

export type ZoneCounts = { code: string; kind: Zone['kind']; capacity: number; available: number; held: number; sold: number };

/** Per-zone counts from Redis; null when the event is not loaded there. */
export async function readAvailability(
  redis: RedisClient,
  prefix: string,
  event: BoxEvent,
): Promise<ZoneCounts[] | null> {
  const k = eventKeys(prefix, event.id);
  const [loaded, ...counts] = await Promise.all([
    redis.exists(k.meta),
    ...event.zones.map((z) => redis.hmget(k.zoneCounts(z.code), 'held', 'sold')),
  ]);
  if (!loaded) return null;
  return event.zones.map((z, i) => {
    const [held, sold] = (counts[i] as (string | null)[]).map((v) => Number(v ?? 0)) as [number, number];
    return { code: z.code, kind: z.kind, capacity: z.capacity, held, sold, available: z.capacity - held - sold };
  });
}

export type SeatStatus = 'available' | 'held' | 'sold';

/** Seat map of one seated zone in row/seat order; null when the event is not loaded. */
export async function readSeatMap(
  redis: RedisClient,
  prefix: string,
  event: BoxEvent,
  zone: Zone,
): Promise<{ seat: string; status: SeatStatus }[] | null> {
  const k = eventKeys(prefix, event.id);
  const [loaded, all] = await Promise.all([redis.exists(k.meta), redis.hgetall(k.zoneSeats(zone.code))]);
  if (!loaded) return null;
  const rows = Object.entries(all).map(([seat, v]) => {
    const p = parseSeatLabel(seat)!;
    return { seat, status: (v === '' ? 'available' : v[0] === 's' ? 'sold' : 'held') as SeatStatus, o: p.row * 1e6 + p.n };
  });
  rows.sort((a, b) => a.o - b.o);
  return rows.map(({ seat, status }) => ({ seat, status }));
}
