import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Bounded waits that fail with a sentence naming what never happened, instead of leaving a
 * test to hang until vitest's own timeout. The bound is a safety net sized for a loaded
 * 2-core machine, never the behaviour under test.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T> | T,
  opts: { timeoutMs?: number; stepMs?: number; done?: (v: T) => boolean } = {},
): Promise<T> {
  const { timeoutMs = 10_000, stepMs = 25 } = opts;
  const done = opts.done ?? ((v: T) => Boolean(v));
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await probe();
    if (done(last)) return last;
    if (Date.now() >= deadline) break;
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what} (last seen: ${show(last)})`);
}

/** Resolves like `p`, or rejects after `ms` with `what` (and `progress()`, if given) in the message. */
export async function within<T>(what: string, p: Promise<T>, ms: number, progress?: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${ms} ms waiting for: ${what}${progress ? ` (${progress()})` : ''}`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function show(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 300 ? `${s.slice(0, 300)}…` : s;
  } catch {
    return String(v);
  }
}
