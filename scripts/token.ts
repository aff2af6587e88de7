// Prints a development JWT: npm run token -- --sub alice [--admin] [--ttl 3600]
import { parseArgs } from 'node:util';
import { signAccessToken } from '../src/auth/jwt';
import { loadConfigOrExit } from '../src/config/load';

const { values } = parseArgs({
  options: { sub: { type: 'string' }, admin: { type: 'boolean', default: false }, ttl: { type: 'string', default: '3600' } },
});
if (!values.sub) {
  process.stderr.write('usage: npm run token -- --sub <user id> [--admin] [--ttl seconds]\n');
  process.exit(2);
}
const config = loadConfigOrExit();
process.stdout.write(`${await signAccessToken(config.jwtSecret, { sub: values.sub, admin: values.admin, ttlSeconds: Number(values.ttl) })}\n`);
