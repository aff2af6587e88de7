import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeRetained } from '../src/worker/retention';
import { startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const DAY = 86_400_000;

async function outboxRow(createdDaysAgo: number, sentDaysAgo: number | null) {
  const id = randomUUID();
  await h.core.sql`
    insert into outbox (message_id, topic, key, type, payload, created_at, sent_at)
    values (${id}, 'booking.events', ${id}, 'booking.confirmed', '{}'::jsonb,
      now() - make_interval(days => ${createdDaysAgo}),
      ${sentDaysAgo === null ? null : h.core.sql`now() - make_interval(days => ${sentDaysAgo})`})`;
  return id;
}
async function dedupeRow(daysAgo: number) {
  const id = randomUUID();
  await h.core.sql`
    insert into consumer_messages (consumer, message_id, type, reservation_id, topic, partition, kafka_offset, outcome, handled_at)
    values ('test', ${id}, 'booking.confirmed', ${randomUUID()}, 'booking.events', 0, 1, 'notified',
      now() - make_interval(days => ${daysAgo}))`;
  return id;
}

describe('retention job', () => {
  it('purges sent outbox rows and dedupe rows past their age, batch by batch, and nothing else', async () => {
    const oldSent = await Promise.all(Array.from({ length: 7 }, () => outboxRow(10, 9)));
    const recentSent = await outboxRow(2, 1);
    const oldUnsent = await outboxRow(30, null);
    const oldDedupe = await Promise.all(Array.from({ length: 5 }, () => dedupeRow(20)));
    const recentDedupe = await dedupeRow(3);

    const stats = await purgeRetained({
      sql: h.core.sql,
      logger: h.core.logger,
      batch: 3, // 7 and 5 rows: several full batches, then a short one
      outboxAgeMs: 7 * DAY,
      dedupeAgeMs: 14 * DAY,
    });
    expect(stats).toEqual({ outbox: 7, dedupe: 5 });

    const outbox = await h.core.sql<{ message_id: string }[]>`select message_id from outbox`;
    const left = outbox.map((r) => r.message_id);
    expect(left).toEqual(expect.arrayContaining([recentSent, oldUnsent]));
    for (const id of oldSent) expect(left).not.toContain(id);
    const dedupe = (await h.core.sql<{ message_id: string }[]>`select message_id from consumer_messages`).map((r) => r.message_id);
    expect(dedupe).toContain(recentDedupe);
    for (const id of oldDedupe) expect(dedupe).not.toContain(id);

    // A second run finds nothing more.
    expect(await purgeRetained({ sql: h.core.sql, logger: h.core.logger, batch: 3, outboxAgeMs: 7 * DAY, dedupeAgeMs: 14 * DAY })).toEqual({ outbox: 0, dedupe: 0 });
  });
});
