/** The authorization matrix of CONTRACT §2 for every route × role, and forged tokens → 401. */
import { request } from 'node:http';
import { connect } from 'node:net';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../lib/auth.js';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, loadOrCreateSecret } from '../../local/auth.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';
import { startHarness, type Harness } from '../helpers/local.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  expect((await h.api('PUT', '/v1/clouds/cldrsrc_XXXX/iam-mapping', { body: SEED_EXAMPLES.eks })).status).toBe(200);
});
afterAll(async () => {
  await h?.stop();
});

type Caller = Role | null;
const ALL: Caller[] = ['owner', 'control-plane', 'viewer', null];
const base = '/v1/clouds/cldrsrc_XXXX/iam-mapping';
const launch = { workload_type: 'job', project: 'p', user: 'user2@example.com' };

const matrix: Array<{ method: string; path: string; body?: unknown; allowed: Caller[] }> = [
  { method: 'GET', path: '/v1/healthz', allowed: ALL },
  { method: 'PUT', path: base, body: SEED_EXAMPLES.eks, allowed: ['owner'] },
  { method: 'GET', path: base, allowed: ['owner', 'control-plane', 'viewer'] },
  { method: 'GET', path: `${base}/versions`, allowed: ['owner', 'control-plane', 'viewer'] },
  { method: 'POST', path: `${base}/resolve`, body: launch, allowed: ['owner', 'control-plane'] },
];

describe('authorization matrix', () => {
  for (const route of matrix) {
    for (const caller of ALL) {
      const expected = route.allowed.includes(caller) ? 200 : caller === null ? 401 : 403;
      it(`${route.method} ${route.path} as ${caller ?? 'anonymous'} → ${expected}`, async () => {
        const res = await h.api(route.method, route.path, { role: caller, ...(route.body !== undefined ? { body: route.body } : {}) });
        expect(res.status, res.text).toBe(expected);
        if (expected !== 200) expect(res.json.error.code).toBe(expected === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN');
      });
    }
  }
});

describe('forged and broken tokens → 401', () => {
  const sign = (secret: Uint8Array, claims: { iss?: string; aud?: string; exp?: number | string } = {}) =>
    new SignJWT({ role: 'owner' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory@example.com')
      .setIssuer(claims.iss ?? LOCAL_ISSUER)
      .setAudience(claims.aud ?? LOCAL_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? '1h')
      .sign(secret);

  it.each([
    ['a wrong signature', async () => sign(new TextEncoder().encode('not-the-secret-not-the-secret-xx'))],
    [
      'alg: none',
      async () =>
        new UnsecuredJWT({ role: 'owner' }).setSubject('m@example.com').setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).setExpirationTime('1h').encode(),
    ],
    ['an expired token', async () => sign(loadOrCreateSecret(h.dataDir), { exp: Math.floor(Date.now() / 1000) - 60 })],
    ['a wrong audience', async () => sign(loadOrCreateSecret(h.dataDir), { aud: 'someone-else' })],
    ['a wrong issuer', async () => sign(loadOrCreateSecret(h.dataDir), { iss: 'https://evil.example.com/' })],
    ['garbage', async () => 'not.a.token'],
  ])('%s', async (_name, make) => {
    const res = await h.api('PUT', base, { token: await make(), body: SEED_EXAMPLES.eks });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('UNAUTHORIZED');
  });

  it('two Authorization headers → 401 naming the header, even when both are valid (Node would keep the first)', async () => {
    const viewer = `Bearer ${await h.token('viewer')}`;
    const owner = `Bearer ${await h.token('owner')}`;
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${h.server.url}${base}`,
        { method: 'GET', headers: ['Host', '127.0.0.1', 'Authorization', owner, 'Authorization', viewer] },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(401);
    const { error } = JSON.parse(answer.body);
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.details).toEqual([{ path: 'Authorization', message: expect.stringMatching(/^2 Authorization headers/) }]);
    expect((await h.api('GET', base, { role: 'viewer' })).status).toBe(200); // one is fine
  });

  it('a token from dev-token keeps working after a restart (secret kept in DATA_DIR)', async () => {
    const token = await h.token('viewer', 'v@example.com');
    await h.restart();
    expect((await h.api('GET', base, { token })).status).toBe(200);
  });
});

describe('routing', () => {
  it('unknown route → 404, wrong method → 405, both with the error body', async () => {
    const missing = await h.api('GET', '/v1/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('NOT_FOUND');
    const wrong = await h.api('DELETE', base);
    expect(wrong.status).toBe(405);
    expect(wrong.json.error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it("a 405 carries Allow with the path's methods from the route table (HEAD with GET)", async () => {
    const config = await h.api('DELETE', base);
    expect(config.status).toBe(405);
    expect(config.headers.get('allow')).toBe('PUT, GET, HEAD');
    const resolve = await h.api('GET', `${base}/resolve`);
    expect([resolve.status, resolve.headers.get('allow')]).toEqual([405, 'POST']);
    const binding = await h.api('HEAD', `${base}/bindings/c1`);
    expect([binding.status, binding.headers.get('allow')]).toEqual([405, 'DELETE']);
    const options = await h.api('OPTIONS', '/v1/healthz', { role: null });
    expect([options.status, options.headers.get('allow'), options.json.error.code]).toEqual([405, 'GET, HEAD', 'METHOD_NOT_ALLOWED']);
  });

  it('HEAD on a GET route answers as GET without a body', async () => {
    const get = await h.api('GET', base, { role: 'viewer' });
    const head = await h.api('HEAD', base, { role: 'viewer' });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'));
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(get.text)));
    expect((await h.api('HEAD', base, { role: null })).status).toBe(401);
    expect((await h.api('HEAD', '/v1/healthz', { role: null })).status).toBe(200);
  });

  it('CONNECT → 405 with the error body, then the connection closes', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(h.server.port, '127.0.0.1', () => socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    expect(answer).toMatch(/\r\nAllow: ?\r\n/i);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.code).toBe('METHOD_NOT_ALLOWED');
  });
});
