import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { statusOf, zoneSeatLabels, type BoxEvent } from '../events/model';
import type { RedisClient } from '../redis/client';
import { eventKeys, idemField } from '../redis/keys';
import { AppError, Errors } from '../shared/errors';
import { holdRecord, idemRecord, seatValue, type InventorySnapshot } from './records';
import { buildIndex } from './seat-index';

const CHUNK = 5_000;

export type LoaderDeps = {
  redis: RedisClient;
  /** PostgreSQL's live reservations and idempotency records of one event (the truth to rebuild from). */
  snapshot: (eventId: string) => Promise<InventorySnapshot>;
  /** The event by id, for rebuilds that start from an id (drift repair). */
  findEvent: (eventId: string) => Promise<BoxEvent | null>;
  prefix: string;
  lockMs: number;
  quiesceMs: number;
  logger: Logger;
};

/**
 * Puts an event's inventory into Redis: at creation (nothing can be in flight, so no
 * waiting) and again whenever Redis has lost it. A rebuild runs under a per-event lock,
 * waits out writes whose Lua ran before the loss (their PostgreSQL statements are bounded
 * by statement_timeout < quiesce), then snapshots PostgreSQL. Every script refuses to act
 * while `meta` is absent, and `meta` is written last, so nobody sees a half-built event.
 * "Is this event loaded", "invalidate it" and "rebuild or answer 503" are decided here alone.
 */
export class InventoryLoader {
  private readonly inflight = new Map<string, Promise<boolean>>();

  constructor(private readonly d: LoaderDeps) {}

  async loadNew(event: BoxEvent): Promise<void> {
    await this.write(event, { live: [], idempotency: [] });
  }

  /** Resolves true once the event is loaded (by this process or another), false if not yet. */
  ensureLoaded(event: BoxEvent): Promise<boolean> {
    let p = this.inflight.get(event.id);
    if (!p) {
      p = this.rebuild(event).finally(() => this.inflight.delete(event.id));
      this.inflight.set(event.id, p);
    }
    return p;
  }

  /** Makes every script refuse the event until it is rebuilt from PostgreSQL (drift repair). */
  async invalidate(eventId: string): Promise<void> {
    await this.d.redis.del(eventKeys(this.d.prefix, eventId).meta);
  }

  async isLoaded(eventId: string): Promise<boolean> {
    return (await this.d.redis.exists(eventKeys(this.d.prefix, eventId).meta)) === 1;
  }

  /** The ids among these whose inventory is loaded (one pipelined EXISTS per event). */
  async loadedAmong(ids: string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += 1_000) {
      const chunk = ids.slice(i, i + 1_000);
      const exists = await Promise.all(chunk.map((id) => this.isLoaded(id)));
      out.push(...chunk.filter((_, j) => exists[j]));
    }
    return out;
  }

  /**
   * The answer for a request that found the event not loaded: a rebuild starts in the
   * background (shared with any already running) and the caller gets 503 with Retry-After.
   */
  restoring(event: BoxEvent): AppError {
    this.ensureLoaded(event).catch((err) => this.d.logger.error({ err, eventId: event.id }, 'inventory rebuild failed'));
    return Errors.restoring();
  }

  /**
   * The answer for a request that found Redis wrong about this event (drift): the event is
   * dropped and rebuilt from PostgreSQL in the background, and the caller gets 503.
   */
  drifted(event: BoxEvent): AppError {
    this.rebuildNow(event.id).catch((err) => this.d.logger.error({ err, eventId: event.id }, 'inventory rebuild failed'));
    return Errors.restoring();
  }

  /** Throws `restoring` unless the event is loaded. */
  async requireLoaded(event: BoxEvent): Promise<void> {
    if (!(await this.isLoaded(event.id))) throw this.restoring(event);
  }

  /** Redis disagrees with PostgreSQL about this event: drop it and rebuild from PostgreSQL now. */
  async rebuildNow(eventId: string): Promise<void> {
    await this.invalidate(eventId);
    const event = await this.d.findEvent(eventId);
    if (event) await this.ensureLoaded(event);
  }

  findEvent(eventId: string): Promise<BoxEvent | null> {
    return this.d.findEvent(eventId);
  }

  private async rebuild(event: BoxEvent): Promise<boolean> {
    const { redis } = this.d;
    const k = eventKeys(this.d.prefix, event.id);
    const token = randomUUID();
    const got = await redis.set(k.rebuildLock, token, 'PX', this.d.lockMs, 'NX');
    if (!got) return this.waitForOther(event.id);
    try {
      if (await this.isLoaded(event.id)) return true;
      const started = Date.now();
      this.d.logger.warn({ eventId: event.id }, 'inventory missing in redis: rebuilding from postgres');
      await sleep(this.d.quiesceMs);
      const snapshot = await this.d.snapshot(event.id);
      await this.write(event, snapshot);
      this.d.logger.warn(
        { eventId: event.id, live: snapshot.live.length, ms: Date.now() - started },
        'inventory rebuilt',
      );
      return true;
    } finally {
      if ((await redis.get(k.rebuildLock)) === token) await redis.del(k.rebuildLock);
    }
  }

  private async waitForOther(eventId: string): Promise<boolean> {
    const deadline = Date.now() + this.d.quiesceMs + 5_000;
    while (Date.now() < deadline) {
      if (await this.isLoaded(eventId)) return true;
      await sleep(100);
    }
    return false;
  }

  private async write(event: BoxEvent, { live, idempotency }: InventorySnapshot): Promise<void> {
    const { redis } = this.d;
    const k = eventKeys(this.d.prefix, event.id);
    await redis.del(
      k.meta, k.holds, k.users, k.idem,
      ...event.zones.flatMap((z) => [k.zoneSeats(z.code), k.zoneCounts(z.code), k.zoneFree(z.code), k.zoneIndex(z.code)]),
    );

    const seatState = new Map<string, string>();
    const held = new Map<string, number>();
    const sold = new Map<string, number>();
    const users = new Map<string, number>();
    const holds: string[] = [];
    for (const r of live) {
      const tag = r.status === 'confirmed' ? 's' : 'h';
      for (const s of r.seats) seatState.set(s, seatValue(tag, r.id));
      const counter = tag === 's' ? sold : held;
      counter.set(r.zone, (counter.get(r.zone) ?? 0) + r.quantity);
      users.set(r.userId, (users.get(r.userId) ?? 0) + r.quantity);
      holds.push(r.id, holdRecord(tag, r.zone, r.quantity, r.seats, r.userId));
    }

    const writes: Promise<unknown>[] = [];
    for (const zone of event.zones) {
      let fields: string[] = [];
      const free = zone.kind === 'seated' ? Buffer.alloc(zone.rows! * zone.seatsPerRow!, '0') : null;
      let at = 0;
      for (const label of zoneSeatLabels(zone)) {
        const state = seatState.get(label) ?? '';
        if (state !== '') free![at] = 0x31;
        at++;
        fields.push(label, state);
        if (fields.length >= CHUNK * 2) {
          writes.push(redis.hset(k.zoneSeats(zone.code), ...fields));
          fields = [];
        }
      }
      if (fields.length) writes.push(redis.hset(k.zoneSeats(zone.code), ...fields));
      const counts: Record<string, number> = {
        capacity: zone.capacity,
        held: held.get(zone.code) ?? 0,
        sold: sold.get(zone.code) ?? 0,
      };
      if (free) {
        const { index, leaves } = buildIndex(free, zone.rows!, zone.seatsPerRow!);
        writes.push(redis.set(k.zoneFree(zone.code), free), redis.set(k.zoneIndex(zone.code), index));
        Object.assign(counts, { rows: zone.rows!, perRow: zone.seatsPerRow!, leaves });
      }
      writes.push(redis.hset(k.zoneCounts(zone.code), counts));
    }
    for (let i = 0; i < holds.length; i += CHUNK * 2)
      writes.push(redis.hset(k.holds, ...holds.slice(i, i + CHUNK * 2)));
    const userFields = [...users].flat().map(String);
    for (let i = 0; i < userFields.length; i += CHUNK * 2)
      writes.push(redis.hset(k.users, ...userFields.slice(i, i + CHUNK * 2)));
    const idemFields = idempotency.flatMap((r) => [idemField(r.userId, r.key), idemRecord(r.reservationId, r.requestHash)]);
    for (let i = 0; i < idemFields.length; i += CHUNK * 2)
      writes.push(redis.hset(k.idem, ...idemFields.slice(i, i + CHUNK * 2)));
    await Promise.all(writes);

    await redis.hset(k.meta, {
      open: event.salesOpenAt.getTime(),
      close: event.salesCloseAt.getTime(),
      max: event.maxSeatsPerUser,
      state: statusOf(event),
    });
  }
}
