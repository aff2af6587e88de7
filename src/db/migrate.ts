import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Sql } from './client';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
const NAME = /^(\d{5})_[a-z0-9_]+\.sql$/;

/**
 * Forward-only numbered migrations (00001_name.sql, no gaps), all pending ones applied in
 * one transaction under an advisory lock so several processes may start at once.
 */
export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  files.forEach((f, i) => {
    const m = NAME.exec(f);
    if (!m || Number(m[1]) !== i + 1) throw new Error(`migration ${f}: expected number ${i + 1}`);
  });
  const applied: string[] = [];
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(7346001)`;
    await tx`create table if not exists schema_migrations (
      version integer primary key, name text not null, applied_at timestamptz not null default now())`;
    const done = new Set(
      (await tx<{ version: number }[]>`select version from schema_migrations`).map((r) => r.version),
    );
    for (const [i, f] of files.entries()) {
      if (done.has(i + 1)) continue;
      await tx.unsafe(await readFile(path.join(dir, f), 'utf8'));
      await tx`insert into schema_migrations (version, name) values (${i + 1}, ${f})`;
      applied.push(f);
    }
  });
  return applied;
}

/** Creates the database named in the URL if it does not exist (dev and test convenience). */
export async function ensureDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  u.pathname = '/postgres';
  const { default: postgres } = await import('postgres');
  const admin = postgres(u.toString(), { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`select 1 from pg_database where datname = ${name}`;
    if (!row) await admin.unsafe(`create database "${name.replace(/"/g, '""')}"`);
  } catch (err) {
    // Two processes racing to create it: the loser sees duplicate_database.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await admin.end({ timeout: 2 });
  }
}
