import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, configDefaults } from '../src/config/config';

const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
/** Table rows whose first cell is one `VARIABLE`: name -> default cell. */
const rows = [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|/gm)].map((m) => [m[1]!, m[2]!.trim()] as const);

describe('docs/configuration.md', () => {
  it('documents every variable the config module reads, once, and no other', () => {
    const names = rows.map(([n]) => n);
    expect(names.length).toBe(new Set(names).size);
    const own = names.filter((n) => !n.startsWith('OTEL_'));
    expect([...own].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('gives each default exactly as the config module does', () => {
    const defaults = configDefaults();
    for (const [name, cell] of rows.filter(([n]) => !n.startsWith('OTEL_'))) {
      const d = defaults[name];
      if (d === undefined || d === '') expect(cell, name).toMatch(/^unset/);
      else expect(cell, name).toBe(`\`${d}\``);
    }
  });

  it('lists the tracing variables the bootstrap reads', () => {
    const register = readFileSync(new URL('../src/telemetry/register.ts', import.meta.url), 'utf8');
    for (const name of new Set([...register.matchAll(/env\.(OTEL_[A-Z_]+)/g)].map((m) => m[1]!))) {
      expect(rows.map(([n]) => n)).toContain(name);
    }
  });
});
