import { describe, expect, it } from 'vitest';
import { PlanError } from '../../lib/provisioning/errors.js';
import { roleNameFor } from '../../lib/provisioning/naming.js';
import { cloudLabelValue, isOwnedRole, isOwnedServiceAccount, ownershipLabels, ownershipTags } from '../../lib/provisioning/ownership.js';
import { buildPlan, findPlanItem, planDigest, planItemsFor, type PlanInput } from '../../lib/provisioning/plan.js';
import { resolveSettings } from '../../lib/provisioning/settings.js';
import { simulatedRoleMay, simulatedServiceCanAssume } from '../helpers/iam-simulate.js';
import { ACCOUNT, cluster, irsaItem, planFor, PROD } from './fixtures.js';

const errorOf = (f: () => unknown): PlanError => {
  try {
    f();
  } catch (e) {
    if (e instanceof PlanError) return e;
    throw e;
  }
  throw new Error('expected a PlanError');
};

describe('the default-bucket policy (seed 002), by IAM evaluation', () => {
  const plan = planFor(['sa-one'], {});
  const policy = plan.items[0]!.role.permissionPolicy.document;
  const bucket = 'arn:aws:s3:::anyscale-default-bucket';
  it('allows listing the bucket and every object action inside it', async () => {
    expect(await simulatedRoleMay(policy, 's3:ListBucket', bucket)).toBe(true);
    for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']) expect(await simulatedRoleMay(policy, action, `${bucket}/some/key`)).toBe(true);
  });
  it('allows nothing on other buckets, and no bucket-level changes', async () => {
    expect(await simulatedRoleMay(policy, 's3:GetObject', 'arn:aws:s3:::another-bucket/some/key')).toBe(false);
    expect(await simulatedRoleMay(policy, 's3:ListBucket', 'arn:aws:s3:::another-bucket')).toBe(false);
    expect(await simulatedRoleMay(policy, 's3:GetObject', 'arn:aws:s3:::anyscale-default-bucket-2/key')).toBe(false);
    expect(await simulatedRoleMay(policy, 's3:DeleteBucket', bucket)).toBe(false);
    expect(await simulatedRoleMay(policy, 's3:PutBucketPolicy', bucket)).toBe(false);
  });
});

describe('AWS / VM: instance profiles (seed 001/002)', () => {
  const plan = planFor(
    ['cld_abc-cluster_node_role', 'team-b-profile'],
    { service_accounts: { 'team-b-profile': { adopt_instance_profile: true, role_name: 'TeamB' } } },
    { computeStack: 'VM' },
  );

  it('one item per instance profile, with an EC2-trusted role and default-bucket access', async () => {
    expect(plan.items.map((i) => i.kind)).toEqual(['instance-profile', 'instance-profile']);
    const [a, b] = plan.items;
    if (a?.kind !== 'instance-profile' || b?.kind !== 'instance-profile') throw new Error('kind');
    expect(a.instanceProfile).toEqual({
      name: 'cld_abc-cluster_node_role',
      path: '/iam-mapping/',
      arn: `arn:aws:iam::${ACCOUNT}:instance-profile/iam-mapping/cld_abc-cluster_node_role`,
      tags: ownershipTags('cldrsrc_XXXX', 'cld_abc-cluster_node_role'),
    });
    expect(a.role.name).toBe(roleNameFor('iam-mapping-', 'cldrsrc_XXXX', 'cld_abc-cluster_node_role'));
    expect(a.role.trustPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    expect(await simulatedServiceCanAssume(a.role.trustPolicy, 'ec2.amazonaws.com')).toBe(true);
    expect(await simulatedServiceCanAssume(a.role.trustPolicy, 'lambda.amazonaws.com')).toBe(false);
    expect(a.role.permissionPolicy.document.Statement[0]?.Resource).toEqual(['arn:aws:s3:::anyscale-default-bucket']);
    expect(a.adopt).toEqual({ role: false, instanceProfile: false });
    expect(b.adopt).toEqual({ role: false, instanceProfile: true });
    expect(b.role.name).toBe('TeamB');
  });

  it('an ARN value is refused (seed 001)', () => {
    const e = errorOf(() => planFor(['arn:aws:iam::12345:instance-profile/cld_abc-cluster_node_role'], undefined, { computeStack: 'VM' }));
    expect(e.details[0]).toMatchObject({ path: 'values[0]', message: expect.stringContaining('is an ARN') });
  });

  it('K8S-only overrides are reported as having no effect', () => {
    const p = planFor(['p1'], { service_accounts: { p1: { namespaces: ['x'] }, ghost: {} } }, { computeStack: 'VM' });
    expect(p.warnings).toEqual([
      'provisioning.service_accounts.p1: namespaces, subjects and adopt_service_account apply to compute_stack K8S only; ignored for VM',
      'provisioning.service_accounts.ghost: no rule or default_value names "ghost"; the override has no effect',
    ]);
  });
});

describe('GCP', () => {
  // Was "an empty plan with a reason (not supported)": GCP is provisioned now (issue 14); see test/provisioning/gcp-plan.test.ts.
  it('is no longer an empty "not supported" plan: its items are Google Cloud items', () => {
    for (const computeStack of ['VM', 'K8S'] as const) {
      const p = planFor(['sa-one@proj-one.iam.gserviceaccount.com'], undefined, {
        provider: 'GCP',
        computeStack,
        accountId: '',
        defaults: { gcpProject: 'proj-one', gkeClusterName: 'gke-1', gcpControlPlaneServiceAccount: 'cp-account@proj-one.iam.gserviceaccount.com' },
      });
      expect(p.items).toEqual([]);
      expect(p.reason).toBeNull();
      expect(p.gcpItems?.map((i) => i.kind)).toEqual([computeStack === 'VM' ? 'gcp-vm' : 'gcp-gke']);
      expect(p.digest).toBe(planDigest(p));
    }
  });
});

describe('AWS / K8S details', () => {
  it('no values → empty plan with a reason', () => {
    expect(planFor([], undefined)).toMatchObject({ items: [], reason: 'no rule or default_value names an identity' });
  });

  it('duplicate values collapse; order is first appearance', () => {
    expect(planFor(['b', 'a', 'b'], undefined).items.map((i) => i.kind === 'k8s-irsa' && i.serviceAccount.name)).toEqual(['b', 'a']);
  });

  it('extra policies, role_name, adopt flags, tags and labels', () => {
    const p = planFor(['sa1'], {
      role_path: '/team/',
      service_accounts: { sa1: { extra_policy_arns: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'], role_name: 'explicit-role', adopt_role: true } },
    });
    const item = irsaItem(p, 'sa1');
    expect(item.role).toMatchObject({
      name: 'explicit-role',
      path: '/team/',
      arn: `arn:aws:iam::${ACCOUNT}:role/team/explicit-role`,
      extraPolicyArns: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'],
    });
    expect(item.adopt).toEqual({ role: true, serviceAccount: false });
    expect(item.role.tags).toEqual([
      { Key: 'iam-mapping.anyscale.io/cloud', Value: 'cldrsrc_XXXX' },
      { Key: 'iam-mapping.anyscale.io/identity', Value: 'sa1' },
      { Key: 'iam-mapping.anyscale.io/managed-by', Value: 'iam-mapping-service' },
    ]);
    expect(item.labels).toEqual({ 'app.kubernetes.io/managed-by': 'iam-mapping-service', 'iam-mapping.anyscale.io/cloud': 'cldrsrc_XXXX' });
    expect(isOwnedRole(item.role.tags, 'cldrsrc_XXXX')).toBe(true);
    expect(isOwnedServiceAccount(item.labels, 'cldrsrc_XXXX')).toBe(true);
  });

  it('a role name shared by two identities (ignoring case) is a PlanError', () => {
    const generated = roleNameFor('iam-mapping-', 'cldrsrc_XXXX', 'sa1');
    const e = errorOf(() => planFor(['sa1', 'sa2'], { service_accounts: { sa2: { role_name: generated.toUpperCase() } } }));
    expect(e.details).toEqual([
      {
        path: 'provisioning.service_accounts.sa2.role_name',
        message: `"sa1" and "sa2" would share IAM role ${generated.toUpperCase()} (role names ignore case); set a distinct role_name for one of them`,
      },
    ]);
  });

  it('needs a default bucket and a cluster', () => {
    const settings = resolveSettings({});
    const input: PlanInput = {
      cloudId: 'c',
      configVersion: 1,
      provider: 'AWS',
      computeStack: 'K8S',
      values: ['sa'],
      settings,
      clusters: [],
      accountId: ACCOUNT,
    };
    expect(errorOf(() => buildPlan(input)).details.map((d) => d.path)).toEqual(['provisioning.default_bucket', 'provisioning.clusters']);
  });

  it('refuses clusters whose OIDC provider does not match issuer, partition or account', () => {
    const other = cluster('other', 'us-west-2', 'ABC', '999999999999');
    expect(errorOf(() => planFor(['sa'], undefined, { clusters: [other] })).message).toBe(
      "cluster other: OIDC provider arn:aws:iam::999999999999:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC is in account 999999999999, not 111122223333; register the cluster's OIDC provider in the roles' account",
    );
    expect(errorOf(() => planFor(['sa'], undefined, { clusters: [{ ...PROD, issuerHost: 'oidc.example.com/id/X' }] })).message).toMatch(
      /must be arn:aws:iam::<account>:oidc-provider\/oidc.example.com\/id\/X/,
    );
    expect(errorOf(() => planFor(['sa'], undefined, { clusters: [{ ...PROD, issuerHost: 'https://x"y' }] })).message).toMatch(/is not an issuer host/);
    expect(errorOf(() => planFor(['sa'], undefined, { partition: 'aws-cn' })).details[0]?.path).toBe('clusters[0]');
  });

  it('refuses bad input from the caller', () => {
    expect(errorOf(() => planFor(['sa'], undefined, { accountId: '123' })).details[0]?.path).toBe('environment.accountId');
    expect(errorOf(() => planFor(['sa'], undefined, { cloudId: 'a"b' })).details[0]?.path).toBe('cloud_deployment_id');
    expect(errorOf(() => planFor(['Not_A_K8s_Name'], undefined)).details[0]?.path).toBe('values[0]');
  });

  it('other partitions', () => {
    const cn = {
      name: 'cn',
      issuerHost: 'oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC',
      oidcProviderArn: `arn:aws-cn:iam::${ACCOUNT}:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC`,
    };
    const item = irsaItem(planFor(['sa'], undefined, { partition: 'aws-cn', clusters: [cn] }), 'sa');
    expect(item.role.arn).toBe(`arn:aws-cn:iam::${ACCOUNT}:role/iam-mapping/${item.role.name}`);
    expect(item.role.permissionPolicy.document.Statement[1]?.Resource).toEqual(['arn:aws-cn:s3:::anyscale-default-bucket/*']);
  });
});

describe('Step Functions: minimal items and digests', () => {
  const values = Array.from({ length: 1000 }, (_, i) => `service-account-${i}`);
  const plan = planFor(values, { namespaces: ['anyscale-operator', 'ml-team'] });

  it('1,000 service accounts: the whole plan is too big for one state, the item refs are not', () => {
    expect(JSON.stringify(plan).length).toBeGreaterThan(256 * 1024);
    const refs = planItemsFor(plan);
    expect(refs).toHaveLength(1000);
    expect(JSON.stringify(refs).length).toBeLessThan(100 * 1024);
    expect(refs[7]).toEqual({ index: 7, kind: 'k8s-irsa', name: 'service-account-7', digest: expect.stringMatching(/^[0-9a-f]{16}$/) });
    for (const item of plan.items) expect(JSON.stringify(item).length).toBeLessThan(8 * 1024);
  });

  it('findPlanItem returns the item from a re-built plan and refuses a stale ref', () => {
    const refs = planItemsFor(plan);
    const rebuilt = planFor(values, { namespaces: ['anyscale-operator', 'ml-team'] });
    expect(rebuilt.digest).toBe(plan.digest);
    expect(findPlanItem(rebuilt, refs[3]!)).toEqual(plan.items[3]);
    const changed = planFor(values, { namespaces: ['anyscale-operator'] });
    expect(changed.digest).not.toBe(plan.digest);
    expect(() => findPlanItem(changed, refs[3]!)).toThrow(/changed since it was planned/);
    expect(() => findPlanItem(plan, { ...refs[3]!, index: 4 })).toThrow(PlanError);
  });

  it('the refs of a freshly sealed plan carry the same digests as a plan read back from storage', () => {
    const stored = JSON.parse(JSON.stringify(plan)) as typeof plan; // new objects: every digest recomputed
    expect(planItemsFor(plan)).toEqual(planItemsFor(stored));
    expect(planDigest(stored)).toBe(plan.digest);
    // Sealed items are frozen (their remembered digests stay true); a changed copy is refused.
    expect(Object.isFrozen(plan.items[5]!.role.trustPolicy)).toBe(true);
    const refs = planItemsFor(plan);
    expect(findPlanItem(stored, refs[5]!)).toEqual(plan.items[5]);
    stored.items[5]!.role.name = 'changed';
    expect(() => findPlanItem(stored, refs[5]!)).toThrow(/changed since it was planned/);
  });

  it('the digest covers everything but itself', () => {
    expect(planDigest(plan)).toBe(plan.digest);
    expect(planDigest({ ...plan, configVersion: 2 })).not.toBe(plan.digest);
  });
});

describe('ownership marks', () => {
  it('roles: both tags, this cloud', () => {
    expect(isOwnedRole(ownershipTags('cld_a'), 'cld_a')).toBe(true);
    expect(isOwnedRole({ 'iam-mapping.anyscale.io/managed-by': 'iam-mapping-service', 'iam-mapping.anyscale.io/cloud': 'cld_a' }, 'cld_a')).toBe(true);
    expect(isOwnedRole(ownershipTags('cld_a'), 'cld_b')).toBe(false);
    expect(isOwnedRole([{ Key: 'iam-mapping.anyscale.io/cloud', Value: 'cld_a' }], 'cld_a')).toBe(false);
    expect(isOwnedRole(undefined, 'cld_a')).toBe(false);
    expect(isOwnedRole({}, 'cld_a')).toBe(false);
  });

  it('service accounts: both labels, this cloud; label values stay valid', () => {
    expect(isOwnedServiceAccount(ownershipLabels('cldrsrc_XXXX'), 'cldrsrc_XXXX')).toBe(true);
    expect(isOwnedServiceAccount({ 'app.kubernetes.io/managed-by': 'helm', 'iam-mapping.anyscale.io/cloud': 'cldrsrc_XXXX' }, 'cldrsrc_XXXX')).toBe(false);
    expect(isOwnedServiceAccount(null, 'x')).toBe(false);
    const weird = 'cloud:with/odd=chars-and-a-very-long-identifier-that-exceeds-sixty-three-characters';
    expect(cloudLabelValue(weird)).toMatch(/^sha256\.[0-9a-f]{40}$/);
    expect(isOwnedServiceAccount(ownershipLabels(weird), weird)).toBe(true);
    expect(cloudLabelValue('-x')).not.toBe('-x');
    // A cloud literally named like a hash cannot impersonate the hashed one.
    expect(cloudLabelValue(cloudLabelValue(weird))).not.toBe(cloudLabelValue(weird));
  });
});
