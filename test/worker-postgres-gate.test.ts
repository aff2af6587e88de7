import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSql, type Sql } from '../src/db/client';
import { Breakers } from '../src/resilience/breakers';
import { whilePostgresUp } from '../src/worker/postgres-gate';
import { releaseExpired } from '../src/worker/release';
import { JobRunner, JobSkipped } from '../src/worker/runner';
import { freePort } from './process';
import { startHarness, type Harness } from './harness';

// The seat-release job behind the worker's PostgreSQL gate. The outage is real: the probe
// goes to a PostgreSQL port where nothing listens (connection refused) until it is "back".
let h: Harness;
let nowhere: Sql;
beforeAll(async () => {
  h = await startHarness();
  const url = new URL(h.config.db.url);
  url.port = String(await freePort());
  nowhere = createSql({ ...h.config.db, url: url.href, connectTimeoutS: 2 }, { applicationName: 'gate-down' });
});
afterAll(async () => {
  await nowhere?.end({ timeout: 1 });
  await h?.close();
});

it('seat release sits out an open PostgreSQL breaker (no run, no probe, one warning) and runs again once a probe finds PostgreSQL', async () => {
  const ev = await h.createEvent({ maxSeatsPerUser: 4 });
  const token = await h.token(`gate-${randomUUID()}`);
  const held = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token, body: { zone: 'FLOOR', quantity: 1 } });
  expect(held.status).toBe(201);
  await h.core.sql`update reservations set expires_at = now() - interval '1 second' where id = ${held.body.id}`;
  const status = async () => (await h.core.sql<{ status: string }[]>`select status from reservations where id = ${held.body.id}`)[0]!.status;

  const lines: { level: number; msg: string; job?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const breakers = new Breakers({ errorThresholdPercentage: 50, volumeThreshold: 2, windowMs: 10_000, resetTimeoutMs: 800, timeoutMs: { postgres: 3_000 } });
  let down = true;
  let probes = 0;
  let runs = 0;
  const job = whilePostgresUp({ breakers, logger, probe: () => (probes++, (down ? nowhere : h.core.sql)`select 1`) }, 'seat-release', (signal) => {
    runs++;
    return releaseExpired({ ...h.core.transitions, logger, batch: 100 }, signal);
  });
  const run = () => job(new AbortController().signal).then(() => 'ran', (e) => (e instanceof JobSkipped ? 'skipped' : e));

  try {
    // Two failed probes open the breaker; then runs are skipped without reaching PostgreSQL.
    expect([await run(), await run()]).toEqual(['skipped', 'skipped']);
    expect(breakers.state('postgres')).toBe('open');
    const probesAtOpen = probes;
    for (let i = 0; i < 5; i++) expect(await run()).toBe('skipped');
    expect(probes).toBe(probesAtOpen);
    expect(runs).toBe(0);
    expect(await status()).toBe('held');
    expect(lines.filter((l) => l.msg === 'job skipped while PostgreSQL is unavailable')).toHaveLength(1);

    // PostgreSQL is back: once the breaker is half-open, the next run's probe closes it and the job runs.
    down = false;
    const until = Date.now() + 5_000;
    while (breakers.state('postgres') === 'open' && Date.now() < until) await sleep(50);
    expect(breakers.state('postgres')).toBe('half-open');
    expect(await run()).toBe('ran');
    expect(breakers.state('postgres')).toBe('closed');
    expect(runs).toBe(1);
    expect(await status()).toBe('expired');
    expect(lines.filter((l) => l.msg === 'job resumed: PostgreSQL answers again')).toHaveLength(1);
  } finally {
    breakers.shutdown();
  }
});

it('a skipped run is no success for the metrics and is not logged as a failure on every tick', async () => {
  const lines: { msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const outcomes: boolean[] = [];
  const runner = new JobRunner(logger, { onRun: (_job, _ms, ok) => outcomes.push(ok) }).every('gated', 20, async () => {
    throw new JobSkipped('postgres breaker open');
  });
  runner.start();
  while (outcomes.length < 3) await sleep(20);
  await runner.stop();
  expect(outcomes.every((ok) => !ok)).toBe(true);
  expect(lines.filter((l) => l.msg === 'job run failed')).toEqual([]);
});
