/**
 * The Google Cloud adapter's account listing and deletion (adapters/gcp/google.ts) against the
 * sandbox's IAM v1 REST API, through Google's own client: IAM's pages are followed to the end, a
 * delete of an absent account answers false, and a project the caller may not list is an
 * AccessDeniedError (lib/target-errors.ts).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGcpTargets } from '../../adapters/gcp/google.js';
import { isTargetError } from '../../lib/target-errors.js';
import { startSandboxServer, type SandboxServer } from '../../local/sandbox/index.js';
import { PROJECT } from '../sandbox/gcp-helpers.js';

let server: SandboxServer;
beforeAll(async () => {
  server = await startSandboxServer({ port: 0 });
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.sandbox.reset();
  server.sandbox.setFaults(undefined);
});

describe('GcpPort.listServiceAccounts / deleteServiceAccount (Google adapter, sandbox mode)', () => {
  it('follows nextPageToken: 230 accounts come back once each, in three or more pages', async () => {
    const gcp = createGcpTargets({ mode: 'sandbox', sandboxUrl: server.url });
    const before = (await gcp.listServiceAccounts(PROJECT)).length;
    for (let i = 0; i < 230; i++) server.sandbox.gcp.addServiceAccount({ email: `paged-${String(i).padStart(3, '0')}@${PROJECT}.iam.gserviceaccount.com` });
    const since = server.sandbox.calls.filter({ service: 'gcp', action: 'iam.serviceAccounts.list' }).length;
    const all = await gcp.listServiceAccounts(PROJECT);
    expect(all).toHaveLength(before + 230);
    expect(new Set(all.map((a) => a.email)).size).toBe(all.length);
    expect(all.filter((a) => a.email.startsWith('paged-'))).toHaveLength(230);
    expect(server.sandbox.calls.filter({ service: 'gcp', action: 'iam.serviceAccounts.list' }).length - since).toBeGreaterThanOrEqual(3);
  });

  it('deletes an account (true), then answers false for it; a denied list is AccessDeniedError', async () => {
    const gcp = createGcpTargets({ mode: 'sandbox', sandboxUrl: server.url });
    const email = `to-delete@${PROJECT}.iam.gserviceaccount.com`;
    server.sandbox.gcp.addServiceAccount({ email });
    expect(await gcp.deleteServiceAccount(PROJECT, email)).toBe(true);
    expect(await gcp.getServiceAccount(PROJECT, email)).toBeNull();
    expect(await gcp.deleteServiceAccount(PROJECT, email)).toBe(false);
    const denied = await gcp.listServiceAccounts('a-project-it-does-not-know').catch((e: unknown) => e);
    expect(isTargetError(denied, 'AccessDeniedError')).toBe(true);
  });
});
