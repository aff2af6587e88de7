import type { Core } from '../core';
import { queueIndexKey } from '../redis/keys';
import { queueSettings, type QueueSettings } from './settings';
import { QueueStore } from './store';

/**
 * Worker side of admission: one run advances every waiting room whose sales are still
 * open, so admission keeps its pace with no stream open anywhere. Safe next to API
 * processes and other workers (the script is atomic and driven by the Redis clock).
 * For a JobRunner: `jobs.every('admission', job.intervalMs, job.run)`.
 */
export function admissionJob(core: Core, settings: QueueSettings = queueSettings(core.config.queue)) {
  const store = new QueueStore(core.redis, core.config.redis.prefix, settings);
  const index = queueIndexKey(core.config.redis.prefix);
  return {
    intervalMs: settings.tickMs,
    run: async (): Promise<void> => {
      const now = Date.now();
      await core.redis.zremrangebyscore(index, '-inf', now);
      const ids = await core.redis.zrangebyscore(index, now, '+inf');
      await Promise.all(
        ids.map(async (id) => {
          const event = await core.catalog.get(id);
          if (event?.queue.enabled) await store.advance(event);
        }),
      );
    },
  };
}

/** The same job on its own timer (runs never overlap); returns the stop function. */
export function startAdmissionTicker(core: Core, settings: QueueSettings = queueSettings(core.config.queue)): () => Promise<void> {
  const job = admissionJob(core, settings);
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    running ??= job
      .run()
      .catch((err) => core.logger.warn({ err }, 'admission tick failed'))
      .finally(() => {
        running = null;
      });
  }, job.intervalMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
