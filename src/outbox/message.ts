import { z } from '@hono/zod-openapi';

/**
 * The contract's reservation object (api.md): the one declaration behind the HTTP response
 * schema, the Kafka message and reservationJson. Never carries idempotency internals.
 */
export const ReservationWire = z.object({
  id: z.uuid(),
  eventId: z.uuid(),
  status: z.enum(['held', 'confirmed', 'cancelled', 'expired']),
  zone: z.string(),
  quantity: z.number().int().positive(),
  seats: z.array(z.string()),
  totalCents: z.number().int().nonnegative(),
  expiresAt: z.string(),
  createdAt: z.string(),
  confirmedAt: z.string().nullable(),
  bookingCode: z.string().nullable(),
});
export type ReservationWire = z.infer<typeof ReservationWire>;

export const BOOKING_EVENT_TYPES = ['booking.confirmed', 'booking.cancelled', 'booking.expired'] as const;
export type BookingEventType = (typeof BOOKING_EVENT_TYPES)[number];

/** The Kafka message of api.md ("Kafka"), as consumers read it. */
export const bookingMessageSchema = z.object({
  id: z.uuid(),
  type: z.enum(BOOKING_EVENT_TYPES),
  occurredAt: z.iso.datetime({ offset: true }),
  reservation: ReservationWire.loose(),
});

export type BookingMessage = z.infer<typeof bookingMessageSchema>;
