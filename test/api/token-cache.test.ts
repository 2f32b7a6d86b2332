/**
 * The local token verifier's cache: a repeated token is answered synchronously from memory (the
 * last one by string comparison, others from the Map), each token gets its own claims, and a
 * token that expires while cached is refused on its next use.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCheckingVerifier, mintToken, type Verification } from '../../local/auth.js';

const secret = new TextEncoder().encode('a-test-secret-of-at-least-32-bytes!!');
const bearer = (token: string) => `Bearer ${token}`;

async function settle(v: Verification | Promise<Verification>): Promise<Verification> {
  return v instanceof Promise ? await v : v;
}

describe('local token cache', () => {
  afterEach(() => vi.useRealTimers());

  it('answers a repeated token synchronously with the same claims', async () => {
    const verify = createCheckingVerifier(secret);
    const header = bearer(await mintToken(secret, 'control-plane', 'cp@example.com'));
    const first = await settle(verify(header));
    expect(first.payload?.sub).toBe('cp@example.com');
    // A copy of the header string (a new request's header is a new string): still a hit.
    const again = verify(`${header} `.trimEnd());
    expect(again).not.toBeInstanceOf(Promise);
    expect(again).toBe(first);
  });

  it('keeps tokens apart when requests alternate between them', async () => {
    const verify = createCheckingVerifier(secret);
    const owner = bearer(await mintToken(secret, 'owner', 'owner@example.com'));
    const viewer = bearer(await mintToken(secret, 'viewer', 'viewer@example.com'));
    for (let i = 0; i < 4; i++) {
      expect((await settle(verify(owner))).payload?.role).toBe('owner');
      expect((await settle(verify(viewer))).payload?.role).toBe('viewer');
      expect((await settle(verify(viewer))).payload?.role).toBe('viewer');
    }
  });

  it('refuses a token that expired while it was the last one answered', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-02T08:00:00Z'));
    const verify = createCheckingVerifier(secret);
    const header = bearer(await mintToken(secret, 'control-plane', 'cp@example.com', { ttlSeconds: 60 }));
    expect((await settle(verify(header))).payload).not.toBeNull();
    expect((await settle(verify(header))).payload).not.toBeNull(); // now the last-token fast path
    vi.setSystemTime(new Date('2026-12-02T08:10:00Z'));
    const refused = await settle(verify(header));
    expect(refused.payload).toBeNull();
    expect(refused.reason).toMatch(/expired/);
    expect((await settle(verify(header))).payload).toBeNull(); // and stays refused
  });
});
