import { z } from '@hono/zod-openapi';

/**
 * The contract's reservation object (api.md): the one declaration behind the HTTP response
 * schema, the Kafka message and reservationJson. Never carries idempotency internals.
 */
export const ReservationWire = z.object({
  id: z.uuid(),
  eventId: z.uuid(),
  status: z.enum(['held', 'confirmed', 'cancelled', 'expired', 'refunded']),
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

export const BOOKING_EVENT_TYPES = [
  'booking.confirmed',
  'booking.cancelled',
  'booking.expired',
  'booking.refunded',
  'ticket.checked_in',
] as const;
export type BookingEventType = (typeof BOOKING_EVENT_TYPES)[number];

/** Every message carries it; a consumer refuses versions it does not know. */
export const SCHEMA_VERSION = 1;

const envelope = {
  id: z.uuid().describe('message id: consumers dedupe on it (delivery is at least once)'),
  schemaVersion: z.literal(SCHEMA_VERSION),
  userId: z.string().min(1).max(128).describe('the buyer (JWT sub) the booking belongs to'),
  occurredAt: z.iso.datetime({ offset: true }),
};

export const RefundWire = z
  .object({
    paymentId: z.uuid(),
    amountCents: z.number().int().nonnegative(),
    currency: z.string().regex(/^[A-Z]{3}$/),
    reason: z.enum(['late', 'mismatch', 'duplicate', 'admin', 'event_cancelled']),
  })
  .loose();
export type RefundWire = z.infer<typeof RefundWire>;

export const TicketCheckInWire = z
  .object({
    id: z.uuid(),
    reservationId: z.uuid(),
    eventId: z.uuid(),
    zone: z.string(),
    seat: z.string().nullable(),
    checkedInAt: z.iso.datetime({ offset: true }),
  })
  .loose();

const reservation = ReservationWire.loose();

/** The Kafka messages of api.md ("Kafka", v1.1 "Kafka messages"), as consumers read them. */
export const bookingMessageSchema = z
  .discriminatedUnion('type', [
    z.object({ ...envelope, type: z.enum(['booking.confirmed', 'booking.cancelled', 'booking.expired']), reservation }).loose(),
    z
      .object({
        ...envelope,
        type: z.literal('booking.refunded'),
        reservation,
        refund: RefundWire.nullable().describe('null when nothing was paid (a zero-total booking)'),
      })
      .loose(),
    z.object({ ...envelope, type: z.literal('ticket.checked_in'), ticket: TicketCheckInWire }).loose(),
  ])
  .meta({ title: 'booking.events message', $id: 'https://boxoffice.example/v1/schemas/booking-event.json' });

export type BookingMessage = z.infer<typeof bookingMessageSchema>;

/** The reservation a message is about: its Kafka key. */
export const messageReservationId = (m: BookingMessage) => (m.type === 'ticket.checked_in' ? m.ticket.reservationId : m.reservation.id);

/** JSON Schema (draft 2020-12) of the message, served at /v1/schemas/booking-event.json. */
export const bookingEventJsonSchema = () => z.toJSONSchema(bookingMessageSchema, { target: 'draft-2020-12' });
