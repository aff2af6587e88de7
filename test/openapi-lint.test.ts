import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness';

const run = promisify(execFile);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** The served document, linted by the real Redocly CLI with its recommended rules. */
describe('GET /openapi.json', () => {
  let h: Harness;
  let doc: any;
  let dir: string;
  beforeAll(async () => {
    h = await startHarness();
    const res = await h.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
    dir = await mkdtemp(path.join(tmpdir(), 'boxoffice-openapi-'));
  });
  afterAll(async () => {
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('passes Redocly recommended with 0 errors', async () => {
    const file = path.join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(doc, null, 2));
    const bin = path.resolve('node_modules/.bin/redocly');
    // lint exits 1 on errors; the JSON report says which, so read it either way.
    const out = await run(bin, ['lint', '--extends', 'recommended', '--format', 'json', file], { maxBuffer: 16 << 20 }).catch(
      (e: { stdout: string; stderr: string }) => e,
    );
    const report = JSON.parse(out.stdout.slice(out.stdout.indexOf('{')));
    const errors = report.problems.filter((p: { severity: string }) => p.severity === 'error');
    expect(errors.map((p: { ruleId: string; message: string }) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals.errors).toBe(0);
  }, 60_000);

  it('names every operation, and lists the error codes the source raises under their status', async () => {
    const ops = Object.values<any>(doc.paths).flatMap((item) => METHODS.filter((m) => item[m]).map((m) => item[m]));
    expect(ops.length).toBeGreaterThan(10);
    const ids = ops.map((o) => o.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);

    // Every `AppError(status, 'CODE'` and `Errors.conflict('CODE'` in src/ must be in that status's enum.
    const raised: Array<[number, string]> = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) {
          const src = await readFile(p, 'utf8');
          for (const m of src.matchAll(/AppError\(\s*(\d{3}),\s*'([A-Z_]+)'/g)) raised.push([Number(m[1]), m[2]!]);
          for (const m of src.matchAll(/Errors\.conflict\(\s*'([A-Z_]+)'/g)) raised.push([409, m[1]!]);
        }
      }
    };
    await walk(path.resolve('src'));
    expect(raised.length).toBeGreaterThan(10);
    const missing = raised.filter(([s, code]) => !doc.components.schemas[`Error${s}`]?.properties.error.properties.code.enum.includes(code));
    expect(missing).toEqual([]);
  });

  it('documents the headers, 415 on JSON bodies, and explicit security', () => {
    const hold = doc.paths['/v1/events/{id}/reservations'].post;
    expect(Object.keys(hold.responses['201'].headers)).toEqual(
      expect.arrayContaining(['X-Request-Id', 'Idempotent-Replayed']),
    );
    expect(Object.keys(hold.responses['429'].headers)).toEqual(
      expect.arrayContaining(['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']),
    );
    expect(hold.responses['415'].content['application/json'].examples.UNSUPPORTED_MEDIA_TYPE).toBeDefined();
    expect(hold.responses['409'].content['application/json'].examples.SEATS_UNAVAILABLE.value.error.code).toBe('SEATS_UNAVAILABLE');
    expect(doc.paths['/v1/events'].get.security).toEqual([]);
    expect(doc.paths['/v1/events'].get.responses['200'].headers['X-Request-Id']).toBeDefined();
  });

  it('answers 415 as documented to a JSON body sent as text', async () => {
    const res = await h.call('POST', '/v1/admin/events', {
      token: h.adminToken,
      body: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    expect([res.status, res.body?.error?.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });

  it('accepts every request example in the document when sent', async () => {
    const resolve = (schema: any) => (schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema);
    const createExample = resolve(doc.paths['/v1/admin/events'].post.requestBody.content['application/json'].schema).example;
    const created = async (extra: Record<string, unknown>) => {
      const res = await h.call('POST', '/v1/admin/events', { token: h.adminToken, body: { ...createExample, ...extra } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    // A waiting room for the queue's operations; none elsewhere (the example has none), so a
    // hold needs no queue pass.
    const open = await created({});
    const queued = await created({ queue: { enabled: true } });
    const buyer = await h.token(`buyer-${Date.now()}`);

    const tried: string[] = [];
    for (const [template, item] of Object.entries<any>(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const media = op.requestBody?.content?.['application/json'];
        const bodies = [
          ...(media?.example !== undefined ? [media.example] : []),
          ...Object.values<any>(media?.examples ?? {}).map((e) => e.value),
          ...(resolve(media?.schema)?.example !== undefined ? [resolve(media.schema).example] : []),
        ];
        const query = (op.parameters ?? [])
          .filter((p: any) => p.in === 'query' && (p.example ?? p.schema?.example) !== undefined)
          .map((p: any) => `${p.name}=${encodeURIComponent(p.example ?? p.schema.example)}`);
        if (!bodies.length && !query.length) continue;
        const url =
          template.replace('{id}', template.includes('/queue') ? queued : open).replace('{zone}', 'A') +
          (query.length ? `?${query.join('&')}` : '');
        const token = op.security.length ? (template.startsWith('/v1/admin/') ? h.adminToken : buyer) : undefined;
        const headers: Record<string, string> = {};
        if ((op.parameters ?? []).some((p: any) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key')) {
          headers['idempotency-key'] = `example-${tried.length}-${Date.now()}`;
        }
        for (const body of bodies.length ? bodies : [undefined]) {
          const res = await h.call(method.toUpperCase(), url, { token, body, headers });
          tried.push(`${op.operationId} ${res.status}`);
          expect(res.status, `${op.operationId} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`).toBeLessThan(400);
        }
      }
    }
    // CreateEvent, PatchEvent, HoldRequest, QueuePatch and the export's status filter at least.
    expect(tried.length, tried.join(', ')).toBeGreaterThanOrEqual(5);
  });
});
