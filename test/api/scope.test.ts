/**
 * Cloud scope (CONTRACT §2): every `/v1/clouds/{cloud}/...` route refuses a cloud outside the
 * token's scope and a token without one; the audit record names subject and scope; token time
 * rules (iat, lifetime, nbf) on both verification paths; 431 for oversized headers; dev-token.
 */
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/routes.js';
import { authorize } from '../../functions/middleware/auth.js';
import type { HttpEvent } from '../../functions/http.js';
import { inScope, principalFromClaims, tokenTimeProblem, type Role } from '../../lib/auth.js';
import { AppError } from '../../lib/errors.js';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, loadOrCreateSecret, mintToken } from '../../local/auth.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';
import { startHarness, type Harness } from '../helpers/local.js';

const ROOT = resolve(import.meta.dirname, '../..');
const A = 'cldrsrc_XXXX';
const B = 'cldrsrc_BBBB';
const seedFor = (cloud: string) => SEED_EXAMPLES.eks.replace(/cldrsrc_XXXX/g, cloud);

let h: Harness;
let secret: Uint8Array;
beforeAll(async () => {
  h = await startHarness();
  secret = loadOrCreateSecret(h.dataDir);
  for (const cloud of [A, B]) expect((await h.api('PUT', `/v1/clouds/${cloud}/iam-mapping`, { body: seedFor(cloud) })).status).toBe(200);
});
afterAll(async () => {
  await h?.stop();
});

const scoped = (role: Role, clouds: string[], subject = `${role}@example.com`) => mintToken(secret, role, subject, { clouds });

/** A token signed like dev tokens, with arbitrary claims (times in seconds). */
function signed(claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const { iat = now, exp = now + 3600, ...rest } = claims;
  const jwt = new SignJWT({ role: 'owner', clouds: ['*'], ...rest })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('t@example.com')
    .setIssuer(LOCAL_ISSUER)
    .setAudience(LOCAL_AUDIENCE);
  if (iat !== null) jwt.setIssuedAt(iat as number);
  if (exp !== null) jwt.setExpirationTime(exp as number);
  return jwt.sign(secret);
}

const cloudRoutes = ROUTES.filter((r) => r.path.includes('{cloud}'));
const pathOf = (path: string, cloud: string) => path.replace('{cloud}', cloud).replace(/\{\w+\}/g, 'x');
const bodyOf = (method: string, path: string, cloud: string) =>
  method === 'PUT'
    ? seedFor(cloud)
    : path.endsWith('/resolve')
      ? { workload_type: 'job', project: 'p', user: 'user2@example.com' }
      : method === 'POST'
        ? {}
        : undefined;

describe('cloud scope on every cloud route', () => {
  it('covers every route with {cloud}', () => {
    expect(cloudRoutes.length).toBeGreaterThanOrEqual(8);
  });

  for (const route of cloudRoutes) {
    it(`${route.method} ${route.path}: another cloud's token → 403, no scope → 403, in scope → not 403`, async () => {
      const path = pathOf(route.path, A);
      const body = bodyOf(route.method, route.path, A);
      const send = (token: string) => h.api(route.method, path, { token, ...(body !== undefined ? { body } : {}) });

      const other = await send(await scoped('owner', [B]));
      expect(other.status, other.text).toBe(403);
      expect(other.json.error.code).toBe('FORBIDDEN');
      expect(other.json.error.message).toContain(`cloud ${A} is outside the cloud scope`);

      const none = await send(await signed({ clouds: undefined }));
      expect(none.status, none.text).toBe(403);
      expect(none.json.error.message).toMatch(/has no cloud scope/);

      const empty = await send(await signed({ clouds: [] }));
      expect(empty.status, empty.text).toBe(403);

      const mine = await send(await scoped('owner', [A, 'cldrsrc_other']));
      expect(mine.status, mine.text).not.toBe(403);
      expect(mine.status).toBeLessThan(500);
    });
  }

  it('an owner token of cloud B cannot write cloud A: nothing stored', async () => {
    const before = await h.api('GET', `/v1/clouds/${A}/iam-mapping/versions`);
    const res = await h.api('PUT', `/v1/clouds/${A}/iam-mapping`, { token: await scoped('owner', [B]), body: seedFor(A).replace('user1@', 'mallory@') });
    expect(res.status).toBe(403);
    const after = await h.api('GET', `/v1/clouds/${A}/iam-mapping/versions`);
    expect(after.json.versions).toEqual(before.json.versions);
  });

  it('a control-plane token of cloud B cannot resolve or read cloud A, and can resolve B', async () => {
    const token = await scoped('control-plane', [B]);
    const launch = { workload_type: 'job', project: 'p', user: 'user2@example.com' };
    expect((await h.api('POST', `/v1/clouds/${A}/iam-mapping/resolve`, { token, body: launch })).status).toBe(403);
    expect((await h.api('GET', `/v1/clouds/${A}/iam-mapping`, { token })).status).toBe(403);
    const ok = await h.api('POST', `/v1/clouds/${B}/iam-mapping/resolve`, { token, body: launch });
    expect(ok.status, ok.text).toBe(200);
  });

  it('the role check still applies inside the scope (viewer of A cannot PUT A)', async () => {
    const res = await h.api('PUT', `/v1/clouds/${A}/iam-mapping`, { token: await scoped('viewer', [A]), body: seedFor(A) });
    expect(res.status).toBe(403);
    expect(res.json.error.message).toContain('may not change the mapping config');
  });

  it('a role this service does not know is named in the 403 (not "no role"); a token without one says it has no role claim', async () => {
    const unknown = await h.api('GET', `/v1/clouds/${A}/iam-mapping`, { token: await signed({ role: 'admin' }) });
    expect(unknown.status).toBe(403);
    expect(unknown.json.error.message).toBe('t@example.com (role "admin" is unknown; the roles are owner, control-plane, viewer) may not read this cloud');
    const none = await h.api('GET', `/v1/clouds/${A}/iam-mapping`, { token: await signed({ role: undefined }) });
    expect(none.status).toBe(403);
    expect(none.json.error.message).toContain('(no "role" claim)');
  });

  it('the audit record of a PUT names the subject and the scope', async () => {
    const token = await scoped('owner', [A], 'alice@example.com');
    const put = await h.api('PUT', `/v1/clouds/${A}/iam-mapping`, { token, body: seedFor(A).replace('user1@', 'user9@') });
    expect(put.status, put.text).toBe(200);
    const versions = await h.api('GET', `/v1/clouds/${A}/iam-mapping/versions`, { token });
    expect(versions.json.versions[0]).toMatchObject({ version: put.json.version, created_by: 'alice@example.com', created_scope: [A] });
  });
});

describe('token time rules (local verifier)', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const get = async (token: string) => h.api('GET', `/v1/clouds/${A}/iam-mapping`, { token });

  it.each([
    ['iat in the future (beyond 60 s)', () => ({ iat: now() + 300, exp: now() + 3600 })],
    ['a 100-year lifetime', () => ({ exp: now() + 100 * 365 * 86400 })],
    ['a lifetime just over 24 h', () => ({ iat: now() - 10, exp: now() + 86400 })],
    ['no iat', () => ({ iat: null })],
    ['nbf in the future', () => ({ nbf: now() + 600 })],
  ])('%s → 401', async (_name, claims) => {
    const res = await get(await signed(claims()));
    expect(res.status, res.text).toBe(401);
    expect(res.json.error.code).toBe('UNAUTHORIZED');
  });

  it.each([
    ['iat within the skew', () => ({ iat: now() + 30 })],
    ['nbf reached', () => ({ nbf: now() - 5 })],
    ['exactly 24 h', () => ({ iat: now(), exp: now() + 86400 })],
  ])('%s → 200', async (_name, claims) => {
    const res = await get(await signed(claims()));
    expect(res.status, res.text).toBe(200);
  });
});

describe('token time rules and scope in the middleware (the deployed path)', () => {
  const now = Math.floor(Date.now() / 1000);
  const run = async (claims: Record<string, unknown>, cloud = A, headers: Record<string, string> = {}) => {
    const event = { headers, pathParameters: { cloud }, requestContext: { authorizer: { jwt: { claims } } } } as unknown as HttpEvent;
    const request = { event, context: {} } as never;
    try {
      await authorize('read').before!(request);
      return 'ok';
    } catch (e) {
      return e instanceof AppError ? `${e.status} ${e.message}` : String(e);
    }
  };
  const base = { sub: 'x', role: 'viewer', clouds: `[${A}]`, iat: now, exp: now + 3600 };

  it('accepts API Gateway flattened list claims', async () => {
    expect(await run(base)).toBe('ok');
    expect(await run({ ...base, clouds: '[cldrsrc_one cldrsrc_XXXX]' })).toBe('ok');
    expect(await run({ ...base, clouds: '[*]' })).toBe('ok');
  });
  it('refuses iat in the future, a long lifetime, nbf in the future', async () => {
    expect(await run({ ...base, iat: now + 600 })).toMatch(/^401 .*issued in the future/);
    expect(await run({ ...base, exp: now + 100 * 365 * 86400 })).toMatch(/^401 .*longer than 24 hours/);
    expect(await run({ ...base, iat: undefined, exp: now + 2 * 86400 })).toMatch(/^401 .*longer than 24 hours/);
    expect(await run({ ...base, nbf: now + 600 })).toMatch(/^401 .*not valid yet/);
  });
  it('refuses another cloud and a missing scope with 403', async () => {
    expect(await run(base, B)).toMatch(/^403 cloud cldrsrc_BBBB is outside the cloud scope/);
    expect(await run({ ...base, clouds: undefined })).toMatch(/^403 .*has no cloud scope/);
  });
  it('the claim name is configurable (CLOUDS_CLAIM) and parsed like the role claim', () => {
    expect(principalFromClaims({ sub: 's', role: 'owner', 'custom:clouds': 'a,b' }, 'role', 'custom:clouds')?.clouds).toEqual(['a', 'b']);
    expect(inScope({ clouds: ['a'] }, 'b')).toBe(false);
    expect(inScope({ clouds: ['*'] }, 'b')).toBe(true);
    expect(inScope({ clouds: [] }, 'b')).toBe(false);
  });
  it('an Authorization value over 8 KiB → 431', async () => {
    expect(await run(base, A, { authorization: `Bearer ${'a'.repeat(9000)}` })).toMatch(/^431 /);
  });
  it('tokenTimeProblem with required claims', () => {
    const now = Math.floor(Date.now() / 1000);
    expect(tokenTimeProblem({ exp: now + 3600 }, { required: true })).toMatch(/no issue time/);
    expect(tokenTimeProblem({ iat: now }, { required: true })).toMatch(/no expiry/);
    expect(tokenTimeProblem({ iat: now, exp: now + 3600 }, { required: true })).toBeNull();
  });
});

describe('431 for oversized headers, with the error body', () => {
  it('an Authorization value over 8 KiB', async () => {
    const res = await h.api('GET', `/v1/clouds/${A}/iam-mapping`, { token: 'a'.repeat(9000) });
    expect(res.status).toBe(431);
    expect(res.json.error.code).toBe('HEADER_TOO_LARGE');
  });

  it("headers over Node's limit (16 KiB): the server's own 431 carries the body too, and it keeps serving", async () => {
    const url = new URL(h.server.url);
    const res = await new Promise<{ status: number; body: string }>((done, fail) => {
      const req = request({ host: url.hostname, port: url.port, path: `/v1/clouds/${A}/iam-mapping`, headers: { 'x-pad': 'p'.repeat(20_000) } }, (r) => {
        let body = '';
        r.on('data', (c) => (body += c));
        r.on('end', () => done({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', fail);
      req.end();
    });
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body).error.code).toBe('HEADER_TOO_LARGE');
    expect((await h.api('GET', '/v1/healthz')).status).toBe(200);
  });
});

describe('dev-token', () => {
  const devToken = (...args: string[]) =>
    promisify(execFile)('npm', ['run', '--silent', 'dev-token', '--', ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: h.dataDir } });

  it('--clouds scopes the token; the server enforces it', async () => {
    const { stdout } = await devToken('owner', '--sub', 'bob@example.com', '--clouds', `${B},cldrsrc_three`);
    const token = stdout.trim();
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ role: 'owner', sub: 'bob@example.com', clouds: [B, 'cldrsrc_three'] });
    expect((claims.exp as number) - (claims.iat as number)).toBe(12 * 3600);
    expect((await h.api('GET', `/v1/clouds/${B}/iam-mapping`, { token })).status).toBe(200);
    expect((await h.api('GET', `/v1/clouds/${A}/iam-mapping`, { token })).status).toBe(403);
  });

  it('defaults to every cloud', async () => {
    const { stdout } = await devToken('viewer');
    expect(decodeJwt(stdout.trim()).clouds).toEqual(['*']);
  });

  it('--help prints the usage, a bad argument fails with it, never a stack trace', async () => {
    const help = await devToken('--help');
    expect(help.stdout).toContain('--clouds');
    const bad = await devToken('owner', '--clouds', 'not a cloud').then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad?.code).toBe(2);
    expect(bad?.stderr).toContain('is not a cloud id');
    expect(bad?.stderr).not.toMatch(/\n\s+at /);
  });
});
