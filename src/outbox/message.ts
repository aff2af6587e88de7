import { z } from 'zod';

/** The Kafka message of api.md ("Kafka"), as consumers read it. */
export const bookingMessageSchema = z.object({
  id: z.uuid(),
  type: z.enum(['booking.confirmed', 'booking.cancelled', 'booking.expired']),
  occurredAt: z.iso.datetime({ offset: true }),
  reservation: z
    .object({
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
    })
    .loose(),
});

export type BookingMessage = z.infer<typeof bookingMessageSchema>;
