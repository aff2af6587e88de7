import { ConfigError, loadConfig, type Config } from './config';

/** Entry points: a bad configuration lists every problem and exits non-zero. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}
