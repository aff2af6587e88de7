import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config/config';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

/**
 * Renders the production overlay with kustomize (kubectl's built-in one; scripts/ensure-ops-tools.sh
 * makes sure kubectl is there), from a copy whose secrets.env files are the committed examples.
 */
async function renderProduction(): Promise<Manifest[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'boxoffice-k8s-'));
  try {
    cpSync(path.join(ROOT, 'deploy/k8s'), dir, { recursive: true });
    const overlay = path.join(dir, 'overlays/production');
    for (const f of readdirSync(overlay).filter((n) => n.endsWith('.env.example'))) {
      writeFileSync(path.join(overlay, f.replace(/\.example$/, '')), readFileSync(path.join(overlay, f)));
    }
    const { stdout } = await run('kubectl', ['kustomize', overlay], { maxBuffer: 16 * 1024 * 1024 });
    const docs = parseAllDocuments(stdout).map((d) => d.toJS() as Manifest);
    // kustomize wraps long base64 values over lines; the API server's decoder skips line breaks.
    for (const m of docs.filter((x) => x.kind === 'Secret')) {
      for (const k of Object.keys(m.data ?? {})) m.data[k] = String(m.data[k]).replace(/\s+/g, '');
    }
    return docs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The kubernetes-models class for apiVersion/kind: it validates against the API's OpenAPI schema. */
async function modelFor(m: Manifest): Promise<new (data: unknown) => { validate(): void }> {
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : ['', m.apiVersion];
  const mod = await import(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`);
  const Model = mod[m.kind];
  if (!Model) throw new Error(`no schema for ${m.apiVersion} ${m.kind}`);
  return Model;
}

const containersOf = (m: Manifest): any[] => m.spec?.template?.spec?.containers ?? [];

describe('deploy/k8s production overlay', () => {
  let all: Manifest[] = [];
  const one = (kind: string, name: string) => {
    const m = all.find((x) => x.kind === kind && x.metadata.name.startsWith(name));
    if (!m) throw new Error(`${kind} ${name} not rendered`);
    return m;
  };

  beforeAll(async () => {
    all = await renderProduction();
  });

  it('renders every kind the deployment needs', () => {
    const kinds = all.map((m) => `${m.kind}/${m.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`).sort();
    expect(kinds).toEqual(
      [
        'ConfigMap/boxoffice-config',
        'Deployment/boxoffice-api',
        'Deployment/boxoffice-worker',
        'HorizontalPodAutoscaler/boxoffice-api',
        'Job/boxoffice-migrate',
        'Namespace/boxoffice',
        'PodDisruptionBudget/boxoffice-api',
        'Secret/boxoffice-db-direct',
        'Secret/boxoffice-secrets',
        'Service/boxoffice-api',
      ].sort(),
    );
  });

  it('validates every manifest against the Kubernetes API schemas', async () => {
    for (const m of all) {
      const Model = await modelFor(m);
      expect(() => new Model(m).validate(), `${m.kind} ${m.metadata.name}`).not.toThrow();
    }
    // The validator is live: a wrong type is refused.
    const broken = structuredClone(one('Deployment', 'boxoffice-api'));
    broken.spec.template.spec.terminationGracePeriodSeconds = 'thirty';
    const Model = await modelFor(broken);
    expect(() => new Model(broken).validate()).toThrow(/terminationGracePeriodSeconds/);
  });

  it('sets only variables the config module reads, and a configuration it accepts', () => {
    const env: Record<string, string> = {};
    for (const m of all.filter((x) => x.kind === 'ConfigMap' || x.kind === 'Secret')) {
      for (const [k, v] of Object.entries<string>(m.data ?? {})) {
        expect(CONFIG_VARIABLES, `${m.kind} ${m.metadata.name}: ${k}`).toContain(k);
        if (m.metadata.name.startsWith('boxoffice-secrets') || m.kind === 'ConfigMap') {
          env[k] = m.kind === 'Secret' ? Buffer.from(v, 'base64').toString() : v;
        }
      }
    }
    for (const m of all) {
      for (const c of containersOf(m)) {
        for (const e of c.env ?? []) expect(CONFIG_VARIABLES, `${m.metadata.name}: ${e.name}`).toContain(e.name);
      }
    }
    // The example secrets are placeholders the config refuses, so an unfilled Secret never starts.
    expect(() => loadConfig(env)).toThrow(/QUEUE_SECRET/);
    const filled = loadConfig({
      ...env,
      QUEUE_SECRET: 'q'.repeat(32),
      TICKET_SIGNING_KEY: 't'.repeat(43),
      STRIPE_SECRET_KEY: 'sk_live_filled',
      STRIPE_WEBHOOK_SECRET: 'whsec_filled',
    });
    expect(filled.payments.provider).toBe('stripe');
    expect(filled.env).toBe('production');
    // Production signs in through the identity provider only.
    expect(filled.auth.jwks?.issuer).toBeTruthy();
    expect(filled.auth.hs256Secret).toBeUndefined();
  });

  it('probes, drains and sizes the API', () => {
    const api = one('Deployment', 'boxoffice-api');
    const pod = api.spec.template.spec;
    const [c] = containersOf(api);
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    const pause = Number(c.lifecycle.preStop.exec.command.at(-1));
    expect(pause).toBeGreaterThan(0);
    const cfg = one('ConfigMap', 'boxoffice-config').data;
    const shutdownS = Number(cfg.SHUTDOWN_TIMEOUT_MS) / 1000;
    // SIGTERM comes after the pause; the process's own bound must end before the SIGKILL.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(pause + shutdownS);
    expect(c.resources.requests.cpu).toBeTruthy();
    expect(c.resources.requests.memory).toBeTruthy();
    expect(c.resources.limits.memory).toBeTruthy();
    expect(api.spec.replicas).toBeUndefined(); // the HPA owns it
    expect(api.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('wires the HPA, PDB and Service to the API pods and the image to every container', () => {
    const api = one('Deployment', 'boxoffice-api');
    const podLabels = api.spec.template.metadata.labels;
    const hpa = one('HorizontalPodAutoscaler', 'boxoffice-api');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: api.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const pdb = one('PodDisruptionBudget', 'boxoffice-api');
    expect(podLabels).toMatchObject(pdb.spec.selector.matchLabels);
    const svc = one('Service', 'boxoffice-api');
    expect(podLabels).toMatchObject(svc.spec.selector);
    expect(c0(api).ports.map((p: any) => p.name)).toContain(svc.spec.ports[0].targetPort);
    for (const m of all) {
      expect(m.metadata.namespace ?? (m.kind === 'Namespace' ? 'boxoffice' : undefined), `${m.kind} namespace`).toBe('boxoffice');
      for (const c of containersOf(m)) {
        expect(c.image).toMatch(/^[\w.-]+\/boxoffice:[\w.-]+$/);
        // Each command runs a compiled entry point whose source exists.
        const entry = c.command.find((a: string) => a.startsWith('dist/'));
        expect(existsSync(path.join(ROOT, entry.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'))), entry).toBe(true);
        expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      }
      if (m.spec?.template?.spec) expect(m.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    }
  });

  it('migrates and relays (LISTEN) through a direct connection, the API through the pooler', () => {
    const secret = one('Secret', 'boxoffice-db-direct');
    expect(Object.keys(secret.data)).toEqual(['DATABASE_URL']);
    const lastSource = (m: Manifest) => c0(m).envFrom.map((s: any) => (s.secretRef ?? s.configMapRef).name).at(-1);
    expect(lastSource(one('Job', 'boxoffice-migrate'))).toBe(secret.metadata.name); // last source wins
    expect(lastSource(one('Deployment', 'boxoffice-worker'))).toBe(secret.metadata.name);
    expect(lastSource(one('Deployment', 'boxoffice-api'))).toMatch(/^boxoffice-secrets-/);
  });
});

const c0 = (m: Manifest) => containersOf(m)[0];
