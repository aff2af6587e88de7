import { randomUUID } from 'node:crypto';
import type { z } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import type { Sql } from '../db/client';
import type { InventoryLoader } from '../inventory/loader';
import { readAvailability, seatMapBatches, type SeatEntry } from '../inventory/availability';
import type { RedisClient } from '../redis/client';
import { Errors } from '../shared/errors';
import type { EventCatalog } from './catalog';
import type { BoxEvent } from './model';
import { insertEvent, listEvents, setQueueRate, type ListCursor } from './repository';
import type { CreateEventBody } from './schemas';

export type EventDeps = {
  sql: Sql;
  redis: RedisClient;
  prefix: string;
  catalog: EventCatalog;
  loader: InventoryLoader;
  logger: Logger;
};

type CreateEventOut = z.output<typeof CreateEventBody>;
export type CreateEvent = Omit<CreateEventOut, 'status' | 'test' | 'currency'> & Partial<Pick<CreateEventOut, 'status' | 'test' | 'currency'>>;

export class EventService {
  constructor(private readonly d: EventDeps) {}

  /** Writes the event and its seats to PostgreSQL, then loads its inventory into Redis. */
  async create(body: CreateEvent): Promise<BoxEvent> {
    const event: BoxEvent = {
      id: randomUUID(),
      name: body.name,
      startsAt: new Date(body.startsAt),
      salesOpenAt: new Date(body.salesOpenAt),
      salesCloseAt: new Date(body.salesCloseAt ?? body.startsAt),
      holdSeconds: body.holdSeconds,
      maxSeatsPerUser: body.maxSeatsPerUser,
      queue: body.queue ?? { enabled: false, admitPerSecond: 500, passSeconds: 900 },
      status: body.status ?? 'on_sale',
      test: body.test ?? false,
      currency: body.currency,
      zones: body.zones.map((z) =>
        z.kind === 'ga'
          ? { code: z.code, name: z.name, priceCents: z.priceCents, kind: 'ga', capacity: z.capacity }
          : {
              code: z.code,
              name: z.name,
              priceCents: z.priceCents,
              kind: 'seated',
              capacity: z.rows * z.seatsPerRow,
              rows: z.rows,
              seatsPerRow: z.seatsPerRow,
            },
      ),
    };
    await insertEvent(this.d.sql, event);
    // The event exists once PostgreSQL has it; if Redis is away now, the first read or
    // hold rebuilds its inventory, so the admin never retries into a duplicate event.
    await this.d.loader.loadNew(event).catch((err) =>
      this.d.logger.warn({ err, eventId: event.id }, 'event created; inventory will load on first use'),
    );
    this.d.catalog.put(event);
    return event;
  }

  async get(id: string): Promise<BoxEvent> {
    const event = await this.d.catalog.get(id);
    if (!event) throw Errors.notFound('event');
    return event;
  }

  /** A page of events (buyers: listed ones only); the cursor is opaque to clients. */
  async list(opts: { all?: boolean; limit?: number; cursor?: string; q?: string } = {}) {
    const page = await listEvents(this.d.sql, {
      all: opts.all ?? false,
      limit: opts.limit ?? 20,
      cursor: opts.cursor ? decodeCursor(opts.cursor) : undefined,
      q: opts.q || undefined,
    });
    return { events: page.events, nextCursor: page.next ? encodeCursor(page.next) : null };
  }

  async availability(id: string) {
    const event = await this.get(id);
    // Auto-pipelining sends both in one round trip.
    const [loaded, zones] = await Promise.all([this.d.loader.isLoaded(event.id), readAvailability(this.d.redis, this.d.prefix, event)]);
    if (!loaded) throw this.d.loader.restoring(event);
    return zones;
  }

  /**
   * Seat map of a seated zone: its size, and its seats in row/seat order as batches read from
   * Redis on demand (the route streams a big zone instead of building it in memory).
   */
  async seatMap(id: string, zoneCode: string): Promise<{ seats: number; batches: AsyncGenerator<SeatEntry[], void, undefined> }> {
    const event = await this.get(id);
    const zone = event.zones.find((z) => z.code === zoneCode);
    if (!zone) throw Errors.notFound('zone');
    if (zone.kind !== 'seated') throw Errors.invalid(`zone ${zone.code} is general admission: it has no seat map`, { field: 'zone' });
    await this.d.loader.requireLoaded(event);
    return { seats: zone.capacity, batches: seatMapBatches(this.d.redis, this.d.prefix, event, zone) };
  }

  async setQueueRate(id: string, admitPerSecond: number): Promise<void> {
    await setQueueRate(this.d.sql, id, admitPerSecond);
    this.d.catalog.invalidate(id);
  }
}

const encodeCursor = (c: ListCursor) => Buffer.from(JSON.stringify([c.openAt, c.id])).toString('base64url');

function decodeCursor(s: string): ListCursor {
  try {
    const [openAt, id] = JSON.parse(Buffer.from(s, 'base64url').toString()) as unknown[];
    if (typeof openAt === 'string' && !Number.isNaN(Date.parse(openAt)) && typeof id === 'string' && UUID.test(id)) {
      return { openAt, id };
    }
  } catch {
    // falls through to the 400 below
  }
  throw Errors.invalid('cursor is not one this server gave out', { field: 'cursor' });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
