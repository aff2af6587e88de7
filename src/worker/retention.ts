import type { Logger } from 'pino';
import type { Sql } from '../db/client';

export type RetentionDeps = {
  sql: Sql;
  logger: Logger;
  /** Rows deleted per statement: each stays short, well inside the statement timeout. */
  batch: number;
  outboxAgeMs: number;
  dedupeAgeMs: number;
};

export type RetentionStats = { outbox: number; dedupe: number };

/**
 * Purges outbox rows Kafka acknowledged longer ago than outboxAgeMs (unsent rows are never
 * touched, however old), and consumer dedupe rows older than dedupeAgeMs, batch by batch.
 * Several workers may run it at once: SKIP LOCKED lets them split the rows.
 */
export async function purgeRetained(d: RetentionDeps, signal?: AbortSignal): Promise<RetentionStats> {
  const outbox = await inBatches(d, signal, (limit) => d.sql`
    delete from outbox where id in (
      select id from outbox
      where sent_at < now() - make_interval(secs => ${d.outboxAgeMs / 1000})
      order by sent_at limit ${limit} for update skip locked)`);
  const dedupe = await inBatches(d, signal, (limit) => d.sql`
    delete from consumer_messages where (consumer, message_id) in (
      select consumer, message_id from consumer_messages
      where handled_at < now() - make_interval(secs => ${d.dedupeAgeMs / 1000})
      order by handled_at limit ${limit} for update skip locked)`);
  if (outbox || dedupe) d.logger.info({ outbox, dedupe }, 'retention purged rows');
  return { outbox, dedupe };
}

async function inBatches(
  d: RetentionDeps,
  signal: AbortSignal | undefined,
  purge: (limit: number) => Promise<{ count: number }>,
): Promise<number> {
  let total = 0;
  while (!signal?.aborted) {
    const { count } = await purge(d.batch);
    total += count;
    if (count < d.batch) break;
  }
  return total;
}
