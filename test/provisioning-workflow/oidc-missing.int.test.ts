/**
 * A cluster whose IAM OIDC provider was deleted: IRSA cannot work there, and CreateRole would refuse
 * the trust policy ("Invalid principal"). The run fails its IRSA items in the Plan step, before any
 * write, with the message drift and the plan route give (lib/drift/diff.ts), after one
 * ListOpenIDConnectProviders for the whole run; Pod Identity items do not need the provider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

const CLOUD = 'cldrsrc_nooidc';
const BASE = `/v1/clouds/${CLOUD}/iam-mapping`;

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ driftIntervalSeconds: 0 });
});
afterAll(async () => {
  await h?.stop();
});

describe('a deleted IAM OIDC provider', () => {
  it('fails the IRSA items at Plan with the drift/plan message, no IAM write, one provider list per run', async () => {
    const sandbox = h.server.sandbox!;
    const body = SEED_EXAMPLES.eks.replace(/cldrsrc_XXXX/g, CLOUD);
    const providers = sandbox.iam.listOpenIdConnectProviders();
    expect(providers.length).toBeGreaterThan(0);
    for (const p of providers) sandbox.iam.deleteOpenIdConnectProvider(p.arn);

    const planned = await h.api('POST', `${BASE}/plan`, { body });
    expect(planned.status, planned.text).toBe(200);
    const oidc = (planned.json.left_alone as Array<{ kind: string; reason: string }>).find((l) => l.kind === 'oidc-provider')!;
    expect(oidc.reason).toContain('eksctl utils associate-iam-oidc-provider --cluster sandbox');

    const mark = sandbox.calls.mark();
    expect((await h.api('PUT', BASE, { body })).status).toBe(200);
    await h.server.workflow.idle();
    const run = (await h.api('GET', `${BASE}/provisioning`, { role: 'viewer' })).json as {
      status: string;
      items: Array<{ name: string; status: string; error?: { name: string; message: string } }>;
      resources: Array<{ kind: string; action: string }>;
    };
    expect(run.status).toBe('FAILED');
    expect(run.items).toHaveLength(2);
    for (const item of run.items) {
      expect(item).toMatchObject({ status: 'FAILED', error: { name: 'OidcProviderMissing' } });
      expect(item.error!.message).toContain(oidc.reason);
      expect(item.error!.message).not.toContain('MalformedPolicy');
    }
    expect(run.resources.filter((r) => r.action !== 'failed')).toEqual([]);
    const calls = sandbox.calls.since(mark);
    expect(calls.filter((c) => c.mutating)).toEqual([]);
    expect(calls.filter((c) => c.action === 'ListOpenIDConnectProviders')).toHaveLength(1);

    // Put back, the same config provisions (a partial drift repair or a new version runs the same Plan).
    for (const p of providers) sandbox.iam.createOpenIdConnectProvider({ url: `https://${p.url}`, clientIds: p.clientIds, thumbprints: p.thumbprints });
    const fixed = `${body}provisioning:\n  drift: { mode: report }\n`;
    expect((await h.api('PUT', BASE, { body: fixed })).status).toBe(200);
    await h.server.workflow.idle();
    expect((await h.api('GET', `${BASE}/provisioning`, { role: 'viewer' })).json.status).toBe('SUCCEEDED');
  });
});
