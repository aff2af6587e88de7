import type { Config } from '../config/config';

export type QueueSettings = Config['queue'] & {
  /** Streams refresh their holders' "last seen" this often (a third of the idle window). */
  seenRefreshMs: number;
  /** At most one `position` event per stream per this many ms. */
  positionIntervalMs: number;
};

/** Waiting-room settings derived from the validated config. */
export function queueSettings(cfg: Config['queue']): QueueSettings {
  return {
    ...cfg,
    seenRefreshMs: Math.max(250, Math.floor(cfg.idleSkipMs / 3)),
    positionIntervalMs: 1_000,
  };
}
