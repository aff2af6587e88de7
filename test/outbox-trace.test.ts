import { randomUUID } from 'node:crypto';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafka, ensureTopic } from '../src/outbox/kafka';
import { createRelayKafka, OutboxRelay } from '../src/outbox/relay';
import { ORIGIN_TRACE_HEADER } from '../src/telemetry/trace';
import { startHarness, type Harness } from './harness';
import { collectTopic } from './kafka/collect';

const exporter = new InMemorySpanExporter();
let h: Harness;
let relay: OutboxRelay;
let topic: string;
beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  topic = `t.trace.${randomUUID().slice(0, 8)}`;
  h = await startHarness({ KAFKA_TOPIC: topic });
  await ensureTopic(createKafka(h.config.kafka, h.core.logger), topic, 1);
  relay = new OutboxRelay({ sql: h.core.sql, kafka: createRelayKafka(h.config.kafka, h.core.logger), logger: h.core.logger, topics: [topic] });
  await relay.start();
});
afterAll(async () => {
  await relay.stop();
  await h.close();
});

it('a confirm and its Kafka message share one trace: request -> outbox -> publish', async () => {
  const collector = await collectTopic(createKafka(h.config.kafka, h.core.logger), topic);
  try {
    const ev = await h.createEvent();
    const u = await h.token(`tr-${randomUUID()}`);
    const held = await h.call('POST', `/v1/events/${ev.id}/reservations`, { token: u, body: { seats: ['A-9-9'] } });
    exporter.reset();
    expect((await h.call('POST', `/v1/reservations/${held.body.id}/confirm`, { token: u })).status).toBe(200);
    const root = exporter.getFinishedSpans().find((s) => s.name === 'HTTP POST')!;
    const traceId = root.spanContext().traceId;

    expect(await collector.waitFor((m) => m.some((x) => x.key === held.body.id), 10_000)).toBe(true);
    const msg = collector.received.find((x) => x.key === held.body.id)!;
    expect(msg.headers.traceparent).toContain(traceId);
    expect(msg.headers[ORIGIN_TRACE_HEADER]).toBe(msg.headers.traceparent);

    const publish = exporter.getFinishedSpans().find((s) => s.name === `publish ${topic}`)!;
    expect(publish.spanContext().traceId).toBe(traceId);
    expect(msg.headers.traceparent).toContain(publish.spanContext().spanId);
    expect(publish.attributes['boxoffice.reservation_id']).toBe(held.body.id);
  } finally {
    await collector.stop();
  }
});
