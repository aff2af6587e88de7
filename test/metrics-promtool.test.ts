import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, ensureTopic } from '../src/outbox/kafka';
import { createWorkerMetrics } from '../src/telemetry/metrics';
import { JobRunner } from '../src/worker/runner';
import { startHarness, type Harness } from './harness';
import { freePort, spawnEntry } from './process';

/** `promtool check metrics` on an exposition: exit status and what it printed. */
function promtoolCheck(text: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
    p.stdin.end(text);
  });
}

const sample = (text: string, series: string) => {
  const m = new RegExp(`^${series.replace(/[{}"=.]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('promtool check metrics', () => {
  it('the checker is live: it refuses a gauge named _total', async () => {
    const bad = '# HELP x_total a gauge\n# TYPE x_total gauge\nx_total 1\n';
    expect((await promtoolCheck(bad)).code).not.toBe(0);
  });

  it("passes on the API's /metrics, which holds only the API's series", async () => {
    const ev = await h.createEvent();
    const u = await h.token(`p-${randomUUID()}`);
    await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-1-1'] } });
    await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-1-1'] } });
    const text = await (await h.app.request('/metrics')).text();
    const r = await promtoolCheck(text);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
    expect(text).toContain('boxoffice_process_cpu_seconds_total');
    expect(text).not.toContain('boxoffice_process_process_');
    expect(text).not.toMatch(/^boxoffice_(job|outbox|queue|worker|retention|consumer)_/m);
  });

  it("passes on the worker's /metrics, with job runs and queue state whatever the buyers' transport", async () => {
    // A waiting room nobody streams from: its state must still reach the worker's metrics.
    const ev = await h.createEvent({ queue: { enabled: true, admitPerSecond: 1, passSeconds: 900 } });
    for (let i = 0; i < 3; i++) {
      const join = await h.call('POST', `/v1/events/${ev.id}/queue`, { token: await h.token(`q-${randomUUID()}`) });
      expect(join.status).toBe(201);
    }
    const port = await freePort();
    const worker = spawnEntry('worker', {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: h.config.db.url,
      PG_SCHEMA: h.config.db.schema!,
      REDIS_URL: h.config.redis.url,
      REDIS_PREFIX: h.config.redis.prefix,
      KAFKA_BROKERS: h.config.kafka.brokers.join(','),
      KAFKA_TOPIC: `t.promtool.${randomUUID().slice(0, 8)}`,
      WORKER_METRICS_PORT: String(port),
      RELEASE_INTERVAL_MS: '100',
      PG_STATEMENT_TIMEOUT_MS: '1000',
      REBUILD_QUIESCE_MS: '4000',
    });
    try {
      let text = '';
      await expect
        .poll(
          async () => {
            text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
            return (sample(text, 'boxoffice_job_runs_total{job="seat-release",result="success"}') ?? 0) >= 2 &&
              sample(text, `boxoffice_queue_waiting{event="${ev.id}"}`) !== undefined;
          },
          { timeout: 30_000, interval: 250 },
        )
        .toBe(true);
      const r = await promtoolCheck(text);
      expect(r.out).toBe('');
      expect(r.code).toBe(0);
      // Every ticket is either still waiting or admitted (1 a second).
      const waiting = sample(text, `boxoffice_queue_waiting{event="${ev.id}"}`)!;
      expect(waiting + sample(text, `boxoffice_queue_admitted{event="${ev.id}"}`)!).toBe(3);
      expect(sample(text, `boxoffice_queue_admit_rate_limit{event="${ev.id}"}`)).toBe(1);
      expect(text).toMatch(/^boxoffice_job_duration_seconds_count\{job="admission"\} [1-9]/m);
      expect(sample(text, 'boxoffice_outbox_backlog')).toBeGreaterThanOrEqual(0);
      expect(text).not.toMatch(/^boxoffice_(http|hold|group_commit|sse)_/m);
    } finally {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('exit', r));
    }
  });

  it("passes on the notifications consumer's /metrics, with its lag per partition", async () => {
    const topic = `t.promtool.c.${randomUUID().slice(0, 8)}`;
    const group = `promtool-${randomUUID().slice(0, 8)}`;
    const kafka = createKafka(h.config.kafka, h.core.logger);
    await ensureTopic(kafka, topic, 1);
    const port = await freePort();
    const consumer = spawn(process.execPath, ['--import', 'tsx', 'src/notifications.ts'], {
      cwd: new URL('..', import.meta.url),
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'fatal',
        DATABASE_URL: h.config.db.url,
        PG_SCHEMA: h.config.db.schema!,
        KAFKA_BROKERS: h.config.kafka.brokers.join(','),
        KAFKA_TOPIC: topic,
        NOTIFICATIONS_GROUP_ID: group,
        CONSUMER_METRICS_PORT: String(port),
      },
      stdio: 'ignore',
    });
    const producer = kafka.producer();
    await producer.connect();
    try {
      // Messages it cannot parse are skipped, yet each batch still reports the lag.
      await producer.send({ topic, messages: Array.from({ length: 5 }, () => ({ value: '{"not":"a booking"}' })) });
      let text = '';
      await expect
        .poll(
          async () => {
            text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
            return sample(text, `boxoffice_consumer_lag_messages{consumer="${group}",partition="0"}`);
          },
          { timeout: 30_000, interval: 250 },
        )
        .toBe(0);
      const r = await promtoolCheck(text);
      expect(r.out).toBe('');
      expect(r.code).toBe(0);
      expect(text).not.toMatch(/^boxoffice_(http|hold|job|outbox|queue)_/m);
    } finally {
      await producer.disconnect();
      consumer.kill('SIGTERM');
      await new Promise((res) => consumer.once('exit', res));
    }
  });

  it('counts a failed job run (a statement timeout leaves a trace)', async () => {
    const m = createWorkerMetrics();
    const jobs = new JobRunner(h.core.logger, { onRun: m.onJobRun }).every('seat-release', 10, async () => {
      throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
    });
    jobs.start();
    await expect
      .poll(async () => sample(await m.registry.metrics(), 'boxoffice_job_runs_total{job="seat-release",result="failure"}') ?? 0)
      .toBeGreaterThanOrEqual(2);
    await jobs.stop();
  });
});
