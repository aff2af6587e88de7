/**
 * Tracing bootstrap, loaded with `node --import` before any application module so the
 * http, ioredis and kafkajs instrumentations can patch those modules as they load.
 * Exporters follow the standard OTEL_* variables; with no OTLP endpoint and no
 * OTEL_TRACES_EXPORTER set, tracing stays off and nothing is printed. Sampling:
 * OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (e.g. parentbased_traceidratio, 0.1).
 */
import { register } from 'node:module';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ORIGIN_TRACE_HEADER } from './trace';

const env = process.env;
const wanted =
  env.OTEL_SDK_DISABLED !== 'true' &&
  Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT ||
      env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
      (env.OTEL_TRACES_EXPORTER && env.OTEL_TRACES_EXPORTER !== 'none'),
  );

if (wanted) {
  // ESM modules are patched through import-in-the-middle's loader hook.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  env.OTEL_METRICS_EXPORTER ??= 'none'; // metrics are Prometheus (/metrics), not OTLP
  env.OTEL_LOGS_EXPORTER ??= 'none';
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? `boxoffice-${process.argv[1]?.match(/(\w+)\.[jt]s$/)?.[1] ?? 'node'}`,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => /^\/(metrics|healthz|readyz)/.test(req.url ?? ''),
      }),
      new IORedisInstrumentation(),
      new KafkaJsInstrumentation({
        // Keep the outbox message's own trace (see startPublishSpan) instead of the relay's.
        producerHook: (_span, { message }) => {
          const origin = message.headers?.[ORIGIN_TRACE_HEADER];
          if (origin && message.headers) message.headers.traceparent = String(origin);
        },
      }),
    ],
  });
  sdk.start();
  const stop = () => void sdk.shutdown().catch(() => {});
  process.once('beforeExit', stop);
  (globalThis as { __boxofficeOtelShutdown?: () => Promise<void> }).__boxofficeOtelShutdown = () => sdk.shutdown();
}
