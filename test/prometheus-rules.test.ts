import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createApiMetrics, createConsumerMetrics, createWorkerMetrics } from '../src/telemetry/metrics';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROM = path.join(ROOT, 'deploy/prometheus');
const run = promisify(execFile);
const RULE_FILES = ['recording.rules.yml', 'alerts.rules.yml'].map((f) => path.join(PROM, f));

type Rule = { record?: string; alert?: string; expr: string };
const rules: Rule[] = RULE_FILES.flatMap((f) => (parse(readFileSync(f, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules));
const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'deploy/grafana/on-sale.json'), 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};
const panelExprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ title: p.title, expr: t.expr })));

/** Every series a boxoffice process exports, histograms with their _bucket/_count/_sum. */
async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of [createApiMetrics(), createWorkerMetrics(), createConsumerMetrics()]) {
    for (const metric of await m.registry.getMetricsAsJSON()) {
      names.add(metric.name);
      if (String(metric.type) === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(metric.name + s);
    }
  }
  return names;
}
// Raw series stand alone; recorded ones carry colons (level:metric:operations).
const seriesIn = (expr: string) => [...expr.matchAll(/(?<![\w:])(boxoffice_[a-z0-9_]+)(?![\w:])/g)].map((m) => m[1]!);
const recordsIn = (expr: string) => [...expr.matchAll(/(?<![\w:])([a-z][a-z0-9_]*:[a-z0-9_:]*[a-z0-9_])(?![\w:])/g)].map((m) => m[1]!);

describe('Prometheus rules (deploy/prometheus)', () => {
  it('pass promtool check rules', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', ...RULE_FILES]);
    expect(stdout).toMatch(/SUCCESS: 10 rules found[\s\S]*SUCCESS: 8 rules found/);
  });

  it('pass their promtool unit tests (alerts fire when they should and stay quiet otherwise)', async () => {
    const { stdout } = await run('promtool', ['test', 'rules', path.join(PROM, 'tests/alerts.test.yml')]);
    expect(stdout).toMatch(/SUCCESS/);
  });

  it('and the dashboard use only series the processes export and rules that are recorded', async () => {
    const exported = await exportedNames();
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    for (const { expr } of [...rules, ...panelExprs]) {
      for (const name of seriesIn(expr)) expect(exported, `${name} in ${expr}`).toContain(name);
      for (const name of recordsIn(expr)) expect(recorded, `${name} in ${expr}`).toContain(name);
    }
  });
});

describe('Grafana dashboard (deploy/grafana/on-sale.json)', () => {
  it('covers the on-sale night', () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const topic of ['admission', 'queue length', 'holds and rejections', 'p99', 'pool saturation', 'outbox age', 'consumer lag']) {
      expect(titles).toContain(topic);
    }
  });

  it('has queries that parse as PromQL', async () => {
    // promtool parses each expression when it checks a rule file made of them.
    const dir = mkdtempSync(path.join(tmpdir(), 'boxoffice-dash-'));
    try {
      const file = path.join(dir, 'dashboard.rules.yml');
      const asRules = panelExprs.map((p, i) => ({ record: `dashboard:panel_${i}:check`, expr: p.expr.replaceAll('$event', '.*') }));
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: asRules }] }));
      const { stdout } = await run('promtool', ['check', 'rules', file]);
      expect(stdout).toContain(`SUCCESS: ${asRules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
