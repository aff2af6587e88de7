import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SERVICES = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));

/**
 * A Kafka broker of a test's own (never the shared 9092), started and stopped through the
 * project's script so a test can take the broker away and bring it back.
 */
export function privateBroker(port: number) {
  const services = async (cmd: 'kafka-start' | 'kafka-stop') => {
    await run('bash', [SERVICES, cmd, '--port', String(port)], { timeout: 180_000 });
  };
  if (port === 9092) throw new Error('the shared broker on 9092 is not a test\'s to stop');
  return {
    brokers: `127.0.0.1:${port}`,
    start: () => services('kafka-start'),
    stop: () => services('kafka-stop'),
  };
}
