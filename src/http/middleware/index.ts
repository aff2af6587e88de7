import type { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Config } from '../../config/config';
import { writeRateLimit, type Identify } from '../rate-limit';
import { strictUtf8Body } from '../strict-utf8';
import { bodyLimit } from './body-limit';
import { connectionHygiene } from './connection';
import { deadline } from './deadline';
import { observe } from './observe';
import { requestId } from './request-id';

/**
 * The middleware every request passes, in order. Each piece does nothing it does not
 * have to: no span or context switch with tracing off, no body stream for a declared
 * length, no rate-limit work on reads.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function useMiddleware(
  app: Hono<any>,
  config: Pick<Config, 'logLevel' | 'bodyLimitBytes' | 'requestTimeoutMs' | 'rateLimit' | 'accessLogSample'>,
  o: { histogram: Parameters<typeof observe>[0]['histogram']; logger: Logger; identify: Identify },
): void {
  app.use(connectionHygiene());
  app.use(requestId());
  app.use(observe({ logLevel: config.logLevel, accessLogSample: config.accessLogSample, histogram: o.histogram, logger: o.logger }));
  app.use('/v1/*', bodyLimit(config.bodyLimitBytes));
  app.use('/v1/*', strictUtf8Body);
  app.use('/v1/*', deadline(config.requestTimeoutMs, (path) => path.endsWith('/queue/stream')));
  app.use('/v1/*', writeRateLimit(config.rateLimit, o.identify));
}
