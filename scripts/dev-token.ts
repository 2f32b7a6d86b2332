/**
 * `npm run --silent dev-token -- ROLE [--sub EMAIL] [--clouds ID[,ID...]] [--ttl SECONDS]`:
 * prints (only) a bearer token that a local server started with the same DATA_DIR accepts, also
 * after it restarts. `--clouds` scopes it to those clouds (default `*`, every cloud).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ALL_CLOUDS, MAX_TOKEN_LIFETIME_SECONDS, ROLES, isRole } from '../lib/auth.js';
import { CLOUD_ID } from '../lib/config/constants.js';
import { loadOrCreateSecret, mintToken } from '../local/auth.js';

const USAGE = `usage: npm run --silent dev-token -- ROLE [--sub EMAIL] [--clouds ID[,ID...]] [--ttl SECONDS]
  ROLE       one of: ${ROLES.join(', ')}
  --sub      the token's subject (default ROLE@local.dev)
  --clouds   the clouds the token may touch, comma-separated cloud ids, or * for every cloud (default *)
  --ttl      lifetime in seconds (default 43200 = 12 h, at most ${MAX_TOKEN_LIFETIME_SECONDS})
The token is signed with the secret in DATA_DIR (default .data), so a local server started with
the same DATA_DIR accepts it, also after a restart.`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    allowPositionals: true,
    options: { sub: { type: 'string' }, ttl: { type: 'string' }, clouds: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
}
try {
  parsed = parse();
} catch (e) {
  fail((e as Error).message);
}
const { positionals, values } = parsed;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const role = positionals[0];
if (!role || !isRole(role)) fail(role ? `unknown role ${JSON.stringify(role)}` : 'ROLE is required');
if (positionals.length > 1) fail(`unexpected argument ${JSON.stringify(positionals[1])}`);

const subject = values.sub ?? `${role}@local.dev`;
if (subject.trim() === '') fail('--sub must not be empty');

let ttl: number | undefined;
if (values.ttl !== undefined) {
  ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_LIFETIME_SECONDS)
    fail(`--ttl must be a whole number of seconds from 1 to ${MAX_TOKEN_LIFETIME_SECONDS}`);
}

let clouds = [ALL_CLOUDS];
if (values.clouds !== undefined) {
  clouds = [...new Set(values.clouds.split(',').map((c) => c.trim()))];
  const bad = clouds.find((c) => c !== ALL_CLOUDS && !CLOUD_ID.test(c));
  if (bad !== undefined) fail(`--clouds: ${JSON.stringify(bad)} is not a cloud id (letters, digits, _ and -) or *`);
}

const secret = loadOrCreateSecret(resolve(process.env.DATA_DIR ?? '.data'));
process.stdout.write(`${await mintToken(secret, role, subject, { clouds, ...(ttl !== undefined ? { ttlSeconds: ttl } : {}) })}\n`);
