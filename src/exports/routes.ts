import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Core } from '../core';
import type { AuthEnv } from '../http/auth';

/** Admin exports streamed from a PostgreSQL cursor. Filled in by the export work. */
export function exportRoutes(_app: OpenAPIHono<AuthEnv>, _core: Core): void {}
