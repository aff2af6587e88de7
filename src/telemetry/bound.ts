import type { Counter, Histogram } from 'prom-client';

/**
 * Label sets bound once and reused: prom-client hashes the label object on every unbound
 * observe; a bound child skips that. Only for label values from a small, fixed set (script
 * names, query names, route templates), never for anything a client controls.
 */
export function boundHistogram<L extends string>(h: Histogram<L>): (...values: string[]) => Histogram.Internal<L> {
  const children = new Map<string, Histogram.Internal<L>>();
  return (...values) => {
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    let child = children.get(key);
    if (!child) {
      child = h.labels(...values);
      children.set(key, child);
    }
    return child;
  };
}

export function boundCounter<L extends string>(c: Counter<L>): (value: string) => Counter.Internal {
  const children = new Map<string, Counter.Internal>();
  return (value) => {
    let child = children.get(value);
    if (!child) {
      child = c.labels(value);
      children.set(value, child);
    }
    return child;
  };
}
