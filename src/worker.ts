// Placeholder until the seat-release worker and outbox relay land (issue 4).
import { loadConfigOrExit } from './config/load';
import { createLogger } from './shared/logger';
import { onShutdown } from './shared/shutdown';

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel, 'worker');
logger.info('worker started');
const keepAlive = setInterval(() => {}, 1 << 30);
onShutdown(logger, config.shutdownTimeoutMs, async () => clearInterval(keepAlive));
