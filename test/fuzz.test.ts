import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';
import { checkInvariants } from './invariants';

/**
 * Property-based fuzzing of every route in the OpenAPI document against the real app (real
 * PostgreSQL and Redis): requests well-formed and not (wrong types, boundary numbers, long
 * and odd Unicode, missing and extra fields, odd headers and tokens). Properties: never a
 * 5xx, every error in the contract's shape, and the inventory invariants hold afterwards.
 *
 * FUZZ_RUNS sets the number of requests (default 1000, well under a minute on a loaded
 * 2-core machine); e.g. `FUZZ_RUNS=50000 npx vitest run test/fuzz.test.ts` for a long run,
 * FUZZ_SEED to replay a failure.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const MAX_PER_USER = 6;

type Schema = Record<string, any>;
type Op = { method: string; path: string; params: Schema[]; body?: Schema };

let h: Harness;
let ops: Op[];
let components: Record<string, Schema>;
const pool = {
  eventIds: [] as string[],
  reservationIds: [] as string[],
  tickets: [] as string[],
  tokens: [] as string[],
};

beforeAll(async () => {
  // Development mode: the dev token route is part of the document and of the fuzzing.
  h = await startHarness({ NODE_ENV: 'development', RATE_LIMIT_MAX: '0' });
  const open = await h.createEvent({ maxSeatsPerUser: MAX_PER_USER });
  const queued = await h.createEvent({ maxSeatsPerUser: MAX_PER_USER, queue: { enabled: true, admitPerSecond: 1000, passSeconds: 600 } });
  pool.eventIds.push(open.id, queued.id);
  pool.tokens.push(h.adminToken);
  for (let i = 0; i < 4; i++) pool.tokens.push(await h.token(`fuzz-${i}-${randomUUID().slice(0, 6)}`));
  for (const token of pool.tokens.slice(1)) {
    const j = await h.call('POST', `/v1/events/${queued.id}/queue`, { token });
    if (j.body?.ticket) pool.tickets.push(j.body.ticket);
  }
  const doc = (await h.call('GET', '/openapi.json')).body;
  components = doc.components?.schemas ?? {};
  ops = [];
  for (const [path, methods] of Object.entries<Record<string, any>>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(methods)) {
      ops.push({ method: method.toUpperCase(), path, params: op.parameters ?? [], body: op.requestBody?.content?.['application/json']?.schema });
    }
  }
});
afterAll(() => h?.close());

const deref = (s: Schema): Schema => (s?.$ref ? deref(components[s.$ref.split('/').pop()!]!) : s);

// ---- values -------------------------------------------------------------------------------

const oddStrings = fc.constantFrom(
  '', ' ', '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\udbff', '\ud83d\ude00', '‮rtl', 'e\u0301', '\ufeff', '\uffff',
  '%00', '%ff', '../../etc/passwd', "' or 1=1 --", '<script>alert(1)</script>', '=HYPERLINK("x")', '{"$gt":""}',
  'null', 'undefined', 'NaN', '-1', '0', '1e309', 'A-1-1', 'FLOOR', 'A', 'a'.repeat(70), 'x'.repeat(5000), '🎫'.repeat(100),
  '0000-01-01T00:00:00Z', '9999-12-31T23:59:59-23:59', '2026-02-30T00:00:00Z', '2027-01-01T20:00:00Z', '\t=1', '\r\n',
);
const anyString = fc.oneof(oddStrings, fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 300 }));
const boundaryNumbers = fc.constantFrom(0, -0, -1, 1, 1.5, 99, 100, 101, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 1e308, -1e308, 5e-324, 86_400, 86_401, 100_000_000);
const junk: fc.Arbitrary<unknown> = fc.oneof(
  anyString,
  boundaryNumbers,
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(anyString, { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), anyString, { maxKeys: 3 }),
);

const known = () => fc.constantFrom(...pool.eventIds, ...pool.reservationIds.slice(-20), randomUUID());

/** Values drawn from a JSON Schema, mostly valid, sometimes not. */
function fromSchema(raw: Schema, depth = 0): fc.Arbitrary<unknown> {
  const s = deref(raw);
  if (!s || depth > 6) return junk;
  let arb: fc.Arbitrary<unknown>;
  if (s.enum) arb = fc.constantFrom(...s.enum);
  else if (s.oneOf || s.anyOf) arb = fc.oneof(...(s.oneOf ?? s.anyOf).map((x: Schema) => fromSchema(x, depth + 1)));
  else if (s.type === 'object' || s.properties) {
    const props = Object.entries<Schema>(s.properties ?? {});
    const required = new Set<string>(s.required ?? []);
    arb = fc
      .record(
        Object.fromEntries(props.map(([k, v]) => [k, fromSchema(v, depth + 1)])),
        { requiredKeys: props.map(([k]) => k).filter((k) => required.has(k) && Math.random() < 0.98) },
      )
      .chain((o) =>
        fc.oneof(
          { weight: 8, arbitrary: fc.constant(o) },
          // an extra field
          { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), junk).map(([k, v]) => ({ ...o, [k || 'extra']: v })) },
        ),
      );
  } else if (s.type === 'array') {
    arb = fc.array(fromSchema(s.items ?? {}, depth + 1), { maxLength: Math.min(s.maxItems ?? 8, 12) });
  } else if (s.type === 'integer' || s.type === 'number') {
    const lo = s.minimum ?? -1_000;
    const hi = s.maximum ?? 1_000_000;
    arb = fc.oneof(fc.integer({ min: Math.max(lo, -(2 ** 31)), max: Math.min(hi, 2 ** 31) }), fc.constantFrom(lo, hi, lo - 1, hi + 1), boundaryNumbers);
  } else if (s.type === 'boolean') arb = fc.boolean();
  else if (s.type === 'string') {
    const examples: unknown[] = [s.example, s.default].filter((x) => x !== undefined);
    arb = fc.oneof(
      ...(examples.length ? [fc.constantFrom(...examples)] : []),
      fc.constantFrom('A-1-1', 'A-2-3', 'A-10-10', 'FLOOR', 'A', 'alice', new Date(Date.now() + 86_400_000).toISOString(), new Date().toISOString()),
      anyString,
    );
  } else arb = junk;
  // Sometimes the wrong type altogether.
  return fc.oneof({ weight: 9, arbitrary: arb }, { weight: 1, arbitrary: junk });
}

function pathValue(name: string): fc.Arbitrary<string> {
  if (name === 'id') return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(pool.eventIds[0]!) }, { weight: 6, arbitrary: known() }, { weight: 1, arbitrary: fc.constantFrom(randomUUID().toUpperCase(), 'not-a-uuid', '0', '') }, { weight: 1, arbitrary: anyString });
  if (name === 'zone') return fc.oneof(fc.constantFrom('A', 'FLOOR', 'a', 'NOPE'), anyString);
  return anyString;
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));

function encodeSegment(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%ED%A0%80'; // a lone surrogate has no UTF-8: its CESU bytes instead
  }
}

const headerValue = fc.oneof(
  fc.constantFrom('', ' ', 'x', 'k'.repeat(300), '\u00ff\u00fe', 'admitted', '../', 'gzip, deflate, br'),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c === 0x7f ? 0x20 : c)), maxLength: 60 }),
);

const authHeader = () =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: fc.constantFrom(...pool.tokens.map((t) => `Bearer ${t}`)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('bearer', 'BEARER', 'Bearer', 'Basic', ''), fc.constantFrom(' ', '  ', '\t'), fc.constantFrom(...pool.tokens, 'not.a.jwt', ''))
        .map(([s, sp, t]) => `${s}${sp}${t}`),
    },
    { weight: 1, arbitrary: headerValue },
  );

/** Well-formed bodies for the routes whose schemas alone rarely produce one (with odd strings mixed in). */
function wellFormed(op: Op): fc.Arbitrary<unknown> | null {
  const seat = fc.tuple(fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 10 })).map(([r, n]) => `A-${r}-${n}`);
  if (op.method === 'POST' && op.path === '/v1/events/{id}/reservations') {
    return fc.oneof(
      fc.record({ seats: fc.uniqueArray(seat, { minLength: 1, maxLength: 4 }) }),
      fc.record({ zone: fc.constantFrom('FLOOR', 'A', 'floor'), quantity: fc.integer({ min: 0, max: 8 }) }),
    );
  }
  if (op.method === 'POST' && op.path === '/v1/admin/events') {
    const t = (d: number) => new Date(Date.now() + d).toISOString();
    return fc.record({
      name: fc.oneof(fc.constantFrom('Fuzz Night'), anyString),
      startsAt: fc.oneof(fc.constant(t(86_400_000)), oddStrings),
      salesOpenAt: fc.oneof(fc.constant(t(-60_000)), oddStrings),
      maxSeatsPerUser: fc.integer({ min: 1, max: 6 }),
      zones: fc.constant([
        { code: 'A', name: 'Block A', priceCents: 100, kind: 'seated', rows: 3, seatsPerRow: 3 },
        { code: 'FLOOR', name: 'Floor', priceCents: 100, kind: 'ga', capacity: 10 },
      ]),
    });
  }
  if (op.method === 'POST' && op.path.endsWith('/confirm')) return fc.record({ paymentRef: anyString }, { requiredKeys: [] });
  if (op.method === 'PATCH') return fc.record({ paused: fc.boolean(), admitPerSecond: fc.integer({ min: 0, max: 100_001 }) }, { requiredKeys: [] });
  return null;
}

type FuzzRequest = { method: string; url: string; headers: Record<string, string>; body?: string | Uint8Array };

function requestFor(op: Op): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const query = op.params.filter((p) => p.in === 'query');
  const headerParams = op.params.filter((p) => p.in === 'header');
  return fc
    .record({
      path: fc.tuple(...pathParams.map((p) => pathValue(p.name))),
      query: fc.tuple(
        ...query.map((p) =>
          fc.option(
            p.name === 'ticket' && pool.tickets.length
              ? fc.oneof(fc.constantFrom(...pool.tickets), anyString)
              : fc.oneof(fromSchema(p.schema ?? {}).map(asText), anyString),
            { freq: 4 },
          ),
        ),
      ),
      // Mostly absent or well-formed, so holds get through often enough to move the inventory.
      headers: fc.tuple(
        ...headerParams.map(() =>
          fc.oneof(
            { weight: 5, arbitrary: fc.constant(null) },
            { weight: 3, arbitrary: fc.uuid().map((u) => `key-${u}`) },
            { weight: 2, arbitrary: headerValue },
          ),
        ),
      ),
      auth: authHeader(),
      contentType: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
        { weight: 2, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/merge-patch+json', undefined) },
      ),
      accept: fc.constantFrom(undefined, 'application/json', 'text/html', '*/*'),
      encoding: fc.constantFrom(undefined, 'gzip', 'identity, *;q=0'),
      body: op.body
        ? fc.oneof(
            { weight: 5, arbitrary: fromSchema(op.body).map((v) => JSON.stringify(v)) },
            { weight: wellFormed(op) ? 5 : 0, arbitrary: (wellFormed(op) ?? fc.constant({})).map((v) => JSON.stringify(v)) },
            { weight: 1, arbitrary: fc.constantFrom('{', '[1,2]', 'null', '"x"', '{"a":1,"a":2}', '') },
            { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
          )
        : fc.option(fc.constantFrom('{}', 'x'), { freq: 5 }),
    })
    .map((r) => {
      let url = op.path;
      pathParams.forEach((p, i) => (url = url.replace(`{${p.name}}`, encodeSegment(r.path[i]!))));
      const qs = query.flatMap((p, i) => (r.query[i] === null ? [] : [`${p.name}=${encodeSegment(r.query[i] as string)}`]));
      if (qs.length) url += `?${qs.join('&')}`;
      const headers: Record<string, string> = {};
      headerParams.forEach((p, i) => {
        if (r.headers[i] !== null) headers[p.name] = r.headers[i]!;
      });
      if (r.auth !== undefined) headers.authorization = r.auth;
      if (r.accept) headers.accept = r.accept;
      if (r.encoding) headers['accept-encoding'] = r.encoding;
      const hasBody = r.body !== null && r.body !== undefined && op.method !== 'GET';
      if (hasBody && r.contentType) headers['content-type'] = r.contentType;
      return { method: op.method, url, headers, body: hasBody ? (r.body as string | Uint8Array) : undefined };
    });
}

async function send(req: FuzzRequest) {
  const res = await h.app.request(req.url, { method: req.method, headers: req.headers, body: req.body });
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, type, text: '' };
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  // app.request() hands over the bytes as sent: undo gzip the way a client would.
  const plain = res.headers.get('content-encoding') === 'gzip' ? gunzipSync(bytes) : bytes;
  return { status: res.status, type, text: type.includes('json') ? plain.toString('utf8') : '' };
}

function remember(req: FuzzRequest, status: number, text: string) {
  if (status !== 201 && status !== 200) return;
  try {
    const body = JSON.parse(text);
    if (req.url.includes('/reservations') && typeof body?.id === 'string' && body.status === 'held') pool.reservationIds.push(body.id);
    if (req.url.startsWith('/v1/admin/events') && req.method === 'POST' && typeof body?.id === 'string') pool.eventIds.push(body.id);
  } catch {
    /* not JSON */
  }
}

it(`fuzz: ${RUNS} requests over every route of the OpenAPI document: no 5xx, errors in the error shape, invariants hold`, async () => {
  expect(ops.length).toBeGreaterThan(15);
  const seen = new Map<string, Set<number>>();
  const anyOp = fc.constantFrom(...ops).chain((op) => requestFor(op).map((r) => ({ op, r })));
  await fc.assert(
    fc.asyncProperty(anyOp, async ({ op, r }) => {
      const res = await send(r);
      const key = `${op.method} ${op.path}`;
      if (!seen.has(key)) seen.set(key, new Set());
      seen.get(key)!.add(res.status);
      const where = `${r.method} ${r.url} -> ${res.status} ${res.text.slice(0, 300)}`;
      expect(res.status, where).toBeLessThan(500);
      if (res.status >= 400 && !res.type.startsWith('text/html')) {
        expect(res.type, where).toMatch(/^application\/json/);
        const body = JSON.parse(res.text);
        expect(Object.keys(body), where).toEqual(['error']);
        expect(typeof body.error.code, where).toBe('string');
        expect(typeof body.error.message, where).toBe('string');
        expect(res.text, where).not.toMatch(/\bat .*\.ts:\d+/);
      }
      remember(r, res.status, res.text);
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );

  // Every route was reached; most also answered something other than an error.
  expect([...seen.keys()].sort()).toEqual(ops.map((o) => `${o.method} ${o.path}`).sort());
  console.log(
    [...seen].map(([k, s]) => `${k}: ${[...s].sort().join(',')}`).join('\n'),
  );

  for (const eventId of pool.eventIds) {
    const ev = await h.call('GET', `/v1/events/${eventId}`);
    const inv = await checkInvariants(h, eventId, { maxPerUser: ev.body.maxSeatsPerUser ?? MAX_PER_USER });
    expect(inv.dupSeats, eventId).toEqual([]);
    expect(inv.liveFlagMismatch, eventId).toEqual([]);
    expect(inv.overLimit, eventId).toEqual([]);
    expect(inv.seatDisagreements, eventId).toEqual([]);
    for (const z of inv.zones) {
      const pg = inv.perZone.find((p) => p.zone_code === z.code) ?? { held: 0, sold: 0 };
      expect([z.held, z.sold], `${eventId} ${z.code}`).toEqual([pg.held, pg.sold]);
      expect(z.available + z.held + z.sold, `${eventId} ${z.code}`).toBe(z.capacity);
    }
  }
});
