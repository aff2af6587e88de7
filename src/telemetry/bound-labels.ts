import type { Histogram } from 'prom-client';

type Child = ReturnType<Histogram['labels']>;

/**
 * A histogram's children by label values, each bound once: `labels()` or `startTimer(labels)`
 * on every call hashes the label set each time, on the hot path of every request and command.
 * Only for label values from a bounded set (route templates, command and script names).
 */
export function boundLabels(h: { labels(...values: string[]): Child }): (...values: string[]) => Child {
  const bound = new Map<string, Child>();
  return (...values) => {
    const key = values.join('\u0000');
    let child = bound.get(key);
    if (!child) bound.set(key, (child = h.labels(...values)));
    return child;
  };
}
