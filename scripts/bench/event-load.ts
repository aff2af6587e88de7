// Time to create (PostgreSQL rows + Redis inventory) events of 1k / 10k / 100k seats.
// Usage: npm run bench:event-load   (uses the boxoffice_bench database and Redis db 3)
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/config';
import { createCore } from '../../src/core';
import { ensureDatabase, migrate } from '../../src/db/migrate';
import { createLogger } from '../../src/shared/logger';

const config = loadConfig({
  ...process.env,
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/boxoffice_bench',
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/3',
  REDIS_PREFIX: `bench${randomUUID().slice(0, 6)}`,
  PG_STATEMENT_TIMEOUT_MS: '60000',
  REBUILD_QUIESCE_MS: '61000',
  RECONCILE_ORPHAN_GRACE_MS: '61000',
});
await ensureDatabase(config.db.url);
const core = createCore(config, createLogger('warn', 'bench'), 'bench');
await migrate(core.sql);

for (const [rows, perRow] of [[20, 50], [100, 100], [200, 500]] as const) {
  const t0 = performance.now();
  const ev = await core.events.create({
    name: `bench ${rows * perRow}`,
    startsAt: new Date(Date.now() + 86_400_000).toISOString(),
    salesOpenAt: new Date().toISOString(),
    holdSeconds: 600,
    maxSeatsPerUser: 6,
    zones: [{ code: 'A', name: 'A', priceCents: 100, kind: 'seated', rows, seatsPerRow: perRow }],
  });
  const ms = performance.now() - t0;
  const avail = await core.events.availability(ev.id);
  console.log(`event with ${(rows * perRow).toLocaleString('en')} seats: created in ${ms.toFixed(0)} ms (PostgreSQL rows + Redis inventory); available=${avail[0]!.available}`);
}
await core.close();
