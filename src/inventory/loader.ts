import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Sql } from '../db/client';
import { zoneSeatLabels, type BoxEvent } from '../events/model';
import type { RedisClient } from '../redis/client';
import { eventKeys, idemField } from '../redis/keys';
import { idempotencyForEvent, liveForEvent } from '../reservations/repository';
import type { Reservation } from '../reservations/model';
import { holdRecord, seatValue } from './records';

const CHUNK = 5_000;

export type LoaderDeps = {
  sql: Sql;
  redis: RedisClient;
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
 */
export class InventoryLoader {
  private readonly inflight = new Map<string, Promise<boolean>>();

  constructor(private readonly d: LoaderDeps) {}

  async loadNew(event: BoxEvent): Promise<void> {
    await this.write(event, [], []);
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
      const [live, idem] = await Promise.all([
        liveForEvent(this.d.sql, event.id),
        idempotencyForEvent(this.d.sql, event.id),
      ]);
      await this.write(event, live, idem);
      this.d.logger.warn(
        { eventId: event.id, live: live.length, ms: Date.now() - started },
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

  private async write(
    event: BoxEvent,
    live: Reservation[],
    idem: { id: string; user_id: string; idempotency_key: string; request_hash: string }[],
  ): Promise<void> {
    const { redis } = this.d;
    const k = eventKeys(this.d.prefix, event.id);
    await redis.del(
      k.meta, k.holds, k.users, k.idem,
      ...event.zones.flatMap((z) => [k.zoneSeats(z.code), k.zoneCounts(z.code)]),
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
      for (const label of zoneSeatLabels(zone)) {
        fields.push(label, seatState.get(label) ?? '');
        if (fields.length >= CHUNK * 2) {
          writes.push(redis.hset(k.zoneSeats(zone.code), ...fields));
          fields = [];
        }
      }
      if (fields.length) writes.push(redis.hset(k.zoneSeats(zone.code), ...fields));
      writes.push(
        redis.hset(k.zoneCounts(zone.code), {
          capacity: zone.capacity,
          held: held.get(zone.code) ?? 0,
          sold: sold.get(zone.code) ?? 0,
        }),
      );
    }
    for (let i = 0; i < holds.length; i += CHUNK * 2)
      writes.push(redis.hset(k.holds, ...holds.slice(i, i + CHUNK * 2)));
    const userFields = [...users].flat().map(String);
    for (let i = 0; i < userFields.length; i += CHUNK * 2)
      writes.push(redis.hset(k.users, ...userFields.slice(i, i + CHUNK * 2)));
    const idemFields = idem.flatMap((r) => [
      idemField(r.user_id, r.idempotency_key),
      `${r.id}|${r.request_hash}`,
    ]);
    for (let i = 0; i < idemFields.length; i += CHUNK * 2)
      writes.push(redis.hset(k.idem, ...idemFields.slice(i, i + CHUNK * 2)));
    await Promise.all(writes);

    await redis.hset(k.meta, {
      open: event.salesOpenAt.getTime(),
      close: event.salesCloseAt.getTime(),
      max: event.maxSeatsPerUser,
    });
  }
}
