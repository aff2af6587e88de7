import pino from 'pino';
import { requestContext } from '../telemetry/request-context';
import { activeTraceId } from '../telemetry/trace';

/** JSON logs; every line written while serving a request carries its id (and trace id). */
export function createLogger(level: string, name: string) {
  return pino({
    level,
    name,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const store = requestContext.getStore();
      const traceId = activeTraceId();
      return { ...(store ? { requestId: store.requestId } : {}), ...(traceId ? { traceId } : {}) };
    },
  });
}
