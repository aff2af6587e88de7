import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AuthEnv } from '../http/auth';
import { json } from '../http/schemas';
import { bookingEventJsonSchema } from './message';

/** GET /v1/schemas/booking-event.json: the JSON Schema of every booking.events message. */
export function messageSchemaRoute(app: OpenAPIHono<AuthEnv>): void {
  const schema = bookingEventJsonSchema();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/schemas/booking-event.json',
      tags: ['kafka'],
      summary: 'JSON Schema (draft 2020-12) of the messages on booking.events (docs/asyncapi.yaml describes the topic)',
      responses: { 200: json(z.record(z.string(), z.unknown()), 'the schema') },
    }),
    (c) => c.json(schema as Record<string, unknown>, 200, { 'cache-control': 'public, max-age=300' }),
  );
}
