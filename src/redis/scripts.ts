import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import type { Cluster, Redis } from 'ioredis';
import type { Histogram } from 'prom-client';
import { boundLabels } from '../telemetry/bound-labels';
import { trace, tracingEnabled } from '../telemetry/trace';

export const LUA_DIR = fileURLToPath(new URL('../../lua/', import.meta.url));
const FILE = /^([a-z][a-zA-Z]*)-(\d+)\.lua$/;
const INCLUDE = /^--- @include "([a-zA-Z]+)"$/gm;

/** Splices lua/includes/<name>.lua where a script says `--- @include "<name>"` (shared helpers). */
function withIncludes(lua: string, dir: string): string {
  return lua.replace(INCLUDE, (_, name: string) => readFileSync(path.join(dir, 'includes', `${name}.lua`), 'utf8'));
}

/** Script name (file name without the key count) -> its source and the number of KEYS it declares. */
export type ScriptCatalogue = Map<string, { numberOfKeys: number; lua: string }>;

/** Reads lua/<verb>-<numKeys>.lua, one script per file; a misnamed file is a start-up error. */
export function readScripts(dir = LUA_DIR): ScriptCatalogue {
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.lua'))
      .map((f) => {
        const m = FILE.exec(f);
        if (!m) throw new Error(`lua/${f}: expected <verb>-<numKeys>.lua`);
        return [m[1]!, { numberOfKeys: Number(m[2]), lua: withIncludes(readFileSync(path.join(dir, f), 'utf8'), dir) }] as const;
      }),
  );
}

/** lua/<name>-<numKeys>.lua; wrappers call redis[`bo_${name}`]. */
export type ScriptName = string;
export type Scripts = Record<`bo_${string}`, (...keysAndArgs: (string | number)[]) => Promise<unknown>>;

const CATALOGUE = Symbol('boxoffice.scripts');
const TIMER = Symbol('boxoffice.scriptTimer');
type ScriptTimers = (name: string) => ReturnType<Histogram<'script'>['labels']>;
type WithCatalogue = { [CATALOGUE]?: ScriptCatalogue; [TIMER]?: ScriptTimers };

/** Times every script call on this client into the process's histogram (label sets bound once per script). */
export function observeScripts(redis: Redis, duration: Histogram<'script'>): void {
  const timerOf: ScriptTimers = boundLabels(duration);
  Object.defineProperty(redis, TIMER, { value: timerOf });
}

/** Runs lua/<name>-N.lua by SHA (EVAL on NOSCRIPT); checks the key count against the file name. */
export async function runScript(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
  attributes: Attributes = {},
): Promise<unknown> {
  const def = (redis as WithCatalogue)[CATALOGUE]?.get(name);
  const timer = (redis as WithCatalogue)[TIMER];
  if (!def) throw new Error(`no lua/${name}-N.lua registered on this client`);
  if (keys.length !== def.numberOfKeys) throw new Error(`lua/${name}: expected ${def.numberOfKeys} keys, got ${keys.length}`);
  if (!sameHashTag(keys)) throw new Error(`lua/${name}: keys span hash tags (one Redis Cluster slot needed): ${keys.join(' ')}`);
  const started = performance.now();
  const call = () => (redis as unknown as Scripts)[`bo_${name}`]!(...keys, ...args);
  try {
    // The span's attributes are built only when there is a span to put them on.
    return await (tracingEnabled() ? trace(`redis.lua.${name}`, { 'db.system': 'redis', ...attributes }, call) : call());
  } finally {
    timer?.(name).observe((performance.now() - started) / 1000);
  }
}

/**
 * Registers every script once per client; ioredis runs them by EVALSHA and falls back to
 * EVAL on NOSCRIPT (e.g. after a Redis restart).
 */
export function loadScripts(redis: Redis | Cluster, catalogue: ScriptCatalogue = readScripts()): void {
  for (const [name, def] of catalogue) redis.defineCommand(`bo_${name}`, def);
  Object.defineProperty(redis, CATALOGUE, { value: catalogue });
}

/** Redis Cluster's rule: the first {...} with something inside decides a key's slot. */
export function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

/** Every key names the same hash tag, so a script runs on one slot (and one node). */
export function sameHashTag(keys: string[]): boolean {
  const tag = hashTag(keys[0]!);
  return keys.every((k) => hashTag(k) === tag);
}
