/** The provisioning adapters against the local sandbox emulators (real HTTP, real SDK / client-node). */
import type { PolicyDocument } from '../../lib/provisioning/policies.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClusters } from '../../adapters/aws/eks.js';
import { AwsIam } from '../../adapters/aws/iam.js';
import { KubeServiceAccounts } from '../../adapters/k8s/service-accounts.js';
import { createTargets } from '../../adapters/targets.js';
import { startSandboxServer, type SandboxServer } from '../../local/sandbox/index.js';
import { TargetError } from '../../lib/target-errors.js';

let server: SandboxServer;
let iam: AwsIam;
let clusters: AwsClusters;
let kube: KubeServiceAccounts;
let providerArn: string;
const NS = 'anyscale-operator';
const ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';

beforeAll(async () => {
  server = await startSandboxServer({ port: 0 });
  const aws = { region: 'us-east-1', endpoint: `${server.url}/sandbox/aws`, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 };
  iam = new AwsIam(aws);
  clusters = new AwsClusters(aws);
  kube = new KubeServiceAccounts({ server: `${server.url}/sandbox/k8s`, pageSize: 4 });
  providerArn = server.sandbox.eks.oidcProviderArn('sandbox') as string;
});
afterAll(async () => {
  await server.close();
});

async function failure(promise: Promise<unknown>): Promise<TargetError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(TargetError);
    return err as TargetError;
  }
  throw new Error('expected a failure');
}

const trustFor = (subject: string): PolicyDocument => {
  const host = providerArn.split(':oidc-provider/')[1] as string;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${host}:sub`]: subject, [`${host}:aud`]: 'sts.amazonaws.com' } },
      },
    ],
  };
};

describe('AwsIam against the sandbox', () => {
  it('round-trips roles, trust, inline and managed policies, and instance profiles', async () => {
    const trust = trustFor('system:serviceaccount:anyscale-operator:worker');
    const created = await iam.createRole({
      name: 'irsa-rt',
      path: '/irsa/',
      trustPolicy: trust,
      tags: { owner: 'iam-mapping', team: 'ml' },
      description: 'round trip',
    });
    expect(created).toMatchObject({
      name: 'irsa-rt',
      arn: 'arn:aws:iam::123456789012:role/irsa/irsa-rt',
      path: '/irsa/',
      trustPolicy: trust,
      tags: { owner: 'iam-mapping', team: 'ml' },
    });

    const read = await iam.getRole('irsa-rt');
    expect(read).toMatchObject({ name: 'irsa-rt', trustPolicy: trust, tags: { owner: 'iam-mapping', team: 'ml' } });
    expect(read?.createdAt).toMatch(/^\d{4}-/);
    expect(await iam.getRole('nope')).toBeNull();

    const again = await failure(iam.createRole({ name: 'irsa-rt', path: '/irsa/', trustPolicy: trust, tags: {} }));
    expect(again.name).toBe('AlreadyExistsError');

    const trust2 = trustFor('system:serviceaccount:anyscale-operator:other');
    await iam.updateTrustPolicy('irsa-rt', trust2);
    expect((await iam.getRole('irsa-rt'))?.trustPolicy).toEqual(trust2);

    const badTrust = {
      ...trust,
      Statement: [{ ...trust.Statement[0]!, Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/oidc.example.com/id/missing' } }],
    };
    expect((await failure(iam.updateTrustPolicy('irsa-rt', badTrust))).name).toBe('MalformedPolicyError');
    expect((await failure(iam.updateTrustPolicy('ghost', trust))).name).toBe('NotFoundError');

    await iam.tagRole('irsa-rt', { extra: 'yes' });
    const listed = await iam.listRoles('/irsa/');
    expect(listed.find((r) => r.name === 'irsa-rt')?.tags).toEqual({ owner: 'iam-mapping', team: 'ml', extra: 'yes' });

    const inline: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket a/*' }] };
    await iam.putInlinePolicy('irsa-rt', 'access', inline);
    expect(await iam.listInlinePolicies('irsa-rt')).toEqual(['access']);
    expect(await iam.getInlinePolicy('irsa-rt', 'access')).toEqual(inline);
    expect(await iam.getInlinePolicy('irsa-rt', 'missing')).toBeNull();

    const managed = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
    await iam.attachPolicy('irsa-rt', managed);
    expect(await iam.listAttachedPolicies('irsa-rt')).toEqual([managed]);
    await iam.detachPolicy('irsa-rt', managed);
    expect(await iam.listAttachedPolicies('irsa-rt')).toEqual([]);

    const profile = await iam.createInstanceProfile({ name: 'irsa-rt-profile', path: '/irsa/', tags: { owner: 'iam-mapping' } });
    expect(profile).toMatchObject({ name: 'irsa-rt-profile', roleNames: [], tags: { owner: 'iam-mapping' } });
    expect(profile.arn).toBe('arn:aws:iam::123456789012:instance-profile/irsa/irsa-rt-profile');
    await iam.addRoleToInstanceProfile('irsa-rt-profile', 'irsa-rt');
    expect(await iam.getInstanceProfile('irsa-rt-profile')).toMatchObject({ roleNames: ['irsa-rt'], tags: { owner: 'iam-mapping' } });
    expect(await iam.getInstanceProfile('none')).toBeNull();
    await iam.removeRoleFromInstanceProfile('irsa-rt-profile', 'irsa-rt');
    expect((await iam.getInstanceProfile('irsa-rt-profile'))?.roleNames).toEqual([]);

    await iam.deleteInlinePolicy('irsa-rt', 'access');
    await iam.deleteRole('irsa-rt');
    expect(await iam.getRole('irsa-rt')).toBeNull();
    await iam.deleteRole('irsa-rt'); // idempotent
  });

  it('surfaces IAM quotas as LimitExceededError with the IAM message', async () => {
    const trust = trustFor('system:serviceaccount:a:b');
    await iam.createRole({ name: 'irsa-big', path: '/irsa/', trustPolicy: trust, tags: {} });
    const host = providerArn.split(':oidc-provider/')[1] as string;
    const subjects = Array.from({ length: 60 }, (_, i) => `system:serviceaccount:namespace-${i}:service-account-${i}`);
    const bigTrust = {
      ...trust,
      Statement: [{ ...trust.Statement[0]!, Condition: { StringEquals: { [`${host}:aud`]: 'sts.amazonaws.com' }, StringLike: { [`${host}:sub`]: subjects } } }],
    };
    const err = await failure(iam.updateTrustPolicy('irsa-big', bigTrust));
    expect(err.name).toBe('LimitExceededError');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('Cannot exceed quota for ACLSizePerRole: 2048');

    const huge: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: Array.from({ length: 400 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`) }],
    };
    const inline = await failure(iam.putInlinePolicy('irsa-big', 'huge', huge));
    expect(inline.name).toBe('LimitExceededError');
    expect(inline.message).toContain('Maximum policy size of');
  });

  it('paginates ListRoles over many roles', async () => {
    for (let i = 0; i < 120; i++)
      await iam.createRole({
        name: `page-${String(i).padStart(3, '0')}`,
        path: '/paged/',
        trustPolicy: trustFor('system:serviceaccount:a:b'),
        tags: { i: String(i) },
      });
    const mark = server.sandbox.calls.mark();
    const roles = await iam.listRoles('/paged/');
    expect(roles).toHaveLength(120);
    expect(server.sandbox.calls.count({ action: 'ListRoles', sinceSeq: mark })).toBe(2); // MaxItems 100 per page
    expect(roles[119]?.tags).toEqual({ i: '119' });
  });

  it('maps injected throttling and 5xx faults', async () => {
    server.sandbox.setFaults((call) => (call.action === 'GetRole' ? { status: 400, code: 'Throttling', message: 'Rate exceeded' } : undefined));
    try {
      expect((await failure(iam.getRole('x'))).name).toBe('ThrottledError');
    } finally {
      server.sandbox.setFaults(undefined);
    }
    server.sandbox.setFaults((call) => (call.action === 'GetRole' ? { status: 503, code: 'ServiceUnavailable' } : undefined));
    try {
      expect((await failure(iam.getRole('x'))).name).toBe('TransientError');
    } finally {
      server.sandbox.setFaults(undefined);
    }
  });
});

describe('AwsClusters against the sandbox', () => {
  it('describes the sandbox cluster', async () => {
    const id = await clusters.describeCluster('sandbox');
    expect(id.oidcProviderArn).toBe(providerArn);
    expect(id.accountId).toBe('123456789012');
    expect(id.issuerHost).toMatch(/^oidc\.eks\.us-east-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
    expect(id.endpoint).toMatch(/^https:\/\//);
    expect(id.caData).toBe(Buffer.from('sandbox-ca').toString('base64'));
    expect(await clusters.accountId()).toBe('123456789012');
    expect((await failure(clusters.describeCluster('missing'))).name).toBe('InvalidInputError');
  });
});

describe('KubeServiceAccounts against the sandbox', () => {
  it('creates, gets and lists ServiceAccounts (paginated)', async () => {
    const sa = await kube.createServiceAccount({
      namespace: NS,
      name: 'worker',
      annotations: { [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/a' },
      labels: { owner: 'iam-mapping' },
    });
    expect(sa).toMatchObject({
      namespace: NS,
      name: 'worker',
      annotations: { [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/a' },
      labels: { owner: 'iam-mapping' },
    });
    expect(sa.resourceVersion).toMatch(/^\d+$/);
    expect(await kube.getServiceAccount(NS, 'worker')).toEqual(sa);
    expect(await kube.getServiceAccount(NS, 'ghost')).toBeNull();

    for (let i = 0; i < 25; i++)
      await kube.createServiceAccount({
        namespace: 'default',
        name: `sa-${String(i).padStart(2, '0')}`,
        annotations: {},
        labels: { batch: i % 2 ? 'odd' : 'even' },
      });
    const all = await kube.listServiceAccounts('default');
    expect(all).toHaveLength(26); // + the namespace's `default` ServiceAccount
    expect(new Set(all.map((s) => s.name)).size).toBe(26);
    const odd = await kube.listServiceAccounts('default', 'batch=odd');
    expect(odd).toHaveLength(12);
    const mark = server.sandbox.calls.mark();
    await kube.listServiceAccounts('default');
    expect(server.sandbox.calls.filter({ service: 'k8s', sinceSeq: mark }).map((c) => c.action)).toEqual(Array(7).fill('LIST serviceaccounts')); // 26 items, pages of 4
    expect(await kube.listServiceAccounts('no-such-namespace')).toEqual([]);
  });

  it('merge-patches annotations and labels; null removes a key; stale resourceVersion → ConflictError', async () => {
    const before = (await kube.getServiceAccount(NS, 'worker'))!;
    const patched = await kube.patchServiceAccountMetadata({
      namespace: NS,
      name: 'worker',
      resourceVersion: before.resourceVersion,
      annotations: { [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/b', 'x/y': 'z' },
      labels: { owner: null, team: 'ml' },
    });
    expect(patched.annotations).toEqual({ [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/b', 'x/y': 'z' });
    expect(patched.labels).toEqual({ team: 'ml' });
    expect(Number(patched.resourceVersion)).toBeGreaterThan(Number(before.resourceVersion));

    const removed = await kube.patchServiceAccountMetadata({
      namespace: NS,
      name: 'worker',
      resourceVersion: patched.resourceVersion,
      annotations: { 'x/y': null },
    });
    expect(removed.annotations).toEqual({ [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/b' });
    expect(removed.labels).toEqual({ team: 'ml' });

    const stale = await failure(
      kube.patchServiceAccountMetadata({ namespace: NS, name: 'worker', resourceVersion: before.resourceVersion, labels: { team: 'x' } }),
    );
    expect(stale.name).toBe('ConflictError');
    expect(stale.retryable).toBe(true);
    expect((await kube.getServiceAccount(NS, 'worker'))?.labels).toEqual({ team: 'ml' });
  });

  it('create twice → AlreadyExistsError; missing namespace → InvalidInputError; delete is idempotent', async () => {
    const dup = await failure(kube.createServiceAccount({ namespace: NS, name: 'worker', annotations: {}, labels: {} }));
    expect(dup.name).toBe('AlreadyExistsError');
    expect(dup.retryable).toBe(false);
    expect((await failure(kube.createServiceAccount({ namespace: 'nope', name: 'w', annotations: {}, labels: {} }))).name).toBe('InvalidInputError');
    expect((await failure(kube.createServiceAccount({ namespace: NS, name: 'Bad_Name', annotations: {}, labels: {} }))).name).toBe('InvalidInputError');
    await kube.deleteServiceAccount(NS, 'worker');
    expect(await kube.getServiceAccount(NS, 'worker')).toBeNull();
    await kube.deleteServiceAccount(NS, 'worker');
  });

  it('namespaceExists', async () => {
    expect(await kube.namespaceExists(NS)).toBe(true);
    expect(await kube.namespaceExists('nope')).toBe(false);
  });

  it('maps 429 / 5xx / 403 faults and connection errors', async () => {
    const fault = (status: number, code: string) => server.sandbox.setFaults((call) => (call.service === 'k8s' ? { status, code } : undefined));
    try {
      fault(429, 'TooManyRequests');
      expect((await failure(kube.getServiceAccount(NS, 'default'))).name).toBe('ThrottledError');
      fault(503, 'ServiceUnavailable');
      expect((await failure(kube.listServiceAccounts(NS))).name).toBe('TransientError');
      fault(403, 'Forbidden');
      expect((await failure(kube.namespaceExists(NS))).name).toBe('AccessDeniedError');
    } finally {
      server.sandbox.setFaults(undefined);
    }
    const offline = new KubeServiceAccounts({ server: 'http://127.0.0.1:1' });
    expect((await failure(offline.getServiceAccount(NS, 'default'))).name).toBe('TransientError');
  });
});

describe('createTargets (sandbox mode)', () => {
  it('wires IAM, EKS/STS and Kubernetes to the sandbox by configuration', async () => {
    const targets = createTargets({ mode: 'sandbox', region: 'us-east-1', sandboxUrl: server.url });
    const cluster = await targets.clusters.describeCluster('sandbox');
    expect(cluster.oidcProviderArn).toBe(providerArn);
    const role = await targets.iam.createRole({ name: 'via-targets', path: '/t/', trustPolicy: trustFor('system:serviceaccount:default:t'), tags: {} });
    expect(role.arn).toBe('arn:aws:iam::123456789012:role/t/via-targets');
    const k8s = targets.kubernetes(cluster);
    expect(await k8s.namespaceExists('default')).toBe(true);
    expect(targets.kubernetes(cluster)).toBe(k8s);
  });
});
