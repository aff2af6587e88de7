import { loadConfigOrExit } from '../config/load';
import { createSql } from './client';
import { ensureDatabase, migrate } from './migrate';

const config = loadConfigOrExit();
await ensureDatabase(config.db.url);
const sql = createSql({ ...config.db, max: 1, statementTimeoutMs: 600_000 }, { applicationName: 'boxoffice-migrate' });
try {
  const applied = await migrate(sql);
  process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'migrations up to date\n');
} finally {
  await sql.end({ timeout: 5 });
}
