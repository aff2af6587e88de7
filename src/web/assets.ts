import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('./static/', import.meta.url));
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export type Asset = { body: string; type: string };

/**
 * The frontend's files, read once from the repository at start-up: a fixed set, so a request
 * path can never reach another file, and nothing is fetched from outside (works offline).
 */
export function loadAssets() {
  const files = new Map<string, Asset>();
  for (const name of readdirSync(DIR)) {
    const type = TYPES[path.extname(name)];
    if (type) files.set(name, { body: readFileSync(path.join(DIR, name), 'utf8'), type });
  }
  return {
    get: (name: string) => files.get(name),
    url: (name: string) => {
      if (!files.has(name)) throw new Error(`web asset ${name} is missing from ${DIR}`);
      return `/static/${name}`;
    },
  };
}
