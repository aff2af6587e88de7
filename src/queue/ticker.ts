import type { Logger } from 'pino';
import type { QueueService } from './service';

/**
 * Worker side of admission, for a JobRunner: `jobs.every('admission', job.intervalMs, job.run)`.
 */
export function admissionJob(queue: QueueService) {
  return { intervalMs: queue.settings.tickMs, run: () => queue.advanceOpenRooms() };
}

/** The same job on its own timer (runs never overlap); returns the stop function. */
export function startAdmissionTicker(queue: QueueService, logger: Logger): () => Promise<void> {
  const job = admissionJob(queue);
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    running ??= job
      .run()
      .catch((err) => logger.warn({ err }, 'admission tick failed'))
      .finally(() => {
        running = null;
      });
  }, job.intervalMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
