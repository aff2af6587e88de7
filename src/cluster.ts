/**
 * npm start's API: API_PROCESSES copies of src/api.ts (default one per core) behind one
 * port with node:cluster (the primary accepts and hands connections round-robin). Each
 * process gets an equal part of API_PG_CONNECTIONS as its pool, so the total stays inside
 * PostgreSQL's max_connections whatever the core count; the start refuses a budget the
 * server cannot hold. SIGTERM/SIGINT stop every process gracefully (each drains its own
 * streams and requests) and the primary exits when the last one has; a process that dies
 * on its own is started again.
 */
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import postgres from 'postgres';
import { loadConfigOrExit } from './config/load';
import type { Config } from './config/config';
import { createLogger } from './shared/logger';

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel, 'api-cluster');
const processes = config.cluster.processes || os.availableParallelism();
const poolMax = poolPerProcess(config, processes);
// Each process also opens the exports' own small pool (PG_EXPORT_POOL_MAX).
await checkConnectionBudget(config, processes * (poolMax + config.db.exportMax));

// Every process runs exactly what `npm run api` runs; only its pool size and inspector
// port differ (9229 for the first, as before, then 9231, 9232, ...; 9230 is the worker's).
const script = new URL('./api.ts', import.meta.url).pathname;
const inspectPort = (i: number) => (i === 0 ? 9229 : 9230 + i);
const slots = new Map<Worker, number>();
let stopping = false;
const started = new Map<number, number>();

function fork(slot: number): void {
  cluster.setupPrimary({
    exec: script,
    // node:cluster appends its own --inspect-port (the primary's + 1) after execArgv; its
    // `inspectPort` setting is what decides the port.
    execArgv: ['--import', 'tsx', '--import', './src/telemetry/register.ts'],
    inspectPort: inspectPort(slot),
  });
  const w = cluster.fork({ PG_POOL_MAX: String(poolMax), API_PROCESS_INDEX: String(slot) });
  slots.set(w, slot);
  started.set(slot, Date.now());
}

cluster.on('exit', (w, code, signal) => {
  const slot = slots.get(w)!;
  slots.delete(w);
  if (stopping) {
    if (slots.size === 0) {
      logger.info('every API process stopped');
      process.exit(0);
    }
    return;
  }
  // Crash loop guard: a process that dies within seconds of its start ends the cluster
  // (bad config, port taken) instead of being restarted forever.
  const ranMs = Date.now() - (started.get(slot) ?? 0);
  logger.error({ slot, code, signal, ranMs }, 'API process exited');
  if (ranMs < 5_000) {
    stopAll('crash-loop', code ?? 1);
    return;
  }
  fork(slot);
});

function stopAll(reason: string, exitCode = 0): void {
  if (stopping) return;
  stopping = true;
  logger.info({ reason, processes: slots.size }, 'stopping API processes');
  for (const w of slots.keys()) w.process.kill('SIGTERM');
  // Each process bounds its own stop by SHUTDOWN_TIMEOUT_MS; this is the backstop.
  setTimeout(() => {
    logger.error('API processes did not stop in time; killing them');
    for (const w of slots.keys()) w.process.kill('SIGKILL');
    process.exit(1);
  }, config.shutdownTimeoutMs + 5_000).unref();
  if (slots.size === 0) process.exit(exitCode);
  if (exitCode) process.exitCode = exitCode;
}
process.on('SIGTERM', () => stopAll('SIGTERM'));
process.on('SIGINT', () => stopAll('SIGINT'));

logger.info({ processes, poolMaxPerProcess: poolMax, port: config.port }, 'starting API processes');
for (let i = 0; i < processes; i++) fork(i);

/** Each process's share of the API's connection budget, never above PG_POOL_MAX. */
function poolPerProcess(c: Config, n: number): number {
  return Math.max(1, Math.min(c.db.max, Math.floor(c.cluster.pgConnections / n)));
}

/**
 * PostgreSQL must hold the API's pools plus what else connects (the worker's pool,
 * migrations, an operator's psql): refuse to start rather than fail under load.
 */
async function checkConnectionBudget(c: Config, apiTotal: number): Promise<void> {
  const sql = postgres(c.db.url, { max: 1, onnotice: () => {}, connect_timeout: c.db.connectTimeoutS });
  try {
    const [row] = await sql<{ max: number; reserved: number }[]>`
      select current_setting('max_connections')::int as max,
             current_setting('superuser_reserved_connections')::int as reserved`;
    const others = c.db.max + c.db.exportMax + 5; // the worker's pools and a few for migrations and operators
    const room = row!.max - row!.reserved - others;
    if (apiTotal > room) {
      logger.fatal({ apiTotal, maxConnections: row!.max, room }, 'API pools would exceed PostgreSQL max_connections: lower API_PG_CONNECTIONS or API_PROCESSES');
      process.exit(78);
    }
  } catch (err) {
    // PostgreSQL down at start: the processes report it on /readyz and retry; do not block.
    logger.warn({ err: (err as Error).message }, 'could not check max_connections');
  } finally {
    await sql.end({ timeout: 1 });
  }
}
