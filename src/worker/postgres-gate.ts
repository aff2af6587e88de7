import type { Logger } from 'pino';
import type { Breakers } from '../resilience/breakers';
import { JobSkipped, type JobFn } from './runner';

export type PostgresGateDeps = {
  breakers: Breakers;
  logger: Logger;
  /** A cheap round trip (select 1): it is what opens and closes this process's breaker. */
  probe: () => Promise<unknown>;
};

/**
 * Wraps a job that writes PostgreSQL so it stays idle while PostgreSQL is known to be down,
 * instead of piling up runs that each wait out a timeout. Nothing else in the worker runs
 * PostgreSQL work through the breaker, so the probe before each run is what feeds it: failed
 * probes open it, and once open no run (and no probe) goes out until opossum's half-open
 * lets one probe find the recovery. One warning per outage and job, one note on resuming.
 */
export function whilePostgresUp(d: PostgresGateDeps, job: string, fn: JobFn): JobFn {
  let skipping = false;
  const skip = (reason: string, err?: unknown): never => {
    if (!skipping) d.logger.warn({ job, reason, err }, 'job skipped while PostgreSQL is unavailable');
    skipping = true;
    throw new JobSkipped(reason);
  };
  return async (signal) => {
    if (d.breakers.state('postgres') === 'open') skip('postgres breaker open');
    try {
      await d.breakers.run('postgres', d.probe);
    } catch (err) {
      skip('postgres probe failed', err);
    }
    if (skipping) d.logger.info({ job }, 'job resumed: PostgreSQL answers again');
    skipping = false;
    return fn(signal);
  };
}
