import type { BoxEvent, Zone } from '../events/model';
import { zoneSeatLabels } from '../events/model';
import type { RedisClient } from '../redis/client';
import { seatStatus, type SeatStatus } from './records';
import { eventKeys } from '../redis/keys';
import { Errors } from '../shared/errors';

export type ZoneCounts = { code: string; kind: Zone['kind']; capacity: number; available: number; held: number; sold: number };

/** Per-zone counts from Redis; meaningful only while the event is loaded (ask the loader in the same round trip). */
export async function readAvailability(redis: RedisClient, prefix: string, event: BoxEvent): Promise<ZoneCounts[]> {
  const k = eventKeys(prefix, event.id);
  const counts = await Promise.all(event.zones.map((z) => redis.hmget(k.zoneCounts(z.code), 'held', 'sold')));
  return event.zones.map((z, i) => {
    const [held, sold] = (counts[i] as (string | null)[]).map((v) => Number(v ?? 0)) as [number, number];
    return { code: z.code, kind: z.kind, capacity: z.capacity, held, sold, available: z.capacity - held - sold };
  });
}

export type SeatEntry = { seat: string; status: SeatStatus };

const SEAT_BATCH = 2_000;

/**
 * Seats of one seated zone in row/seat order, read batch by batch (HMGET over labels derived
 * from rows x seatsPerRow), never the whole zone at once: the next batch is read only when the
 * consumer asks for it. Call after `InventoryLoader.requireLoaded`; a seat missing from Redis means the
 * inventory went away mid-read, which is an error, not an empty seat.
 */
export async function* seatMapBatches(
  redis: RedisClient,
  prefix: string,
  event: BoxEvent,
  zone: Zone,
  batchSize = SEAT_BATCH,
): AsyncGenerator<SeatEntry[], void, undefined> {
  const key = eventKeys(prefix, event.id).zoneSeats(zone.code);
  let labels: string[] = [];
  const read = async () => {
    const values = await redis.hmget(key, ...labels);
    return labels.map((seat, i): SeatEntry => {
      const v = values[i];
      if (v === null || v === undefined) throw Errors.restoring();
      return { seat, status: seatStatus(v) };
    });
  };
  for (const label of zoneSeatLabels(zone)) {
    labels.push(label);
    if (labels.length === batchSize) {
      yield await read();
      labels = [];
    }
  }
  if (labels.length) yield await read();
}
