import CircuitBreaker from 'opossum';
import { AppError, Errors, Overloaded } from '../shared/errors';

export type BreakerName = 'postgres' | 'redis' | 'kafka';
export type BreakerState = 'closed' | 'open' | 'half-open';

export type BreakerOptions = {
  /** Share of failed calls in the rolling window that opens the breaker (percent). */
  errorThresholdPercentage: number;
  /**
   * Calls in the window before the share counts at all; also, this many failures in a row
   * open the breaker at once (a dependency that just died fails every call, while the
   * window is still full of the successes from before).
   */
  volumeThreshold: number;
  /** Rolling window (ms). */
  windowMs: number;
  /** Open this long (ms), then let one probe through (half-open). */
  resetTimeoutMs: number;
  /**
   * Longest a call may take before it counts as failed (ms; none where the client bounds
   * its own calls). PostgreSQL needs one: a connection whose packets vanish never errors.
   */
  timeoutMs?: Partial<Record<BreakerName, number>>;
  onState?: (name: BreakerName, state: BreakerState) => void;
};

/**
 * A dependency failure, as opposed to the caller's mistake or a business answer (409, 429,
 * 404 ...): only these count against a breaker.
 */
export function isDependencyFailure(err: unknown): boolean {
  if (err instanceof Overloaded) return false;
  if (err instanceof AppError) return err.status === 503 && err.code === 'UNAVAILABLE';
  return true;
}

type Action = () => Promise<unknown>;

/**
 * One circuit breaker per dependency (opossum). Callers run their dependency work through
 * `run`; the hold path calls `failFast` first, so while PostgreSQL or Redis is known to be
 * down a buyer hears 503 + Retry-After at once instead of after the timeouts, and no Redis
 * hold is taken that PostgreSQL could not make durable.
 */
export class Breakers {
  private readonly breakers: Record<BreakerName, CircuitBreaker<[Action], unknown>>;
  private readonly openedAt: Record<BreakerName, number> = { postgres: 0, redis: 0, kafka: 0 };
  /**
   * When failFast let a half-open breaker's one probe through (0: not yet). A probe that
   * never reaches the dependency (refused earlier) frees the slot after resetTimeoutMs.
   */
  private readonly probing: Record<BreakerName, number> = { postgres: 0, redis: 0, kafka: 0 };

  constructor(private readonly o: BreakerOptions) {
    const make = (name: BreakerName) => {
      const b = new CircuitBreaker<[Action], unknown>((fn: Action) => fn(), {
        name,
        timeout: o.timeoutMs?.[name] ?? false,
        errorThresholdPercentage: o.errorThresholdPercentage,
        volumeThreshold: o.volumeThreshold,
        rollingCountTimeout: o.windowMs,
        resetTimeout: o.resetTimeoutMs,
        // Business answers are successes for the breaker.
        errorFilter: (err: unknown) => !isDependencyFailure(err),
      });
      let inARow = 0;
      b.on('success', () => (inARow = 0));
      const failed = () => {
        if (++inARow >= o.volumeThreshold && b.closed) b.open();
      };
      b.on('failure', failed);
      b.on('timeout', failed);
      b.on('open', () => {
        inARow = 0;
        this.probing[name] = 0;
        this.openedAt[name] = Date.now();
        o.onState?.(name, 'open');
      });
      b.on('halfOpen', () => {
        this.probing[name] = 0;
        o.onState?.(name, 'half-open');
      });
      b.on('close', () => o.onState?.(name, 'closed'));
      o.onState?.(name, 'closed');
      return b;
    };
    this.breakers = { postgres: make('postgres'), redis: make('redis'), kafka: make('kafka') };
  }

  /** Runs dependency work; while the breaker is open it is not run and 503 is thrown. */
  async run<T>(name: BreakerName, fn: () => Promise<T>): Promise<T> {
    try {
      return (await this.breakers[name].fire(fn)) as T;
    } catch (err) {
      if ((err as { code?: string }).code === 'EOPENBREAKER') throw this.unavailable([name]);
      throw err;
    }
  }

  /** Throws 503 at once if any of these breakers is open (half-open lets one probe through). */
  failFast(...names: BreakerName[]): void {
    const open = names.filter((n) => {
      const b = this.breakers[n];
      if (b.opened) return true;
      if (!b.halfOpen) return false;
      // Half-open: the first caller is the probe, everyone else waits for its verdict.
      if (!b.pendingClose || Date.now() - this.probing[n] < this.o.resetTimeoutMs) return true;
      this.probing[n] = Date.now();
      return false;
    });
    if (open.length) throw this.unavailable(open);
  }

  state(name: BreakerName): BreakerState {
    const b = this.breakers[name];
    return b.opened ? 'open' : b.halfOpen ? 'half-open' : 'closed';
  }

  states(): Record<BreakerName, BreakerState> {
    return { postgres: this.state('postgres'), redis: this.state('redis'), kafka: this.state('kafka') };
  }

  shutdown(): void {
    for (const b of Object.values(this.breakers)) b.shutdown();
  }

  private unavailable(names: BreakerName[]): AppError {
    // Retry when the first probe is due, at least a second from now.
    const due = Math.max(...names.map((n) => this.openedAt[n] + this.o.resetTimeoutMs));
    const retryAfterS = Math.max(1, Math.ceil((due - Date.now()) / 1000));
    return Errors.unavailable(`${names.join(' and ')} unavailable, retry shortly`, retryAfterS);
  }
}
