import postgres from 'postgres';
import { ensureDatabase } from '../src/db/migrate';
import { TEST_DATABASE_URL } from './env';

/**
 * Creates the test database once per run. Each test stack then migrates a schema of its
 * own (test/harness.ts, named t_<epoch seconds>_<random>); schemas left by an interrupted
 * run more than an hour ago are dropped here (younger ones may belong to a run still going).
 */
export default async function setup() {
  await ensureDatabase(TEST_DATABASE_URL);
  const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const schemas = await sql<{ nspname: string }[]>`select nspname from pg_namespace where nspname like 't\\_%'`;
    const cutoff = Date.now() / 1000 - 3600;
    for (const { nspname } of schemas) {
      const born = Number(/^t_(\d+)_/.exec(nspname)?.[1] ?? 0);
      if (born < cutoff) await sql.unsafe(`drop schema if exists "${nspname}" cascade`);
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
