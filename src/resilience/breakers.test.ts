import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, Errors } from '../shared/errors';
import { Breakers } from './breakers';

let b: Breakers;
afterEach(() => b.shutdown());
const make = () => (b = new Breakers({ errorThresholdPercentage: 50, volumeThreshold: 3, windowMs: 10_000, resetTimeoutMs: 200 }));
const down = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));

describe('Breakers', () => {
  it('opens after failures in a row, fails fast with 503 + Retry-After, probes once half-open, closes on success', async () => {
    make();
    for (let i = 0; i < 3; i++) await expect(b.run('postgres', down)).rejects.toThrow('ECONNREFUSED');
    expect(b.state('postgres')).toBe('open');
    const fast = (() => { try { b.failFast('postgres'); } catch (e) { return e; } })() as AppError;
    expect([fast.status, fast.code, fast.headers?.['Retry-After']]).toEqual([503, 'UNAVAILABLE', '1']);
    await expect(b.run('postgres', async () => 1)).rejects.toMatchObject({ status: 503 });
    expect(b.state('redis')).toBe('closed');

    await sleep(250);
    expect(b.state('postgres')).toBe('half-open');
    b.failFast('postgres'); // the probe
    expect(() => b.failFast('postgres')).toThrow(AppError); // everyone else waits
    expect(await b.run('postgres', async () => 'ok')).toBe('ok');
    expect(b.state('postgres')).toBe('closed');
    b.failFast('postgres');
  });

  it('business answers (409, 429 ...) never count as failures', async () => {
    make();
    for (let i = 0; i < 10; i++) await expect(b.run('postgres', () => Promise.reject(Errors.soldOut('A')))).rejects.toThrow();
    expect(b.state('postgres')).toBe('closed');
    for (let i = 0; i < 3; i++) await expect(b.run('redis', () => Promise.reject(Errors.unavailable()))).rejects.toThrow();
    expect(b.state('redis')).toBe('open');
  });
});
