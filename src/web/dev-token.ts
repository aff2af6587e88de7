import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { signAccessToken } from '../auth/jwt';
import type { AuthEnv } from '../http/auth';
import { errorResponses, json, Pattern } from '../http/schemas';

/** Long enough for an evening of clicking around, short enough that a leaked one dies. */
const DEV_TOKEN_TTL_SECONDS = 12 * 3600;

const DevTokenBody = z
  .object({
    sub: Pattern(/^[\p{L}\p{N} ._@-]+$/u, 'letters, digits, spaces and . _ @ -')
      .trim()
      .min(1)
      .max(128)
      .openapi({ example: 'alice' }),
    role: z.enum(['buyer', 'organiser']).default('buyer'),
  })
  .strict()
  .openapi('DevTokenRequest');

const DevTokenSchema = z
  .object({
    token: z.string(),
    sub: z.string(),
    role: z.enum(['buyer', 'organiser']),
    expiresAt: z.string(),
  })
  .openapi('DevToken');

/**
 * Development sign-in: any name, either role, no password. Registered only when config
 * says `devRoutes` (development with the development secret; the caller decides), so any
 * other deployment has no such route at all and its identity provider is the only way to
 * get a token.
 */
export function devTokenRoute(app: OpenAPIHono<AuthEnv>, jwtSecret: string): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/dev/token',
      tags: ['development'],
      summary: 'Development only: a token for any name, as buyer or organiser (exists only with NODE_ENV=development and the development JWT secret)',
      request: { body: { content: { 'application/json': { schema: DevTokenBody } }, required: true } },
      responses: { 200: json(DevTokenSchema), ...errorResponses(400, 413) },
    }),
    async (c) => {
      const { sub, role } = c.req.valid('json');
      const token = await signAccessToken(jwtSecret, { sub, admin: role === 'organiser', ttlSeconds: DEV_TOKEN_TTL_SECONDS });
      const expiresAt = new Date(Date.now() + DEV_TOKEN_TTL_SECONDS * 1000).toISOString();
      return c.json({ token, sub, role, expiresAt }, 200);
    },
  );
}
