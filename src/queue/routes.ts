import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Core } from '../core';
import type { AuthEnv } from '../http/auth';

/** Waiting-room routes (join, snapshot, SSE stream). Filled in by the waiting-room work. */
export function queueRoutes(_app: OpenAPIHono<AuthEnv>, _core: Core): { drain(): Promise<void> } {
  return { drain: async () => {} };
}
