/**
 * `npm run --silent dev-token -- ROLE [--sub EMAIL]`: prints (only) a bearer token that a local
 * server started with the same DATA_DIR accepts, also after it restarts.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROLES, isRole } from '../lib/auth.js';
import { loadOrCreateSecret, mintToken } from '../local/auth.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { sub: { type: 'string' }, ttl: { type: 'string' } },
});
const role = positionals[0];
if (!role || !isRole(role)) {
  console.error(`usage: npm run --silent dev-token -- ROLE [--sub EMAIL] [--ttl SECONDS]\n  ROLE is one of: ${ROLES.join(', ')}`);
  process.exit(2);
}
const subject = values.sub ?? `${role}@local.dev`;
const ttl = values.ttl ? Number(values.ttl) : undefined;
const secret = loadOrCreateSecret(resolve(process.env.DATA_DIR ?? '.data'));
process.stdout.write(`${await mintToken(secret, role, subject, ttl)}\n`);
