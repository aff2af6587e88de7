import { context, propagation, SpanStatusCode, trace as otel, type Attributes } from '@opentelemetry/api';

const tracer = otel.getTracer('boxoffice');

/**
 * The one helper for spans of our own (PostgreSQL queries, Lua scripts, jobs). With no SDK
 * registered the tracer is a no-op and this costs a closure call.
 */
export function trace<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** W3C trace context of the active span, to carry through the outbox into Kafka headers. */
export function currentTraceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

export function activeTraceId(): string | undefined {
  const ctx = otel.getSpanContext(context.active());
  return ctx && otel.isSpanContextValid(ctx) ? ctx.traceId : undefined;
}
