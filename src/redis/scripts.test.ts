import { describe, expect, it } from 'vitest';
import { eventKeys, queueKeys } from './keys';
import { hashTag, sameHashTag } from './scripts';

describe('hash tags', () => {
  it('every key of one event, inventory and waiting room, maps to one slot', () => {
    const k = eventKeys('bo', 'e1');
    const q = queueKeys('bo', 'e1');
    const all = [k.meta, k.holds, k.users, k.idem, k.rebuildLock, k.zoneSeats('A'), k.zoneCounts('A'), ...Object.values(q).filter((v): v is string => typeof v === 'string'), q.joinsByUser('u'), q.joinsByAddress('1.2.3.4'), q.challengeUsed('s')];
    expect(new Set(all.map(hashTag))).toEqual(new Set(['evt:e1']));
    expect(sameHashTag(all)).toBe(true);
  });

  it('follows the cluster rule: first non-empty {...}, else the whole key', () => {
    expect(hashTag('a{b}c{d}')).toBe('b');
    expect(hashTag('a{}b{c}')).toBe('a{}b{c}');
    expect(hashTag('plain')).toBe('plain');
    expect(sameHashTag([eventKeys('bo', 'e1').meta, eventKeys('bo', 'e2').meta])).toBe(false);
  });
});
