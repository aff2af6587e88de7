import postgres from 'postgres';
import { ensureDatabase, migrate } from '../src/db/migrate';
import type { Sql } from '../src/db/client';
import { TEST_DATABASE_URL } from './env';

/** Creates and migrates the test database once per run. */
export default async function setup() {
  await ensureDatabase(TEST_DATABASE_URL);
  const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} }) as unknown as Sql;
  try {
    await migrate(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
