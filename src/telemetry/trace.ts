import {
  context,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace as otel,
  type Attributes,
} from '@opentelemetry/api';

const tracer = otel.getTracer('boxoffice');

/**
 * Whether an SDK is registered (src/telemetry/register.ts starts one only when an exporter
 * is configured). Two property reads: cheap enough to ask on every call, and it follows an
 * SDK registered after this module loaded.
 */
export function tracingEnabled(): boolean {
  const provider = otel.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer('boxoffice') !== undefined;
}

/**
 * The one helper for spans of our own (PostgreSQL queries, Lua scripts, jobs). With tracing
 * off it calls fn directly: no span object, no context switch, no extra async frame.
 */
export function trace<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return fn();
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

/**
 * Kafka header that keeps the publish span's context through the kafkajs instrumentation,
 * which would otherwise replace `traceparent` with a span of the relay's own trace
 * (src/telemetry/register.ts puts it back in its producerHook).
 */
export const ORIGIN_TRACE_HEADER = 'x-boxoffice-traceparent';

/**
 * A PRODUCER span for one outbox message, child of the request that wrote the row (its
 * stored trace headers), so one trace runs request -> outbox -> broker -> consumer.
 * Returns the headers to send with the message and a function that ends the span.
 */
export function startPublishSpan(
  topic: string,
  stored: Record<string, string>,
  attributes: Attributes,
): { headers: Record<string, string>; end: (err?: unknown) => void } {
  const parent = propagation.extract(ROOT_CONTEXT, stored);
  const span = tracer.startSpan(`publish ${topic}`, { kind: SpanKind.PRODUCER, attributes }, parent);
  const headers: Record<string, string> = {};
  propagation.inject(otel.setSpan(parent, span), headers);
  if (headers.traceparent) headers[ORIGIN_TRACE_HEADER] = headers.traceparent;
  return {
    headers,
    end(err) {
      if (err) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}

/**
 * Names the incoming request's server span (the http instrumentation's, started before any
 * route matched) by its route template, as OpenTelemetry's HTTP conventions ask:
 * "POST /v1/events/:id/reservations" rather than "POST".
 */
export function nameServerSpan(method: string, route: string): void {
  const span = otel.getActiveSpan();
  if (!span) return;
  span.setAttribute('http.route', route);
  span.updateName(`${method} ${route}`);
}
