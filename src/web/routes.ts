import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Core } from '../core';
import type { AuthEnv } from '../http/auth';

/** The web booking frontend (buyer journey, organiser dashboard) and its development token route. */
export function webRoutes(_app: OpenAPIHono<AuthEnv>, _core: Core): void {}
