import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { eventKeys, queueKeys } from '../src/redis/keys';

/** Redis Cluster hashes only the part between the first "{" and the next "}" when present. */
function hashTag(key: string): string | null {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : null;
}

it("every key of an event, inventory and waiting room, carries the event's one hash tag (one cluster slot)", () => {
  const id = randomUUID();
  const ek = eventKeys('bo', id);
  const keys = [
    ...Object.values(ek).filter((v): v is string => typeof v === 'string'),
    ek.zoneSeats('A'),
    ek.zoneCounts('FLOOR'),
    ...Object.values(queueKeys('bo', id)).map((v) => (typeof v === 'function' ? v('some-user') : v)),
  ];
  expect(keys.length).toBeGreaterThan(10);
  for (const key of keys) expect(hashTag(key), key).toBe(`evt:${id}`);
  // Two events never share a tag.
  expect(hashTag(eventKeys('bo', randomUUID()).meta)).not.toBe(hashTag(ek.meta));
});
