import type { z } from '@hono/zod-openapi';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Sql } from '../db/client';
import type { InventoryLoader } from '../inventory/loader';
import { configureScript, growScript } from '../inventory/scripts';
import type { RedisClient } from '../redis/client';
import { eventKeys } from '../redis/keys';
import { Errors } from '../shared/errors';
import type { EventCatalog } from './catalog';
import { statusOf, type BoxEvent, type EventStatus, type Zone } from './model';
import { insertRows, lockEvent, updateEvent } from './repository';
import { MAX_EVENT_SEATS, type PatchEventBody } from './schemas';

export type EventAdminDeps = {
  sql: Sql;
  redis: RedisClient;
  prefix: string;
  catalog: EventCatalog;
  loader: InventoryLoader;
  logger: Logger;
  /** How long a hold decided by Redis may still take to reach PostgreSQL (REBUILD_QUIESCE_MS). */
  settleMs: number;
  /** Cancels every live reservation of the event, each with its message (the reservations capability). */
  cancelReservations: (eventId: string) => Promise<void>;
};

/** Which status may follow which: cancelled is final; a closed sale may reopen. */
const NEXT: Record<EventStatus, EventStatus[]> = {
  draft: ['on_sale', 'cancelled'],
  on_sale: ['closed', 'cancelled'],
  closed: ['on_sale', 'cancelled'],
  cancelled: [],
};

/**
 * An organiser's edits and the event lifecycle. PostgreSQL decides first (under a row lock on
 * the event, so edits apply one at a time), then Redis follows with scripts that only set
 * settings or grow a zone: held and sold counters are never written here.
 */
export class EventAdmin {
  constructor(private readonly d: EventAdminDeps) {}

  async patch(id: string, body: z.output<typeof PatchEventBody>): Promise<BoxEvent> {
    const { before, after, grown } = await this.d.sql.begin(async (tx) => {
      const before = await lockEvent(tx, id);
      if (!before) throw Errors.notFound('event');
      const { after, grown } = applyPatch(before, body);
      await updateEvent(tx, after);
      for (const g of grown) {
        if (g.zone.kind === 'seated') await insertRows(tx, id, g.zone, g.fromRow);
      }
      return { before, after, grown };
    });
    this.d.catalog.put(after);
    await this.syncRedis(after, grown.map((g) => g.zone));
    if (statusOf(after) === 'cancelled' && statusOf(before) !== 'cancelled') await this.cancelLive(after);
    return after;
  }

  /** Settings and sizes into Redis; if that fails, a rebuild from PostgreSQL gets them right. */
  private async syncRedis(e: BoxEvent, grown: Zone[]): Promise<void> {
    const k = eventKeys(this.d.prefix, e.id);
    try {
      await configureScript(this.d.redis, k, {
        open: e.salesOpenAt.getTime(),
        close: e.salesCloseAt.getTime(),
        max: e.maxSeatsPerUser,
        state: statusOf(e),
      });
      for (const z of grown) {
        await growScript(this.d.redis, k, {
          zone: z.code,
          kind: z.kind,
          target: z.kind === 'ga' ? z.capacity : z.rows!,
          perRow: z.seatsPerRow,
        });
      }
    } catch (err) {
      this.d.logger.error({ err, eventId: e.id }, 'event edit not applied to redis: rebuilding from postgres');
      await this.d.loader.invalidate(e.id).catch(() => {});
      if (statusOf(e) === 'cancelled') throw Errors.unavailable('event cancelled; its holds are released once Redis is back');
    }
  }

  /**
   * Cancels every live reservation of a cancelled event, each with its booking.cancelled
   * message. Redis already refuses new holds; a hold whose script ran just before that may
   * still be on its way to PostgreSQL, so the sweep runs again once that window has passed.
   */
  private async cancelLive(e: BoxEvent): Promise<void> {
    await this.d.cancelReservations(e.id);
    await sleep(this.d.settleMs);
    await this.d.cancelReservations(e.id);
  }
}

type Grown = { zone: Zone; fromRow: number };

/** The edited event, or a 400/409 naming the field; sizes only grow, prices only before opening. */
export function applyPatch(e: BoxEvent, p: z.output<typeof PatchEventBody>, now = Date.now()): { after: BoxEvent; grown: Grown[] } {
  const status = statusOf(e);
  if (status === 'cancelled') throw Errors.conflict('EVENT_CANCELLED', 'a cancelled event cannot be edited');
  if (p.status && p.status !== status && !NEXT[status].includes(p.status)) {
    throw Errors.conflict('INVALID_TRANSITION', `an event cannot go from ${status} to ${p.status}`, {
      field: 'status',
      from: status,
      allowed: NEXT[status],
    });
  }
  const opened = status !== 'draft' && now >= e.salesOpenAt.getTime();
  const grown: Grown[] = [];
  const zones = e.zones.map((z) => ({ ...z }));
  for (const [i, zp] of (p.zones ?? []).entries()) {
    const field = (f: string) => `zones.${i}.${f}`;
    const z = zones.find((x) => x.code === zp.code);
    if (!z) throw Errors.invalid(`unknown zone ${zp.code}`, { field: field('code') });
    if (zp.name !== undefined) z.name = zp.name;
    if (zp.priceCents !== undefined && zp.priceCents !== z.priceCents) {
      if (opened) {
        throw Errors.conflict('PRICE_LOCKED', 'prices can change only before sales open', { field: field('priceCents') });
      }
      z.priceCents = zp.priceCents;
    }
    if (z.kind === 'ga') {
      if (zp.rows !== undefined) throw Errors.invalid('a general admission zone has no rows', { field: field('rows') });
      if (zp.capacity !== undefined && zp.capacity !== z.capacity) {
        if (zp.capacity < z.capacity) {
          throw Errors.invalid(`capacity can only grow (now ${z.capacity})`, { field: field('capacity'), current: z.capacity });
        }
        z.capacity = zp.capacity;
        grown.push({ zone: z, fromRow: 0 });
      }
    } else {
      if (zp.capacity !== undefined && zp.capacity !== z.capacity) {
        throw Errors.invalid('a seated zone grows by rows, not capacity', { field: field('capacity') });
      }
      if (zp.rows !== undefined && zp.rows !== z.rows) {
        if (zp.rows < z.rows!) throw Errors.invalid(`rows can only be added (now ${z.rows})`, { field: field('rows'), current: z.rows });
        const fromRow = z.rows! + 1;
        z.rows = zp.rows;
        z.capacity = z.rows * z.seatsPerRow!;
        grown.push({ zone: z, fromRow });
      }
    }
  }
  const seats = zones.reduce((n, z) => n + z.capacity, 0);
  if (seats > MAX_EVENT_SEATS) throw Errors.invalid(`at most ${MAX_EVENT_SEATS} seats per event`, { field: 'zones' });
  const after: BoxEvent = {
    ...e,
    name: p.name ?? e.name,
    startsAt: p.startsAt ? new Date(p.startsAt) : e.startsAt,
    salesOpenAt: p.salesOpenAt ? new Date(p.salesOpenAt) : e.salesOpenAt,
    salesCloseAt: p.salesCloseAt ? new Date(p.salesCloseAt) : e.salesCloseAt,
    holdSeconds: p.holdSeconds ?? e.holdSeconds,
    maxSeatsPerUser: p.maxSeatsPerUser ?? e.maxSeatsPerUser,
    queue: { ...e.queue, ...p.queue },
    status: p.status ?? status,
    test: p.test ?? e.test ?? false,
    zones,
  };
  if (after.salesOpenAt >= after.salesCloseAt) {
    throw Errors.invalid('sales must open before they close', { field: p.salesOpenAt ? 'salesOpenAt' : 'salesCloseAt' });
  }
  return { after, grown };
}
