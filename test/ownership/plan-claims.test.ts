/** The Plan step across clouds (in-memory ports): conflicts refused before any role exists, claims released or kept as lingering. */
import { GetRoleCommand, IAMClient, ListOpenIDConnectProvidersCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsIam } from '../../adapters/aws/iam.js';
import { roleRef, serviceAccountRef } from '../../lib/provisioning/inventory.js';
import { CLOUD_LABEL, MANAGED_BY_LABEL, MANAGER } from '../../lib/provisioning/ownership.js';
import { createWorkflowSteps } from '../../lib/workflow/steps.js';
import { FakeClusters, FakeConfigStore, FakeKubernetes, FakeOwnershipStore, FakeRunStore, ISSUER_HOST, OIDC_ARN } from '../provisioning-workflow/fakes.js';

const iamMock = mockClient(IAMClient);
const DEFAULTS = { clusterName: 'prod-eks', region: 'us-east-1', defaultBucket: 'unit-bucket' };
const A = 'cldrsrc_a';
const B = 'cldrsrc_b';
const config = (cloud: string, values: string[]) => ({
  cloud_deployment_id: cloud,
  cloud_provider: 'AWS',
  compute_stack: 'K8S',
  dataplane_iam_mapping: { rules: values.map((value, i) => ({ selector: `user=u${i}@example.com`, value })), fallback_rule: 'CLOUD_DEFAULT' },
});

function world() {
  const configs = new FakeConfigStore();
  const runs = new FakeRunStore();
  const ownership = new FakeOwnershipStore();
  const k8s = new FakeKubernetes();
  const iam = new AwsIam(new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
  const steps = createWorkflowSteps({ configs, runs, ownership, iam, clusters: new FakeClusters(), kubernetes: () => k8s, defaults: DEFAULTS });
  const plan = async (cloud: string, values: string[]) => {
    const version = configs.add(cloud, config(cloud, values));
    const planned = await steps.plan({ cloudId: cloud, version });
    // The Map's items: every page of the stored plan.
    const pages = await Promise.all(planned.pages.map((page) => steps.loadPage({ cloudId: cloud, version, planId: planned.planId, page })));
    return { version, out: { ...planned, items: pages.flatMap((p) => p.items) } };
  };
  return { configs, runs, ownership, k8s, steps, plan };
}

beforeEach(() => {
  iamMock.reset();
  iamMock.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'no', $metadata: {} }));
  // Plan's one IAM read per run: the clusters' OIDC providers (IRSA items fail there without one).
  iamMock.on(ListOpenIDConnectProvidersCommand).resolves({ OpenIDConnectProviderList: [{ Arn: OIDC_ARN }] });
});

describe('Plan across clouds', () => {
  it('the same ServiceAccount wanted by two clouds: the second is refused in Plan, naming the first, and never reaches the Map', async () => {
    const w = world();
    expect((await w.plan(A, ['shared', 'a-only'])).out.items.map((i) => i.name)).toEqual(['shared', 'a-only']);
    const { version, out } = await w.plan(B, ['shared', 'b-only']);
    expect(out.items.map((i) => i.name)).toEqual(['b-only']);
    const run = await w.runs.getRun(B, version);
    const refused = run!.items.find((i) => i.name === 'shared')!;
    expect(refused).toMatchObject({ status: 'FAILED', error: { name: 'OwnershipConflict' } });
    expect(refused.error!.message).toContain(`ServiceAccount anyscale-operator/shared in cluster prod-eks is already wanted by cloud ${A}`);
    expect(refused.resources).toContainEqual(
      expect.objectContaining({ kind: 'service-account', name: 'shared', action: 'failed', detail: expect.stringContaining(`claimed by cloud ${A}`) }),
    );
    // Each Plan (A's, B's) reads IAM once (the OIDC providers) and writes nothing.
    expect(iamMock.calls().map((c) => c.args[0].constructor.name)).toEqual(['ListOpenIDConnectProvidersCommand', 'ListOpenIDConnectProvidersCommand']);
    // The Map ran b-only; the run still FAILS because of the refused item.
    expect(await w.steps.finalize({ cloudId: B, version, outcomes: [{ name: 'b-only', status: 'SUCCEEDED' }] })).toEqual({ status: 'FAILED' });
  });

  it("a ServiceAccount that exists with another cloud's labels (no claim) is refused too", async () => {
    const w = world();
    w.k8s.put({ namespace: 'anyscale-operator', name: 'legacy', annotations: {}, labels: { [MANAGED_BY_LABEL]: MANAGER, [CLOUD_LABEL]: A } });
    const { version, out } = await w.plan(B, ['legacy']);
    expect(out.items).toEqual([]);
    expect((await w.runs.getRun(B, version))!.items[0]!.error!.message).toMatch(new RegExp(`belongs to cloud ${A} \\(its ownership labels\\)`));
  });

  it('a full run releases claims on names nothing was made for, and keeps (reports) those whose identity still exists', async () => {
    const w = world();
    await w.plan(A, ['kept', 'dropped']);
    // The service made kept's role (inventory record); nothing was made for dropped.
    const keptRole = (await w.ownership.listClaims(A)).find((c) => c.kind === 'iam-role' && c.name.endsWith('-kept'))!;
    await w.ownership.putInventory({ ...roleRef(keptRole.name), cloudId: A, id: 'AROA1', recordedAt: '' });
    iamMock.on(GetRoleCommand, { RoleName: keptRole.name }).resolves({
      Role: {
        RoleName: keptRole.name,
        RoleId: 'AROA1',
        Path: '/',
        Arn: 'arn:aws:iam::123456789012:role/x',
        CreateDate: new Date(),
        AssumeRolePolicyDocument: '{}',
      },
    });
    const { version } = await w.plan(A, ['other']);
    const run = await w.runs.getRun(A, version);
    expect(run!.lingering).toEqual([expect.objectContaining({ kind: 'iam-role', name: keptRole.name, action: 'left-alone' })]);
    const names = (await w.ownership.listClaims(A)).map((c) => `${c.kind} ${c.name}`);
    expect(names).toContain(`iam-role ${keptRole.name}`);
    expect(names.some((n) => n.includes('dropped'))).toBe(false);
    // B may now use the released ServiceAccount name.
    expect((await w.plan(B, ['dropped'])).out.items.map((i) => i.name)).toEqual(['dropped']);
    expect(await w.ownership.getClaim(serviceAccountRef({ name: 'prod-eks', issuerHost: ISSUER_HOST }, 'anyscale-operator', 'dropped'))).toMatchObject({
      cloudId: B,
    });
  });
});
