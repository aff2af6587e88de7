import { z } from '@hono/zod-openapi';
import { IsoTime, Text } from '../http/schemas';
import { EVENT_STATUSES, ZONE_CODE } from './model';

const MAX_SEATS_PER_EVENT = 250_000;
const Name = Text(1, 200).trim().min(1);
/** ISO 4217 code; set when the event is created (prices and payments are in it), not edited. */
const Currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code in upper case, e.g. EUR');

const ZoneBase = {
  code: z.string().regex(ZONE_CODE, 'letters, digits and _ (1 to 16)'),
  name: Name,
  priceCents: z.number().int().min(0).max(100_000_000),
};

export const ZoneInput = z.discriminatedUnion('kind', [
  z.object({ ...ZoneBase, kind: z.literal('ga'), capacity: z.number().int().min(1).max(MAX_SEATS_PER_EVENT) }).strict(),
  z
    .object({
      ...ZoneBase,
      kind: z.literal('seated'),
      rows: z.number().int().min(1).max(5_000),
      seatsPerRow: z.number().int().min(1).max(5_000),
    })
    .strict(),
]);

export const CreateEventBody = z
  .object({
    name: Name,
    startsAt: IsoTime,
    salesOpenAt: IsoTime,
    salesCloseAt: IsoTime.optional(),
    holdSeconds: z.number().int().min(10).max(86_400).default(600),
    maxSeatsPerUser: z.number().int().min(1).max(100).default(6),
    queue: z
      .object({
        enabled: z.boolean().default(true),
        admitPerSecond: z.number().int().min(1).max(100_000).default(500),
        passSeconds: z.number().int().min(30).max(86_400).default(900),
        maxActive: z.number().int().min(1).max(10_000_000).nullable().optional(),
        challenge: z.enum(['pow']).nullable().optional(),
      })
      .strict()
      .optional(),
    zones: z.array(ZoneInput).min(1).max(100),
    status: z.enum(['draft', 'on_sale']).default('on_sale'),
    test: z.boolean().default(false),
    currency: Currency.default('EUR'),
  })
  .strict()
  .superRefine((b, ctx) => {
    const codes = b.zones.map((z) => z.code);
    const dup = codes.filter((c, i) => codes.indexOf(c) !== i);
    if (dup.length) ctx.addIssue({ code: 'custom', path: ['zones'], message: `duplicate zone codes: ${dup.join(', ')}` });
    const seats = b.zones.reduce((n, z) => n + (z.kind === 'ga' ? z.capacity : z.rows * z.seatsPerRow), 0);
    if (seats > MAX_SEATS_PER_EVENT) {
      ctx.addIssue({ code: 'custom', path: ['zones'], message: `at most ${MAX_SEATS_PER_EVENT} seats per event` });
    }
    const close = Date.parse(b.salesCloseAt ?? b.startsAt);
    if (Date.parse(b.salesOpenAt) >= close) {
      ctx.addIssue({ code: 'custom', path: ['salesOpenAt'], message: 'must be before salesCloseAt (default startsAt)' });
    }
  })
  .openapi('CreateEvent');

export const MAX_EVENT_SEATS = MAX_SEATS_PER_EVENT;

export const ZoneSchema = z.object({
  code: z.string(),
  name: z.string(),
  priceCents: z.number().int(),
  kind: z.enum(['ga', 'seated']),
  capacity: z.number().int(),
  rows: z.number().int().optional(),
  seatsPerRow: z.number().int().optional(),
});

export const EventSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    startsAt: z.string(),
    salesOpenAt: z.string(),
    salesCloseAt: z.string(),
    holdSeconds: z.number().int(),
    maxSeatsPerUser: z.number().int(),
    queue: z.object({
      enabled: z.boolean(),
      admitPerSecond: z.number().int(),
      passSeconds: z.number().int(),
      maxActive: z.number().int().nullable().optional(),
      challenge: z.enum(['pow']).nullable().optional(),
    }),
    status: z.enum(EVENT_STATUSES),
    test: z.boolean(),
    currency: z.string(),
    zones: z.array(ZoneSchema),
  })
  .openapi('Event');

/**
 * An organiser's edit: every field optional. Sizes only grow (GA capacity, seated rows),
 * prices change only before sales open; the service checks those against the stored event.
 */
export const PatchEventBody = z
  .object({
    name: Name.optional(),
    startsAt: IsoTime.optional(),
    salesOpenAt: IsoTime.optional(),
    salesCloseAt: IsoTime.optional(),
    holdSeconds: z.number().int().min(10).max(86_400).optional(),
    maxSeatsPerUser: z.number().int().min(1).max(100).optional(),
    queue: z
      .object({
        enabled: z.boolean().optional(),
        admitPerSecond: z.number().int().min(1).max(100_000).optional(),
        passSeconds: z.number().int().min(30).max(86_400).optional(),
        maxActive: z.number().int().min(1).max(10_000_000).nullable().optional(),
        challenge: z.enum(['pow']).nullable().optional(),
      })
      .strict()
      .optional(),
    status: z.enum(EVENT_STATUSES).optional(),
    test: z.boolean().optional(),
    zones: z
      .array(
        z
          .object({
            code: z.string().regex(ZONE_CODE, 'letters, digits and _ (1 to 16)'),
            name: Name.optional(),
            priceCents: ZoneBase.priceCents.optional(),
            capacity: z.number().int().min(1).max(MAX_SEATS_PER_EVENT).optional(),
            rows: z.number().int().min(1).max(5_000).optional(),
          })
          .strict(),
      )
      .max(100)
      .optional(),
  })
  .strict()
  .openapi('PatchEvent');

export const ListEventsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: Text(0, 200).optional(),
  q: Text(0, 100).trim().optional(),
});

export const EventPageSchema = z
  .object({ events: z.array(EventSchema), nextCursor: z.string().nullable() })
  .openapi('EventPage');

export const ZoneAvailability = z.object({
  code: z.string(),
  kind: z.enum(['ga', 'seated']),
  capacity: z.number().int(),
  available: z.number().int(),
  held: z.number().int(),
  sold: z.number().int(),
});
export const AvailabilitySchema = z.object({ zones: z.array(ZoneAvailability) }).openapi('Availability');

export const SeatMapSchema = z
  .array(z.object({ seat: z.string(), status: z.enum(['available', 'held', 'sold']) }))
  .openapi('SeatMap');
