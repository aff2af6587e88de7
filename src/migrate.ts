import { loadConfigOrExit } from './config/load';
import { createSql } from './db/client';
import { ensureDatabase, migrate } from './db/migrate';

const config = loadConfigOrExit();
await ensureDatabase(config.db.url);
if (config.db.schema) {
  const admin = createSql({ ...config.db, schema: undefined, max: 1 });
  await admin.unsafe(`create schema if not exists "${config.db.schema}"`);
  await admin.end({ timeout: 5 });
}
const sql = createSql({ ...config.db, max: 1, statementTimeoutMs: 600_000 }, { applicationName: 'boxoffice-migrate' });
try {
  const applied = await migrate(sql);
  process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'migrations up to date\n');
} finally {
  await sql.end({ timeout: 5 });
}
