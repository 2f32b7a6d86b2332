/** Locally, a refused token says why (in the 401's details); `GET /` leads to the console. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, loadOrCreateSecret, mintToken } from '../../local/auth.js';
import { startHarness, type Harness } from '../helpers/local.js';

let h: Harness;
let secret: Uint8Array;
beforeAll(async () => {
  h = await startHarness();
  secret = loadOrCreateSecret(h.dataDir);
});
afterAll(async () => {
  await h?.stop();
});

const sign = (build: (j: SignJWT) => SignJWT, key = secret) =>
  build(
    new SignJWT({ role: 'owner', email: 'o@example.com' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('o@example.com')
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setIssuedAt(),
  ).sign(key);

async function refusal(token: string | null) {
  const res = await h.api('GET', '/v1/clouds', token === null ? { role: null } : { token });
  expect(res.status).toBe(401);
  expect(res.json.error).toMatchObject({ code: 'UNAUTHORIZED', message: 'a valid bearer token is required' });
  expect(res.json.error.details).toHaveLength(1);
  expect(res.json.error.details[0].path).toBe('Authorization');
  return String(res.json.error.details[0].message);
}

describe('why a token was refused', () => {
  it('missing, malformed, bad signature (another DATA_DIR), expired, not yet valid, wrong audience', async () => {
    expect(await refusal(null)).toContain('no Authorization header');
    expect(await refusal('not-a-jwt')).toContain('malformed token');
    const otherDir = mkdtempSync(join(tmpdir(), 'iam-mapping-other-'));
    try {
      const foreign = await mintToken(loadOrCreateSecret(otherDir), 'owner', 'o@example.com');
      expect(await refusal(foreign)).toContain('bad signature');
      expect(await refusal(foreign)).toContain('another DATA_DIR');
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
    const now = Math.floor(Date.now() / 1000);
    expect(await refusal(await sign((j) => j.setIssuedAt(now - 13 * 3600).setExpirationTime(now - 3600)))).toMatch(/^expired at .*12 hours/);
    expect(await refusal(await sign((j) => j.setNotBefore(now + 3600).setExpirationTime(now + 7200)))).toContain('not yet valid');
    expect(await refusal(await sign((j) => j.setAudience('someone-else').setExpirationTime(now + 60)))).toContain('wrong audience');
  });

  it('a good token still passes', async () => {
    expect((await h.api('GET', '/v1/clouds')).status).toBe(200);
  });

  it('GET / redirects to the console', async () => {
    const res = await fetch(`${h.server.url}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/console/');
  });
});
