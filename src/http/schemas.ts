import { z } from '@hono/zod-openapi';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'SEATS_UNAVAILABLE' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi('Error');

/**
 * A string matching `re`, documented with the pattern's source alone: the OpenAPI generator
 * writes a RegExp with its flags (`...$/u`), which no client can compile, and a JSON Schema
 * pattern is ECMA-262 with Unicode semantics anyway (so `\p{L}` keeps its meaning).
 */
export const Pattern = (re: RegExp, message: string) => z.string().regex(re, message).openapi({ pattern: re.source });

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const Uuid = Pattern(UUID, 'must be a UUID').transform((s) => s.toLowerCase());

export const IdParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: 'error', content: { 'application/json': { schema: ErrorSchema } } },
    ]),
  );

export const json = <T extends z.ZodType>(schema: T, description = 'ok') => ({
  description,
  content: { 'application/json': { schema } },
});

/**
 * Text PostgreSQL can store and every reader can show: no NUL (PostgreSQL refuses it, 22021)
 * and well-formed Unicode (a lone surrogate has no UTF-8 form; it would be stored as U+FFFD,
 * so two different inputs would become one value). With the u flag a surrogate class matches
 * only unpaired halves.
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
export const isStorableText = (s: string) => !s.includes('\u0000') && !LONE_SURROGATE.test(s);
export const Text = (min = 0, max = 10_000) =>
  z.string().min(min).max(max).refine(isStorableText, 'must not contain NUL or unpaired surrogates');

/**
 * The range of instants the API takes (UTC, after applying the offset): PostgreSQL has no
 * year 0 and JavaScript writes years past 9999 as +010000, which PostgreSQL cannot parse back.
 */
export const MIN_TIME = Date.UTC(1970, 0, 1);
export const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
export const IsoTime = z.iso
  .datetime({ offset: true })
  .refine((s) => {
    const t = Date.parse(s);
    return t >= MIN_TIME && t <= MAX_TIME;
  }, 'must be between 1970-01-01 and 9999-12-31 (UTC)')
  .openapi({ example: '2026-12-31T20:00:00Z' });
