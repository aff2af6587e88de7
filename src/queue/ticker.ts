import type { Logger } from 'pino';
import type { QueueService } from './service';
import type { QueueState } from './store';

export type RoomSample = { event: string; waiting: number; admitted: number; admitPerSecond: number; paused: boolean };

/**
 * Worker side of admission, for a JobRunner: `jobs.every('admission', job.intervalMs, job.run)`.
 * Every pass sees every open room, so it is the one place queue metrics come from, whether
 * buyers stream, poll or do neither.
 */
export function admissionJob(queue: QueueService, onPass?: (rooms: RoomSample[]) => void) {
  return {
    intervalMs: queue.settings.tickMs,
    run: async () => {
      const rooms = await queue.advanceOpenRooms();
      onPass?.(rooms.map(({ eventId, state }) => sample(eventId, state)));
    },
  };
}

const sample = (event: string, st: QueueState): RoomSample => ({
  event,
  waiting: Math.max(0, st.issued - st.admitted),
  admitted: st.admittedCount,
  admitPerSecond: st.rate,
  paused: st.paused,
});

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
