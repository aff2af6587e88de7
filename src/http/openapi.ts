import { STATUS_CODES } from 'node:http';
import { AppError, Errors, OTHER_CODES } from '../shared/errors';
import { HTTP_EXCEPTION_CODES } from './error-boundary';

/* The generated document is walked as plain JSON: its typed shape is @hono/zod-openapi's, and
   this module only adds to it. */
type Json = Record<string, any>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const WRITE_METHODS = new Set(['put', 'post', 'delete', 'patch']);

export type OpenApiFinish = {
  /** Write routes answer 429 (with RateLimit-* headers) only when the limiter is on. */
  rateLimited: boolean;
};

/**
 * Error codes by status, read from the domain factories (called with no arguments: each one
 * still builds its AppError with its fixed code), hono's HTTPException mapping, and the codes
 * raised outside the factories. Values are an example message per code.
 */
export function errorCodesByStatus(): Map<number, Map<string, string>> {
  const byStatus = new Map<number, Map<string, string>>();
  const add = (status: number, code: string, message: string) => {
    if (!byStatus.has(status)) byStatus.set(status, new Map());
    const codes = byStatus.get(status)!;
    if (!codes.has(code)) codes.set(code, message);
  };
  for (const factory of Object.values(Errors) as Array<(...args: unknown[]) => AppError>) {
    const e = factory();
    if (typeof e.code !== 'string') continue; // Errors.conflict: its codes come from OTHER_CODES
    add(e.status, e.code, /undefined/.test(e.message) ? STATUS_CODES[e.status]! : e.message);
  }
  for (const [status, code] of Object.entries(HTTP_EXCEPTION_CODES)) add(Number(status), code, STATUS_CODES[Number(status)]!);
  for (const [status, codes] of Object.entries(OTHER_CODES)) {
    for (const code of codes) add(Number(status), code, STATUS_CODES[Number(status)]!);
  }
  return byStatus;
}

/** get /v1/events/{id}/zones/{zone}/seats -> getEventsByIdZonesByZoneSeats */
export function operationIdFor(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((s) => s && s !== 'v1')
    .map((s) => (s.startsWith('{') ? `by-${s.slice(1, -1)}` : s))
    .flatMap((s) => s.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

const HEADERS: Record<string, Json> = {
  XRequestId: {
    description: 'The request id (the one sent in X-Request-Id, or a new one); logs and traces carry it.',
    schema: { type: 'string' },
  },
  RetryAfter: { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 0 } },
  IdempotentReplayed: {
    description: '"true" when this answer replays the first result of the same Idempotency-Key.',
    schema: { type: 'string', enum: ['true'] },
  },
  RateLimitLimit: { description: 'Writes allowed per window.', schema: { type: 'integer' } },
  RateLimitRemaining: { description: 'Writes left in this window.', schema: { type: 'integer' } },
  RateLimitReset: { description: 'Seconds until the window resets.', schema: { type: 'integer' } },
};

const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': headerRef('RateLimitLimit'),
  'RateLimit-Remaining': headerRef('RateLimitRemaining'),
  'RateLimit-Reset': headerRef('RateLimitReset'),
};

/**
 * Whole-body examples for request schemas whose generated sample would be refused (CreateEvent's
 * per-field times are all the same instant, and sales must open before they close). A test
 * sends every request example in the document to the server.
 */
const BODY_EXAMPLES: Record<string, Json> = {
  CreateEvent: {
    name: 'New Year Night',
    startsAt: '2030-12-31T20:00:00Z',
    salesOpenAt: '2026-01-01T10:00:00Z',
    salesCloseAt: '2030-12-31T19:00:00Z',
    maxSeatsPerUser: 6,
    zones: [
      { code: 'A', name: 'Stalls', priceCents: 4500, kind: 'seated', rows: 20, seatsPerRow: 30 },
      { code: 'GA', name: 'Standing', priceCents: 2500, kind: 'ga', capacity: 500 },
    ],
  },
  PatchEvent: { name: 'New Year Night (late show)', maxSeatsPerUser: 4 },
};

function errorSchema(codes: string[]): Json {
  return {
    type: 'object',
    properties: {
      error: {
        type: 'object',
        properties: {
          code: { type: 'string', enum: codes },
          message: { type: 'string' },
          details: { type: 'object', additionalProperties: {} },
        },
        required: ['code', 'message'],
      },
    },
    required: ['error'],
  };
}

/**
 * Completes the document @hono/zod-openapi generates from the routes so it passes Redocly's
 * recommended rules: servers, explicit `security: []` on public operations, operationIds,
 * error responses with their codes per status, the headers middleware and routes set, and
 * 415 on JSON bodies. Done here once rather than in every route file.
 */
export function finishOpenApiDocument(input: Json, opts: OpenApiFinish): Json {
  const doc: Json = structuredClone(input);
  doc.servers ??= [{ url: '/', description: 'This server' }];
  doc.components ??= {};
  doc.components.headers = { ...HEADERS, ...doc.components.headers };
  doc.components.schemas ??= {};

  for (const [name, example] of Object.entries(BODY_EXAMPLES)) {
    const schema = doc.components.schemas[name];
    if (schema && schema.example === undefined) schema.example = example;
  }

  const codes = errorCodesByStatus();
  const errorContent = (status: number): Json => {
    const known = codes.get(status) ?? new Map([[status < 500 ? 'INVALID_REQUEST' : 'INTERNAL', STATUS_CODES[status]!]]);
    const name = `Error${status}`;
    doc.components.schemas[name] ??= errorSchema([...known.keys()]);
    return {
      'application/json': {
        schema: { $ref: `#/components/schemas/${name}` },
        examples: Object.fromEntries(
          [...known].map(([code, message]) => [code, { summary: code, value: { error: { code, message } } }]),
        ),
      },
    };
  };
  const errorResponse = (status: number): Json => ({ description: STATUS_CODES[status], content: errorContent(status) });

  const taken = new Set<string>();
  const pending: Array<[string, string, Json]> = [];
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op: Json | undefined = item[method];
      if (!op) continue;
      if (op.operationId) taken.add(op.operationId);
      pending.push([method, path, op]);
    }
  }

  for (const [method, path, op] of pending) {
    op.security ??= [];
    if (!op.operationId) {
      const base = operationIdFor(method, path);
      let id = base;
      for (let n = 2; taken.has(id); n++) id = `${base}${n}`;
      taken.add(id);
      op.operationId = id;
    }
    const responses: Json = (op.responses ??= {});
    const write = WRITE_METHODS.has(method) && path.startsWith('/v1/');
    if (op.requestBody?.content?.['application/json'] && !responses['415']) responses['415'] = {};
    if (write && opts.rateLimited && !responses['429']) responses['429'] = {};
    const idempotent = (op.parameters ?? []).some(
      (p: Json) => p.in === 'header' && String(p.name).toLowerCase() === 'idempotency-key',
    );

    for (const [key, res] of Object.entries<Json>(responses)) {
      const status = Number(key);
      if (Number.isInteger(status) && status >= 400) Object.assign(res, errorResponse(status));
      const headers: Json = (res.headers ??= {});
      headers['X-Request-Id'] = headerRef('XRequestId');
      const retries = status === 429 || status === 503 || (status === 409 && idempotent);
      if (retries) headers['Retry-After'] = headerRef('RetryAfter');
      if (idempotent && status >= 200 && status < 300) headers['Idempotent-Replayed'] = headerRef('IdempotentReplayed');
      // The write limiter sets them on its refusal only.
      if (write && opts.rateLimited && status === 429) Object.assign(headers, RATE_LIMIT_HEADERS);
    }
  }
  // The routes' shared Error schema is replaced by the per-status ones above.
  if (doc.components.schemas.Error && !JSON.stringify(doc).includes('"#/components/schemas/Error"')) delete doc.components.schemas.Error;
  return doc;
}
