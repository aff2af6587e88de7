// Development: make sure a "Demo Night" is on sale, so a fresh `npm start` has something to
// book. Idempotent: does nothing while one is still on sale. Never run in production.
import { loadConfigOrExit } from '../src/config/load';
import { createCore, type Core } from '../src/core';
import { CreateEventBody } from '../src/events/schemas';
import { createLogger } from '../src/shared/logger';

export const DEMO_NAME = 'Demo Night';

/** Creates the demo event unless one is still on sale; returns its id either way. */
export async function seedDemo(core: Core, now = Date.now()): Promise<{ id: string; created: boolean }> {
  const [existing] = await core.sql<{ id: string }[]>`
    select id from events where name = ${DEMO_NAME} and sales_close_at > now() order by created_at limit 1`;
  if (existing) return { id: existing.id, created: false };
  const startsAt = new Date(now + 30 * 86_400_000).toISOString();
  const event = await core.events.create(
    CreateEventBody.parse({
      name: DEMO_NAME,
      startsAt,
      salesOpenAt: new Date(now - 60_000).toISOString(),
      salesCloseAt: startsAt,
      holdSeconds: 300,
      maxSeatsPerUser: 6,
      queue: { enabled: true, admitPerSecond: 50, passSeconds: 900 },
      zones: [
        { code: 'A', name: 'Stalls', priceCents: 8_900, kind: 'seated', rows: 12, seatsPerRow: 20 },
        { code: 'FLOOR', name: 'Standing floor', priceCents: 4_500, kind: 'ga', capacity: 500 },
      ],
    }),
  );
  return { id: event.id, created: true };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const config = loadConfigOrExit();
  if (config.env === 'production') {
    process.stderr.write('seed-demo: refusing to create a demo event with NODE_ENV=production\n');
    process.exit(1);
  }
  const logger = createLogger(config.logLevel, 'seed-demo');
  const core = createCore(config, logger, 'seed-demo');
  try {
    const { id, created } = await seedDemo(core);
    const url = `http://${config.host}:${config.port}/events/${id}`;
    logger.info({ eventId: id, created }, created ? `demo event created: ${url}` : `demo event already on sale: ${url}`);
  } finally {
    await core.close();
  }
}
