import postgres from 'postgres';
import { ensureDatabase } from '../src/db/migrate';
import { TEST_DATABASE_URL } from './env';

/**
 * Creates the test database once per run. Each test stack then migrates a schema of its
 * own (test/harness.ts); schemas left by an interrupted run are dropped here.
 */
export default async function setup() {
  await ensureDatabase(TEST_DATABASE_URL);
  const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const stale = await sql<{ nspname: string }[]>`select nspname from pg_namespace where nspname like 't\_%'`;
    for (const { nspname } of stale) await sql.unsafe(`drop schema if exists "${nspname}" cascade`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
