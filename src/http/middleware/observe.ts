import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from 'pino';
import type { Histogram } from 'prom-client';
import { boundLabels } from '../../telemetry/bound-labels';
import { requestContext } from '../../telemetry/request-context';
import { nameServerSpan, trace, tracingEnabled } from '../../telemetry/trace';
import type { RequestIdEnv } from './request-id';

type Observer = Pick<Histogram<'method' | 'route' | 'status'>, 'labels'>;

/**
 * One latency sample per request, labelled by route template (bounded: anything unrouted
 * shares one label) with label sets bound once per (route, method, status).
 *
 * Request context (the request id on log lines written deep in services) and the span
 * cost an AsyncLocalStorage switch and a span object per request, so they run only where
 * they are read: the span when an SDK is registered, the context when tracing is on or
 * the log level shows per-request lines (debug, trace). At info and above the error
 * boundary puts the request id on its own lines. ACCESS_LOG_SAMPLE > 0 logs that share of
 * requests (method, route, status, time).
 */
export function observe(opts: { logLevel: string; histogram: Observer; accessLogSample: number; logger: Logger }): MiddlewareHandler<RequestIdEnv> {
  const { histogram, accessLogSample, logger } = opts;
  const verboseLogs = opts.logLevel === 'debug' || opts.logLevel === 'trace';
  const child = boundLabels(histogram);
  const sample = (c: Context, seconds: number, traced: boolean) => {
    // Route templates keep the label set bounded; anything unrouted shares one label.
    const last = matchedRoutes(c).at(-1);
    const route = last && last.method !== 'ALL' ? last.path : 'unmatched';
    const method = c.req.method;
    if (traced) nameServerSpan(method, route);
    const status = c.res.status;
    child(method, route, String(status)).observe(seconds);
    if (accessLogSample > 0 && Math.random() < accessLogSample) {
      logger.info({ requestId: c.get('requestId'), method, route, path: c.req.path, status, ms: Math.round(seconds * 1000) }, 'request');
    }
  };
  return async (c, next) => {
    const started = performance.now();
    const traced = tracingEnabled();
    if (traced || verboseLogs) {
      await requestContext.run({ requestId: c.get('requestId') }, () =>
        traced ? trace(`HTTP ${c.req.method}`, { 'http.request.method': c.req.method, 'url.path': c.req.path }, next) : next(),
      );
    } else {
      await next();
    }
    sample(c, (performance.now() - started) / 1000, traced);
  };
}
