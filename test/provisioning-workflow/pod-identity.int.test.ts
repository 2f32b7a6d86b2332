/**
 * EKS Pod Identity end to end, over HTTP against the whole local system (the same ASL, the sandbox):
 * seed 000's EKS example with `mechanism: pod-identity` read back with the real AWS CLI; migration
 * irsa → pod-identity → irsa with the ServiceAccounts' identity checked before every call the
 * workflow makes (no gap); one identity in 100 namespaces (where IRSA's trust policy stops); drift
 * of associations and of the agent add-on, and repair within ownership.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { associationRef, INVENTORY_TOKEN_KEY } from '../../lib/provisioning/inventory.js';
import { roleNameFor } from '../../lib/provisioning/naming.js';
import { CLOUD_TAG, MANAGED_BY_LABEL, MANAGED_BY_TAG, MANAGER, ROLE_ARN_ANNOTATION } from '../../lib/provisioning/ownership.js';
import { faults, type Sandbox } from '../../local/sandbox/index.js';
import { awsCliEnv, awsSandboxArgs, onPath } from '../helpers/cli-env.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

const hasAws = onPath('aws');
const run = promisify(execFile);
const NS = 'anyscale-operator';
const SA1 = 'kubernetes-service-account-name1';
const SA2 = 'kubernetes-service-account-name2';
const ACCOUNT = '123456789012';
const roleArn = (cloud: string, sa: string) => `arn:aws:iam::${ACCOUNT}:role/iam-mapping/${roleNameFor('iam-mapping-', cloud, sa)}`;

function eksConfig(cloud: string, provisioning: string, names = [SA1, SA2]): string {
  return `${SEED_EXAMPLES.eks.replace('cldrsrc_XXXX', cloud).replace(SA1, names[0]!).replace(SA2, names[1]!)}provisioning:\n${provisioning}\n`;
}

async function put(h: Harness, cloud: string, body: string, expected = 'SUCCEEDED') {
  const res = await h.api('PUT', `/v1/clouds/${cloud}/iam-mapping`, { body });
  expect(res.status, res.text).toBe(200);
  await h.server.workflow.idle();
  const status = await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/provisioning`);
  expect(status.json.status, status.text).toBe(expected);
  return status.json;
}

async function check(h: Harness, cloud: string, body?: unknown) {
  const res = await h.api('POST', `/v1/clouds/${cloud}/drift-checks`, body === undefined ? {} : { body, contentType: 'application/json' });
  expect(res.status, res.text).toBe(200);
  return res.json;
}

const kindsOf = (report: any): string[] => report.findings.map((f: any) => `${f.kind} ${f.name}`).sort();

/** What identity a ServiceAccount has right now in the sandbox: `irsa`, `pod-identity`, both, or none. */
function identityOf(sandbox: Sandbox, cluster: string, namespace: string, sa: string, arn: string): { irsa: boolean; podIdentity: boolean } {
  const name = arn.split('/').at(-1)!;
  let trust: any;
  try {
    trust = JSON.parse(sandbox.iam.getRole(name).assumeRolePolicyDocument);
  } catch {
    return { irsa: false, podIdentity: false };
  }
  const statements: any[] = Array.isArray(trust.Statement) ? trust.Statement : [trust.Statement];
  const provider = sandbox.eks.oidcProviderArn(cluster)!;
  const issuer = provider.split(':oidc-provider/')[1]!;
  const subject = `system:serviceaccount:${namespace}:${sa}`;
  const trustsOidc = statements.some((st) => {
    const sub = st.Condition?.StringEquals?.[`${issuer}:sub`];
    return st.Principal?.Federated === provider && (sub === subject || (Array.isArray(sub) && sub.includes(subject)));
  });
  const trustsPods = statements.some((st) => st.Principal?.Service === 'pods.eks.amazonaws.com');
  const obj = sandbox.k8s.serviceAccount(namespace, sa);
  const annotated = obj?.metadata.annotations?.[ROLE_ARN_ANNOTATION] === arn;
  const associated = sandbox.eks.podIdentity
    .all()
    .some((a) => a.clusterName === cluster && a.namespace === namespace && a.serviceAccount === sa && a.roleArn === arn);
  return { irsa: Boolean(obj) && annotated && trustsOidc, podIdentity: Boolean(obj) && associated && trustsPods };
}

describe('EKS Pod Identity: seed 000 EKS example with mechanism pod-identity', () => {
  const CLOUD = 'cldrsrc_XXXX';
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    h = await startHarness();
    dir = mkdtempSync(join(tmpdir(), 'podid-cli-'));
  });
  afterAll(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  // Async: the server answering the CLI runs in this process.
  const aws = async (...args: string[]): Promise<any> => {
    const { stdout } = await run('aws', [...awsSandboxArgs(h.server.url), ...args], { env: awsCliEnv(dir), timeout: 30_000 });
    return JSON.parse(stdout || 'null');
  };
  /** Someone's own association of SA1 to the role `other`, made with the AWS CLI (with `tags`, if given). */
  const handMadeAssociation = async (tags?: Record<string, string>): Promise<any> =>
    (
      await aws(
        'eks',
        'create-pod-identity-association',
        '--cluster-name',
        'sandbox',
        '--namespace',
        NS,
        '--service-account',
        SA1,
        '--role-arn',
        `arn:aws:iam::${ACCOUNT}:role/other`,
        ...(tags ? ['--tags', JSON.stringify(tags)] : []),
      )
    ).association;

  it.skipIf(!hasAws)('provisions and reads back with the AWS CLI: associations, their roles and tags, the role trusting pods.eks.amazonaws.com', async () => {
    const run = await put(h, CLOUD, eksConfig(CLOUD, '  mechanism: pod-identity'));
    expect(run.resources.filter((r: any) => r.kind === 'pod-identity-association').map((r: any) => `${r.action} ${r.name}`)).toEqual([
      `created ${NS}/${SA1}`,
      `created ${NS}/${SA2}`,
    ]);

    const listed = (await aws('eks', 'list-pod-identity-associations', '--cluster-name', 'sandbox')).associations;
    expect(listed.map((a: any) => `${a.namespace}/${a.serviceAccount}`).sort()).toEqual([`${NS}/${SA1}`, `${NS}/${SA2}`]);
    for (const a of listed) {
      const described = (await aws('eks', 'describe-pod-identity-association', '--cluster-name', 'sandbox', '--association-id', a.associationId)).association;
      expect(described.roleArn).toBe(roleArn(CLOUD, a.serviceAccount));
      expect(described.tags[CLOUD_TAG]).toBe(CLOUD);
      expect(described.associationArn).toMatch(new RegExp(`^arn:aws:eks:us-east-1:${ACCOUNT}:podidentityassociation/sandbox/a-[a-z0-9]{17}$`));

      const role = (await aws('iam', 'get-role', '--role-name', described.roleArn.split('/').at(-1))).Role;
      expect(role.PermissionsBoundary?.PermissionsBoundaryArn).toMatch(/:policy\/iam-mapping-local-workload-boundary$/);
      expect(role.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Sid: 'EksPodIdentity',
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: {
            StringEquals: {
              'aws:SourceAccount': ACCOUNT,
              'aws:RequestTag/kubernetes-service-account': a.serviceAccount,
              'aws:RequestTag/eks-cluster-arn': `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/sandbox`,
            },
          },
        },
      ]);
      const bucket = await aws('iam', 'get-role-policy', '--role-name', role.RoleName, '--policy-name', 'iam-mapping-default-bucket');
      expect(JSON.stringify(bucket.PolicyDocument)).toContain('arn:aws:s3:::anyscale-sandbox-bucket/*');
      // The ServiceAccount exists, labelled ours, without the IRSA annotation.
      const sa = h.server.sandbox!.k8s.serviceAccount(NS, a.serviceAccount)!;
      expect(sa.metadata.labels?.[MANAGED_BY_LABEL]).toBe('iam-mapping-service');
      expect(sa.metadata.annotations?.[ROLE_ARN_ANNOTATION]).toBeUndefined();
    }
    // The calls were EKS's own, counted in /sandbox/calls as mutating.
    const calls = (await (await fetch(`${h.server.url}/sandbox/calls?since=0`)).json()) as any;
    expect(calls.calls.filter((c: any) => c.service === 'eks' && c.action === 'CreatePodIdentityAssociation' && c.mutating)).toHaveLength(2);

    // A second run over converged state writes nothing.
    const mark = h.server.sandbox!.calls.mark();
    await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`, { body: { repair: true }, contentType: 'application/json' });
    const report = await check(h, CLOUD);
    expect(report.status, JSON.stringify(report.findings)).toBe('clean');
    expect(h.server.sandbox!.calls.filter({ sinceSeq: mark, mutating: true })).toHaveLength(0);
  });

  it.skipIf(!hasAws)('drift: a deleted association, one pointing at another role, an annotation put back; repair converges', async () => {
    const [a1, a2] = (await aws('eks', 'list-pod-identity-associations', '--cluster-name', 'sandbox')).associations.sort((x: any, y: any) =>
      x.serviceAccount < y.serviceAccount ? -1 : 1,
    );
    await aws('eks', 'delete-pod-identity-association', '--cluster-name', 'sandbox', '--association-id', a1.associationId);
    await aws(
      'iam',
      'create-role',
      '--role-name',
      'other',
      '--assume-role-policy-document',
      // EKS takes only a role that trusts the Pod Identity agent: someone else's role, made for it.
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
      }),
    );
    await aws(
      'eks',
      'update-pod-identity-association',
      '--cluster-name',
      'sandbox',
      '--association-id',
      a2.associationId,
      '--role-arn',
      `arn:aws:iam::${ACCOUNT}:role/other`,
    );
    h.server.sandbox!.k8s.patch('serviceaccounts', NS, SA2, 'application/merge-patch+json', {
      metadata: { annotations: { [ROLE_ARN_ANNOTATION]: roleArn(CLOUD, SA2) } },
    });

    const report = await check(h, CLOUD);
    expect(kindsOf(report)).toEqual([`annotation-mismatch ${NS}/${SA2}`, `association-missing ${NS}/${SA1}`, `association-role-mismatch ${NS}/${SA2}`]);
    expect(report.findings.every((f: any) => f.repairable)).toBe(true);

    const repaired = await check(h, CLOUD, { repair: true });
    expect(repaired.repair.items).toEqual([SA1, SA2]);
    await h.server.workflow.idle();
    expect((await check(h, CLOUD)).status).toBe('clean');
  });

  it.skipIf(!hasAws)('a foreign association on one of our ServiceAccounts is reported, never touched; the item fails naming it', async () => {
    const ours = (await aws('eks', 'list-pod-identity-associations', '--cluster-name', 'sandbox', '--service-account', SA1)).associations[0];
    await aws('eks', 'delete-pod-identity-association', '--cluster-name', 'sandbox', '--association-id', ours.associationId);
    const foreign = await handMadeAssociation();

    const report = await check(h, CLOUD, { repair: true });
    expect(kindsOf(report)).toEqual([`association-foreign ${NS}/${SA1}`]);
    expect(report.findings[0].repairable).toBe(false);
    expect(report.findings[0].message).toContain(foreign.associationId);
    expect(report.repair.items).toEqual([]);
    // A run of the config: the item fails naming the association, which stays as it was.
    const res = await h.api('PUT', `/v1/clouds/${CLOUD}/iam-mapping`, { body: eksConfig(CLOUD, '  mechanism: pod-identity\n  role_path: /iam-mapping/') });
    expect(res.status).toBe(200);
    await h.server.workflow.idle();
    const run = (await h.api('GET', `/v1/clouds/${CLOUD}/iam-mapping/provisioning`)).json;
    expect(run.status).toBe('FAILED');
    const failed = run.resources.find((r: any) => r.kind === 'pod-identity-association' && r.action === 'failed');
    expect(failed.detail).toContain(`association ${foreign.associationId}`);
    expect(failed.detail).toContain('was not made by this service');
    const still = (await aws('eks', 'describe-pod-identity-association', '--cluster-name', 'sandbox', '--association-id', foreign.associationId)).association;
    expect(still.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/other`);
    await aws('eks', 'delete-pod-identity-association', '--cluster-name', 'sandbox', '--association-id', foreign.associationId);
  });

  it.skipIf(!hasAws)('the agent add-on removed: drift says so (critical), and provisioning fails naming the cluster', async () => {
    await aws('eks', 'delete-addon', '--cluster-name', 'sandbox', '--addon-name', 'eks-pod-identity-agent');
    const report = await check(h, CLOUD);
    const agent = report.findings.find((f: any) => f.kind === 'pod-identity-agent-missing');
    expect(agent).toMatchObject({ severity: 'critical', name: 'sandbox', repairable: false });

    const res = await h.api('PUT', `/v1/clouds/${CLOUD}/iam-mapping`, { body: eksConfig(CLOUD, '  mechanism: pod-identity\n  drift: { mode: report }') });
    expect(res.status).toBe(200);
    await h.server.workflow.idle();
    const run = (await h.api('GET', `/v1/clouds/${CLOUD}/iam-mapping/provisioning`)).json;
    expect(run.status).toBe('FAILED');
    expect(run.items[0].error.message).toContain('cluster sandbox does not have the eks-pod-identity-agent add-on');
    await aws('eks', 'create-addon', '--cluster-name', 'sandbox', '--addon-name', 'eks-pod-identity-agent');
    await put(h, CLOUD, eksConfig(CLOUD, '  mechanism: pod-identity'));
    expect((await check(h, CLOUD)).status).toBe('clean');
  });

  it.skipIf(!hasAws)(
    'our tags copied onto a hand-made association: not ours (the inventory records the id the service made); reported, planned and provisioned as left alone',
    async () => {
      const ours = (await aws('eks', 'list-pod-identity-associations', '--cluster-name', 'sandbox', '--service-account', SA1)).associations[0];
      const described = (await aws('eks', 'describe-pod-identity-association', '--cluster-name', 'sandbox', '--association-id', ours.associationId))
        .association;
      // What the service made carries a creation token, and the inventory records its id.
      expect(described.tags[INVENTORY_TOKEN_KEY]).toMatch(/^[0-9a-f-]{36}$/);
      const issuerHost = h.server.sandbox!.eks.oidcProviderArn('sandbox')!.split(':oidc-provider/')[1]!;
      const ref = associationRef({ name: 'sandbox', issuerHost }, NS, SA1);
      expect((await h.server.deps.ownership.getInventory(ref))?.id).toBe(ours.associationId);

      // Someone with EKS access replaces it with one of their own, copying every tag (the token too).
      await aws('eks', 'delete-pod-identity-association', '--cluster-name', 'sandbox', '--association-id', ours.associationId);
      const copied = await handMadeAssociation(described.tags);
      expect(copied.tags[CLOUD_TAG]).toBe(CLOUD);

      const report = await check(h, CLOUD, { repair: true });
      expect(kindsOf(report)).toEqual([`association-foreign ${NS}/${SA1}`]);
      expect(report.findings[0]).toMatchObject({ repairable: false, actual: `${copied.associationId} → arn:aws:iam::${ACCOUNT}:role/other` });
      expect(report.findings[0].message).toContain("carries this cloud's tags but it is not the resource the service created");
      expect(report.repair.items).toEqual([]);

      const plan = await h.api('POST', `/v1/clouds/${CLOUD}/iam-mapping/plan`, { body: eksConfig(CLOUD, '  mechanism: pod-identity') });
      expect(plan.status, plan.text).toBe(200);
      expect(plan.json.left_alone.map((a: any) => `${a.kind} ${a.name}`)).toEqual([`pod-identity-association ${NS}/${SA1}`]);
      expect(plan.json.left_alone[0].reason).toContain("carries this cloud's tags");

      const res = await h.api('PUT', `/v1/clouds/${CLOUD}/iam-mapping`, { body: eksConfig(CLOUD, '  mechanism: pod-identity\n  drift: { mode: report }') });
      expect(res.status).toBe(200);
      await h.server.workflow.idle();
      const run = (await h.api('GET', `/v1/clouds/${CLOUD}/iam-mapping/provisioning`)).json;
      expect(run.status).toBe('FAILED');
      const failed = run.resources.find((r: any) => r.kind === 'pod-identity-association' && r.action === 'failed');
      expect(failed.detail).toContain(`association ${copied.associationId}`);
      expect(failed.detail).toContain('was left alone');
      const still = (await aws('eks', 'describe-pod-identity-association', '--cluster-name', 'sandbox', '--association-id', copied.associationId)).association;
      expect(still.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/other`);

      // Once it is gone, the service binds the ServiceAccount again, and records the new association.
      await aws('eks', 'delete-pod-identity-association', '--cluster-name', 'sandbox', '--association-id', copied.associationId);
      await put(h, CLOUD, eksConfig(CLOUD, '  mechanism: pod-identity'));
      expect((await check(h, CLOUD)).status).toBe('clean');
      const again = (await aws('eks', 'list-pod-identity-associations', '--cluster-name', 'sandbox', '--service-account', SA1)).associations[0];
      expect((await h.server.deps.ownership.getInventory(ref))?.id).toBe(again.associationId);
    },
  );

  it.skipIf(!hasAws)('an identity dropped from the config: delete_orphans removes its role and ServiceAccount, and its association with them', async () => {
    await put(h, CLOUD, eksConfig(CLOUD, '  mechanism: pod-identity\n  drift: { mode: repair, delete_orphans: true }', [SA1, SA1]));
    const before = (await aws('eks', 'list-pod-identity-associations', '--cluster-name', 'sandbox', '--service-account', SA2)).associations;
    expect(before).toHaveLength(1); // the identity lingers until the orphans go, as under IRSA
    const report = await check(h, CLOUD, { repair: true });
    expect(report.repair.deleted).toEqual(expect.arrayContaining([`service-account sandbox:${NS}/${SA2}`, `pod-identity-association sandbox:${NS}/${SA2}`]));
    expect((await aws('eks', 'list-pod-identity-associations', '--cluster-name', 'sandbox', '--service-account', SA2)).associations).toEqual([]);
    const issuerHost = h.server.sandbox!.eks.oidcProviderArn('sandbox')!.split(':oidc-provider/')[1]!;
    expect(await h.server.deps.ownership.getInventory(associationRef({ name: 'sandbox', issuerHost }, NS, SA2))).toBeNull();
    // SA1 keeps its association.
    expect((await aws('eks', 'list-pod-identity-associations', '--cluster-name', 'sandbox', '--service-account', SA1)).associations).toHaveLength(1);
  });
});

describe('EKS Pod Identity: migration both ways with no gap', () => {
  const CLOUD = 'cldrsrc_migrate';
  const NAMES = ['mig-a', 'mig-b'];
  const NAMESPACES = ['anyscale-operator', 'team-a'];
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sandbox: { namespaces: ['default', ...NAMESPACES] } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('irsa → pod-identity → irsa: before every call the workflow makes, every ServiceAccount has an identity; the status says what moved', async () => {
    const sandbox = h.server.sandbox!;
    const provisioning = (mechanism: string) => `  mechanism: ${mechanism}\n  namespaces: [${NAMESPACES.join(', ')}]`;
    await put(h, CLOUD, eksConfig(CLOUD, provisioning('irsa'), NAMES));

    let checks = 0;
    const gaps: string[] = [];
    const seen = { irsa: 0, podIdentity: 0, both: 0 };
    const invariant = (where: string) => {
      for (const sa of NAMES)
        for (const ns of NAMESPACES) {
          const id = identityOf(sandbox, 'sandbox', ns, sa, roleArn(CLOUD, sa));
          checks++;
          if (!id.irsa && !id.podIdentity) gaps.push(`${where}: ${ns}/${sa} has no identity`);
          if (id.irsa && id.podIdentity) seen.both++;
          else if (id.irsa) seen.irsa++;
          else seen.podIdentity++;
        }
    };
    // The latency hook runs before each call is executed: the state then is what the previous call left.
    sandbox.setLatency((call) => {
      invariant(`before #${call.seq} ${call.service} ${call.action}`);
      return 0;
    });
    try {
      const toPod = await put(h, CLOUD, eksConfig(CLOUD, provisioning('pod-identity'), NAMES));
      invariant('after the move to pod-identity');
      const moved = toPod.resources.filter((r: any) => r.detail?.startsWith('moved from irsa to pod-identity'));
      expect(moved.map((r: any) => `${r.kind} ${r.name}`)).toEqual(NAMES.map((sa) => `trust-policy ${roleNameFor('iam-mapping-', CLOUD, sa)}`));
      expect(toPod.resources.filter((r: any) => r.kind === 'pod-identity-association' && r.action === 'created')).toHaveLength(4);
      for (const sa of NAMES)
        for (const ns of NAMESPACES) {
          expect(identityOf(sandbox, 'sandbox', ns, sa, roleArn(CLOUD, sa))).toEqual({ irsa: false, podIdentity: true });
          expect(sandbox.k8s.serviceAccount(ns, sa)?.metadata.annotations?.[ROLE_ARN_ANNOTATION]).toBeUndefined();
        }

      const toIrsa = await put(h, CLOUD, eksConfig(CLOUD, provisioning('irsa'), NAMES));
      invariant('after the move back to irsa');
      expect(toIrsa.resources.filter((r: any) => r.kind === 'pod-identity-association').map((r: any) => r.action)).toEqual([
        'deleted',
        'deleted',
        'deleted',
        'deleted',
      ]);
      expect(toIrsa.resources.filter((r: any) => r.detail?.startsWith('moved from pod-identity to irsa') && r.kind === 'trust-policy')).toHaveLength(2);
      expect(sandbox.eks.podIdentity.all()).toEqual([]);
      // The deleted associations' inventory records went with them.
      const issuerHost = sandbox.eks.oidcProviderArn('sandbox')!.split(':oidc-provider/')[1]!;
      for (const sa of NAMES)
        for (const ns of NAMESPACES) expect(await h.server.deps.ownership.getInventory(associationRef({ name: 'sandbox', issuerHost }, ns, sa))).toBeNull();
      for (const sa of NAMES)
        for (const ns of NAMESPACES) expect(identityOf(sandbox, 'sandbox', ns, sa, roleArn(CLOUD, sa))).toEqual({ irsa: true, podIdentity: false });
    } finally {
      sandbox.setLatency(undefined);
    }
    expect(gaps).toEqual([]);
    // Both moves went through a moment with both identities (the new one made before the old one went).
    expect(seen.both).toBeGreaterThan(0);
    expect(checks).toBeGreaterThan(100);
    expect((await check(h, CLOUD)).status).toBe('clean');
  });
});

describe('EKS Pod Identity: one identity shared by 100 namespaces (Kubeflow profiles)', () => {
  const CLOUD = 'cldrsrc_kubeflow';
  const NAMESPACES = Array.from({ length: 100 }, (_, i) => `kubeflow-user-${String(i).padStart(3, '0')}`);
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sandbox: { namespaces: ['default', 'anyscale-operator', ...NAMESPACES] } });
  });
  afterAll(async () => {
    await h.stop();
  });
  const config = (mechanism: string, namespaces = NAMESPACES) =>
    eksConfig(CLOUD, `  mechanism: ${mechanism}\n  service_accounts:\n    default-editor:\n      namespaces: [${namespaces.join(', ')}]`, [
      'default-editor',
      'default-editor',
    ]);

  it('under irsa the trust policy does not fit (plan-time failure); under pod-identity it provisions and drift-checks cleanly', async () => {
    const irsa = await put(h, CLOUD, config('irsa'), 'FAILED');
    expect(irsa.error.message).toMatch(/trust policy/i);

    const sandbox = h.server.sandbox!;
    const mark = sandbox.calls.mark();
    const run = await put(h, CLOUD, config('pod-identity'));
    expect(run.resources.filter((r: any) => r.kind === 'pod-identity-association' && r.action === 'created')).toHaveLength(100);
    expect(run.resources.filter((r: any) => r.kind === 'service-account' && r.action === 'created')).toHaveLength(100);
    const role = sandbox.iam.getRole(roleNameFor('iam-mapping-', CLOUD, 'default-editor'));
    expect(role.assumeRolePolicyDocument.replace(/\s+/g, '').length).toBeLessThan(600);
    expect(sandbox.eks.podIdentity.all().filter((a) => a.serviceAccount === 'default-editor')).toHaveLength(100);
    // One paged list per cluster, not one per namespace.
    expect(sandbox.calls.filter({ sinceSeq: mark, action: 'ListPodIdentityAssociations' }).length).toBeLessThanOrEqual(2);

    const before = sandbox.calls.mark();
    const report = await check(h, CLOUD);
    expect(report.status, JSON.stringify(report.findings.slice(0, 3))).toBe('clean');
    const driftCalls = sandbox.calls.filter({ sinceSeq: before, service: 'eks' });
    expect(driftCalls.filter((c) => c.action === 'ListPodIdentityAssociations')).toHaveLength(1);
    expect(driftCalls.filter((c) => c.action === 'DescribeAddon')).toHaveLength(1);
    expect(driftCalls.filter((c) => c.action === 'DescribePodIdentityAssociation')).toHaveLength(100);
    expect(sandbox.calls.filter({ sinceSeq: before, mutating: true })).toHaveLength(0);
  }, 120_000);

  it("a namespace removed from the config loses the role at once: the run deletes our association there; someone else's naming the role is reported, never touched", async () => {
    const sandbox = h.server.sandbox!;
    const kept = NAMESPACES.slice(0, 98);
    const [gone, taken] = NAMESPACES.slice(98) as [string, string];
    const roleArnOf = roleArn(CLOUD, 'default-editor');
    const associationIn = (ns: string) => sandbox.eks.podIdentity.all().find((a) => a.namespace === ns && a.serviceAccount === 'default-editor');
    // In `taken`, someone replaces our association with one of their own naming the same role.
    sandbox.eks.podIdentity.delete('sandbox', associationIn(taken)!.associationId);
    const theirs = sandbox.eks.podIdentity.create('sandbox', { namespace: taken, serviceAccount: 'default-editor', roleArn: roleArnOf });

    const plan = await h.api('POST', `/v1/clouds/${CLOUD}/iam-mapping/plan`, { body: config('pod-identity', kept) });
    expect(plan.status, plan.text).toBe(200);
    // The association goes with the run; the ServiceAccounts left behind are orphans, as under IRSA (a drift repair's).
    expect(plan.json.changes.map((c: any) => `${c.action} ${c.kind} ${c.name} ${c.by_provisioning ?? '-'}`).sort()).toEqual([
      `delete pod-identity-association ${gone}/default-editor true`,
      `delete service-account ${gone}/default-editor -`,
      `delete service-account ${taken}/default-editor -`,
    ]);
    expect(plan.json.left_alone.map((a: any) => `${a.kind} ${a.name}`)).toEqual([`pod-identity-association ${taken}/default-editor`]);

    const run = await put(h, CLOUD, config('pod-identity', kept));
    const revoked = run.resources.filter((r: any) => r.kind === 'pod-identity-association' && r.action !== 'unchanged');
    expect(revoked.map((r: any) => `${r.action} ${r.name}`).sort()).toEqual([`deleted ${gone}/default-editor`, `left-alone ${taken}/default-editor`]);
    expect(revoked.find((r: any) => r.action === 'deleted').detail).toContain(`namespace ${gone} is no longer in the config`);
    expect(associationIn(gone)).toBeUndefined();
    expect(associationIn(taken)?.associationId).toBe(theirs.associationId);
    const issuerHost = sandbox.eks.oidcProviderArn('sandbox')!.split(':oidc-provider/')[1]!;
    expect(await h.server.deps.ownership.getInventory(associationRef({ name: 'sandbox', issuerHost }, gone, 'default-editor'))).toBeNull();

    // Drift: the other association lets that namespace's pods act as the role (critical, never repaired).
    const report = await check(h, CLOUD, { repair: true });
    const unplanned = report.findings.filter((f: any) => f.kind === 'association-unplanned');
    expect(unplanned).toMatchObject([{ name: `${taken}/default-editor`, severity: 'critical', repairable: false }]);
    expect(unplanned[0].message).toContain('was not made by this service');
    expect(associationIn(taken)?.associationId).toBe(theirs.associationId);

    // One of ours left in a removed namespace (as an interrupted older run could leave it): repairable, and the repair deletes it.
    sandbox.eks.podIdentity.delete('sandbox', theirs.associationId);
    const ref = associationRef({ name: 'sandbox', issuerHost }, gone, 'default-editor');
    const leftover = sandbox.eks.podIdentity.create('sandbox', {
      namespace: gone,
      serviceAccount: 'default-editor',
      roleArn: roleArnOf,
      tags: { [CLOUD_TAG]: CLOUD, [MANAGED_BY_TAG]: MANAGER },
    });
    await h.server.deps.ownership.putInventory({ ...ref, cloudId: CLOUD, id: leftover.associationId, recordedAt: new Date().toISOString() });
    const again = await check(h, CLOUD);
    expect(again.findings.filter((f: any) => f.kind === 'association-unplanned')).toMatchObject([
      { name: `${gone}/default-editor`, severity: 'critical', repairable: true, item: 'default-editor' },
    ]);
    const repaired = await check(h, CLOUD, { repair: true });
    expect(repaired.repair.items).toEqual(['default-editor']);
    await h.server.workflow.idle();
    expect(associationIn(gone)).toBeUndefined();
    // What is left: the two ServiceAccounts in the removed namespaces, orphans for delete_orphans as under IRSA.
    expect(kindsOf(await check(h, CLOUD))).toEqual([`orphan-service-account ${gone}/default-editor`, `orphan-service-account ${taken}/default-editor`]);
  }, 120_000);
});

describe('EKS Pod Identity: retried like the other steps', () => {
  const CLOUD = 'cldrsrc_faults';
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('throttling, 5xx and a create whose answer was lost → SUCCEEDED with exactly one association per ServiceAccount', async () => {
    const sandbox = h.server.sandbox!;
    sandbox.setFaults(
      faults.combine(
        faults.throttle({ service: 'eks', action: 'DescribeAddon' }, 1),
        faults.serverError({ service: 'eks', action: 'ListPodIdentityAssociations' }, 1),
        faults.throttle({ service: 'eks', action: 'CreatePodIdentityAssociation' }, 1),
        // Committed, but the caller sees a 500: the retry finds it (ours, right role) and leaves it.
        faults.failTimes(1, { status: 500, code: 'ServerException', afterExecute: true }, { service: 'eks', action: 'CreatePodIdentityAssociation' }),
      ),
    );
    try {
      await put(h, CLOUD, eksConfig(CLOUD, '  mechanism: pod-identity', ['faulty-a', 'faulty-b']));
    } finally {
      sandbox.setFaults(undefined);
    }
    const associations = sandbox.eks.podIdentity.all();
    expect(associations.map((a) => a.serviceAccount).sort()).toEqual(['faulty-a', 'faulty-b']);
    expect(sandbox.calls.filter({ service: 'eks', failed: true }).length).toBeGreaterThanOrEqual(3);
    expect((await check(h, CLOUD)).status).toBe('clean');
  }, 120_000);
});
