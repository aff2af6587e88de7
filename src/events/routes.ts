import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { TypedResponse } from 'hono';
import type { Logger } from 'pino';
import { requireAdmin, type AuthEnv, type AuthMiddleware } from '../http/auth';
import { errorResponses, IdParam, json, Text } from '../http/schemas';
import type { SeatEntry } from '../inventory/availability';
import { jsonArrayEncoder } from '../streaming/encoders';
import { gzipWhenAccepted, streamResponse } from '../streaming/response';
import { eventJson } from './model';
import type { EventAdmin } from './admin';
import { AvailabilitySchema, CreateEventBody, EventPageSchema, EventSchema, ListEventsQuery, PatchEventBody, SeatMapSchema } from './schemas';
import type { EventService } from './service';

/** Zones with more seats than this get their seat map streamed rather than built in memory. */
export const SEAT_MAP_STREAM_ABOVE = 5_000;

/** `admin`: edits and the lifecycle (PATCH), a service of their own beside the reads. */
export type EventRouteDeps = { auth: AuthMiddleware; logger: Logger; chunkBytes: number; streamAbove?: number; admin: EventAdmin };

export function eventRoutes(app: OpenAPIHono<AuthEnv>, events: EventService, deps: EventRouteDeps): void {
  const { auth, chunkBytes, logger: streamLogger, admin } = deps;
  const streamAbove = deps.streamAbove ?? SEAT_MAP_STREAM_ABOVE;
  const seatMapEncoder = jsonArrayEncoder<SeatEntry>();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/events',
      tags: ['admin'],
      summary: 'Create an event with its zones and seats',
      security: [{ bearer: [] }],
      middleware: [auth, requireAdmin] as const,
      request: { body: { content: { 'application/json': { schema: CreateEventBody } }, required: true } },
      responses: { 201: json(EventSchema, 'created'), ...errorResponses(400, 401, 403, 413) },
    }),
    async (c) => c.json(eventJson(await events.create(c.req.valid('json'))), 201),
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/admin/events/{id}',
      tags: ['admin'],
      summary: 'Edit an event, or move it through its lifecycle',
      description:
        'Every field optional. Capacity only grows (GA `capacity`, seated `rows`); `priceCents` only before sales open; ' +
        'held and sold stay exactly as they are. `status`: draft → on_sale → closed (→ on_sale again), or cancelled from any: ' +
        'cancelling cancels every live reservation, each with a booking.cancelled message. ' +
        'The live waiting-room rate is changed with PATCH /v1/admin/events/{id}/queue.',
      security: [{ bearer: [] }],
      middleware: [auth, requireAdmin] as const,
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: PatchEventBody } }, required: true },
      },
      responses: { 200: json(EventSchema, 'the edited event'), ...errorResponses(400, 401, 403, 404, 409, 503) },
    }),
    async (c) => c.json(eventJson(await admin.patch(c.req.valid('param').id, c.req.valid('json'))), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/events',
      tags: ['events'],
      summary: 'Events on sale, newest sale first, paginated and searchable',
      description: 'Drafts, test events and events whose sales closed are not listed. `q` matches the name; pass `nextCursor` back as `cursor` for the next page.',
      request: { query: ListEventsQuery },
      responses: { 200: json(EventPageSchema), ...errorResponses(400) },
    }),
    async (c) => {
      const page = await events.list(c.req.valid('query'));
      return c.json({ events: page.events.map(eventJson), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/admin/events',
      tags: ['admin'],
      summary: 'Every event (drafts and test events included), newest sale first, paginated',
      security: [{ bearer: [] }],
      middleware: [auth, requireAdmin] as const,
      request: { query: ListEventsQuery },
      responses: { 200: json(EventPageSchema), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const page = await events.list({ ...c.req.valid('query'), all: true });
      return c.json({ events: page.events.map(eventJson), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/events/{id}',
      tags: ['events'],
      summary: 'Event, zones, prices and sales window',
      request: { params: IdParam },
      responses: { 200: json(EventSchema), ...errorResponses(400, 404) },
    }),
    async (c) => c.json(eventJson(await events.get(c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/events/{id}/availability',
      tags: ['events'],
      summary: 'Available, held and sold per zone (they add up to capacity)',
      request: { params: IdParam },
      responses: { 200: json(AvailabilitySchema), ...errorResponses(400, 404, 503) },
    }),
    async (c) => c.json({ zones: await events.availability(c.req.valid('param').id) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/events/{id}/zones/{zone}/seats',
      tags: ['events'],
      summary: 'Seat map of a seated zone',
      description: `Zones over ${SEAT_MAP_STREAM_ABOVE} seats are streamed (same JSON array, ~32 KiB chunks); gzip when accepted.`,
      middleware: [gzipWhenAccepted()] as const,
      request: {
        params: IdParam.extend({ zone: Text(1, 64).openapi({ param: { name: 'zone', in: 'path' } }) }),
      },
      responses: { 200: json(SeatMapSchema), ...errorResponses(400, 404, 503) },
    }),
    async (c) => {
      const { id, zone } = c.req.valid('param');
      const map = await events.seatMap(id, zone);
      if (map.seats > streamAbove) {
        // A failure part-way aborts the connection: a truncated array never parses as complete.
        const streamed = streamResponse(map.batches, seatMapEncoder, {
          contentType: 'application/json; charset=utf-8',
          chunkBytes,
          signal: c.req.raw.signal,
          logger: streamLogger,
          name: 'seat-map',
        });
        // The same JSON array as c.json would send, written piecewise.
        return streamed as unknown as TypedResponse<SeatEntry[], 200, 'json'>;
      }
      const seats: SeatEntry[] = [];
      for await (const batch of map.batches) seats.push(...batch);
      return c.json(seats, 200);
    },
  );
}
