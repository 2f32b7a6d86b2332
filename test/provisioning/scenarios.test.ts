import { describe, expect, it } from 'vitest';
import { TRUST_POLICY_QUOTA_DEFAULT } from '../../lib/provisioning/budget.js';
import { PlanError } from '../../lib/provisioning/errors.js';
import { policySize, STS_AUDIENCE } from '../../lib/provisioning/policies.js';
import { canAssumeWithWebIdentity } from './trust-evaluator.js';
import { ACCOUNT, assertAttackMatrix, FOREIGN, irsaItem, planFor, PROD, STAGING } from './fixtures.js';

const iss = PROD.issuerHost;

describe('seed 000: one SA in anyscale-operator', () => {
  const plan = planFor(['kubernetes-service-account-name1'], undefined);
  const item = irsaItem(plan, 'kubernetes-service-account-name1');

  it('is the trust policy of seed 000 step 5', () => {
    expect(item.role.trustPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${iss}` },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              [`${iss}:aud`]: 'sts.amazonaws.com',
              [`${iss}:sub`]: 'system:serviceaccount:anyscale-operator:kubernetes-service-account-name1',
            },
          },
        },
      ],
    });
    expect(item.role.trustPolicySize).toBe(policySize(item.role.trustPolicy));
  });

  it('creates the SA in the default namespace, annotated with the role ARN', () => {
    expect(item.serviceAccount).toEqual({ name: 'kubernetes-service-account-name1', namespaces: ['anyscale-operator'] });
    expect(item.role.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/iam-mapping/${item.role.name}`);
    expect(item.annotations).toEqual({ 'eks.amazonaws.com/role-arn': item.role.arn });
    expect(item.adopt).toEqual({ role: false, serviceAccount: false });
  });

  it('grants seed 002 minimum bucket access', () => {
    expect(item.role.permissionPolicy).toEqual({
      name: 'iam-mapping-default-bucket',
      document: {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'ListObjectsInBucket', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: ['arn:aws:s3:::anyscale-default-bucket'] },
          { Sid: 'AllObjectActions', Effect: 'Allow', Action: 's3:*Object', Resource: ['arn:aws:s3:::anyscale-default-bucket/*'] },
        ],
      },
    });
  });

  it('attack matrix', () => {
    assertAttackMatrix(item.role.trustPolicy, ['system:serviceaccount:anyscale-operator:kubernetes-service-account-name1'], [PROD]);
  });
});

describe('seed 003: Kubeflow, one role trusted by several namespaces', () => {
  const plan = planFor(['default-editor'], { service_accounts: { 'default-editor': { namespaces: ['usera', 'userb'] } } });
  const item = irsaItem(plan, 'default-editor');
  const subs = ['system:serviceaccount:usera:default-editor', 'system:serviceaccount:userb:default-editor'];

  it('puts the subjects in one sub list under StringEquals', () => {
    expect(item.role.trustPolicy.Statement).toHaveLength(1);
    expect(item.role.trustPolicy.Statement[0]?.Condition).toEqual({
      StringEquals: { [`${iss}:aud`]: STS_AUDIENCE, [`${iss}:sub`]: subs },
    });
    expect(item.serviceAccount.namespaces).toEqual(['usera', 'userb']);
  });

  it('attack matrix', () => assertAttackMatrix(item.role.trustPolicy, subs, [PROD]));
});

describe('seed 004: Flyte, explicit wildcard subject', () => {
  const plan = planFor(['default'], {
    namespaces: ['flyte'],
    service_accounts: { default: { subjects: ['system:serviceaccount:*:default'], adopt_service_account: true } },
  });
  const item = irsaItem(plan, 'default');

  it('uses StringLike for sub, StringEquals for aud, and drops the exact subject the wildcard covers', () => {
    expect(item.role.trustPolicy.Statement[0]?.Condition).toEqual({
      StringEquals: { [`${iss}:aud`]: STS_AUDIENCE },
      StringLike: { [`${iss}:sub`]: 'system:serviceaccount:*:default' },
    });
    expect(item.adopt).toEqual({ role: false, serviceAccount: true });
    expect(item.serviceAccount.namespaces).toEqual(['flyte']);
  });

  it('attack matrix: any namespace default SA, nothing else', () => {
    assertAttackMatrix(item.role.trustPolicy, ['system:serviceaccount:*:default'], [PROD]);
    const ok = (sub: string, aud = STS_AUDIENCE) =>
      canAssumeWithWebIdentity(item.role.trustPolicy, { federatedPrincipal: PROD.oidcProviderArn, issuerHost: iss, claims: { aud, sub } });
    expect(ok('system:serviceaccount:project-a-development:default')).toBe(true);
    expect(ok('system:serviceaccount:flyte:flyte-backend')).toBe(false);
    expect(ok('system:serviceaccount:flyte:default', 'other')).toBe(false);
  });

  it('exact and wildcard subjects together stay under StringLike, exact ones matching only themselves', () => {
    const p = planFor(['default'], {
      namespaces: ['flyte'],
      service_accounts: { default: { subjects: ['system:serviceaccount:project-a:*'] } },
    });
    const doc = irsaItem(p, 'default').role.trustPolicy;
    expect(doc.Statement[0]?.Condition?.StringLike).toEqual({ [`${iss}:sub`]: ['system:serviceaccount:flyte:default', 'system:serviceaccount:project-a:*'] });
    assertAttackMatrix(doc, ['system:serviceaccount:flyte:default', 'system:serviceaccount:project-a:*'], [PROD]);
  });
});

describe('several clusters', () => {
  const plan = planFor(['sa1'], { namespaces: ['anyscale-operator', 'team-b'] }, { clusters: [PROD, STAGING, PROD] });
  const doc = irsaItem(plan, 'sa1').role.trustPolicy;
  const subs = ['system:serviceaccount:anyscale-operator:sa1', 'system:serviceaccount:team-b:sa1'];

  it('has one statement per OIDC provider (duplicates removed), each with its own issuer keys', () => {
    expect(doc.Statement.map((s) => (s.Principal as { Federated: string }).Federated)).toEqual([PROD.oidcProviderArn, STAGING.oidcProviderArn]);
    expect(doc.Statement[1]?.Condition).toEqual({
      StringEquals: { [`${STAGING.issuerHost}:aud`]: STS_AUDIENCE, [`${STAGING.issuerHost}:sub`]: subs },
    });
  });

  it('attack matrix (including provider/issuer cross-pairing)', () => assertAttackMatrix(doc, subs, [PROD, STAGING]));

  it('a cluster outside the config is denied', () => {
    expect(
      canAssumeWithWebIdentity(doc, {
        federatedPrincipal: FOREIGN.oidcProviderArn,
        issuerHost: FOREIGN.issuerHost,
        claims: { aud: STS_AUDIENCE, sub: subs[0] as string },
      }),
    ).toBe(false);
  });
});

describe('40 namespaces on one role (kubeflow/kubeflow#6687)', () => {
  const namespaces = Array.from({ length: 40 }, (_, i) => `kf-user-${String(i).padStart(2, '0')}`); // 10 characters each
  const config = (extra: Record<string, unknown> = {}) => ({ service_accounts: { 'default-editor': { namespaces, ...extra } } });

  it('fails at plan time with a PlanError that says what to do (never widens)', () => {
    let error: unknown;
    try {
      planFor(['default-editor'], config(), { cloudId: 'cldrsrc_kubeflow' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlanError);
    const e = error as PlanError;
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message).toBe(
      'role iam-mapping-cldrsrc_kubeflow-default-editor trust policy is 2,438 characters, over the quota of 2,048 (ACLSizePerRole); ' +
        'split namespaces across service accounts (about 32 of these namespaces fit per role), use an explicit wildcard subject, ' +
        'or raise trust_policy_quota (up to 4,096) after requesting an IAM quota increase',
    );
    expect(e.details).toEqual([
      expect.objectContaining({
        path: 'provisioning.service_accounts.default-editor.namespaces',
        role: 'iam-mapping-cldrsrc_kubeflow-default-editor',
        size: 2438,
        quota: 2048,
      }),
    ]);
  });

  it('fits after raising trust_policy_quota to 4096, still exact', () => {
    const plan = planFor(['default-editor'], { ...config(), trust_policy_quota: 4096 });
    const doc = irsaItem(plan, 'default-editor').role.trustPolicy;
    expect(policySize(doc)).toBe(2438);
    assertAttackMatrix(
      doc,
      namespaces.map((ns) => `system:serviceaccount:${ns}:default-editor`),
      [PROD],
    );
  });

  it('fits with an explicit wildcard subject the admin asked for', () => {
    const plan = planFor(['default-editor'], config({ subjects: ['system:serviceaccount:*:default-editor'] }));
    const doc = irsaItem(plan, 'default-editor').role.trustPolicy;
    expect(policySize(doc)).toBeLessThan(TRUST_POLICY_QUOTA_DEFAULT);
    expect(doc.Statement[0]?.Condition?.StringLike).toEqual({ [`${iss}:sub`]: 'system:serviceaccount:*:default-editor' });
  });

  it('at the maximum quota the message does not suggest raising it', () => {
    const many = Array.from({ length: 90 }, (_, i) => `kf-user-${String(i).padStart(2, '0')}`);
    expect(() =>
      planFor(['default-editor'], { trust_policy_quota: 4096, service_accounts: { 'default-editor': { namespaces: many } } }, { cloudId: 'cldrsrc_kubeflow' }),
    ).toThrow(
      /over the quota of 4,096 \(ACLSizePerRole\); split namespaces across service accounts \(about 73 of these namespaces fit per role\) or use an explicit wildcard subject \(4,096 is IAM's maximum\)$/,
    );
  });

  it('reports every failing role, not only the first', () => {
    try {
      planFor(['default-editor', 'default-viewer'], { namespaces });
      expect.unreachable();
    } catch (e) {
      expect((e as PlanError).details.map((d) => d.path)).toEqual(['provisioning.namespaces', 'provisioning.namespaces']);
      expect((e as PlanError).message).toMatch(/\(and 1 more problem\)$/);
    }
  });
});

describe('determinism', () => {
  const config = {
    namespaces: ['anyscale-operator', 'ml'],
    clusters: [{ name: 'prod' }, { name: 'staging', region: 'us-east-1' }],
    service_accounts: {
      'default-editor': { namespaces: ['usera', 'userb'], extra_policy_arns: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'] },
      default: { subjects: ['system:serviceaccount:*:default'] },
    },
  };
  const values = ['kubernetes-service-account-name1', 'default-editor', 'default', 'kubernetes-service-account-name2'];

  it('same input, deep-equal output and digest; JSON round-trips', () => {
    const a = planFor(values, config, { clusters: [PROD, STAGING] });
    const b = planFor(values, structuredClone(config), { clusters: [PROD, STAGING] });
    expect(a).toEqual(b);
    expect(a.digest).toBe(b.digest);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    expect(a.items.map((i) => i.kind === 'k8s-irsa' && i.serviceAccount.name)).toEqual(values);
  });

  it('attack matrix for every generated trust policy', () => {
    const plan = planFor(values, config, { clusters: [PROD, STAGING] });
    for (const item of plan.items) {
      if (item.kind !== 'k8s-irsa') continue;
      const explicit = config.service_accounts[item.serviceAccount.name as 'default']?.subjects ?? [];
      const intended = [...item.serviceAccount.namespaces.map((ns) => `system:serviceaccount:${ns}:${item.serviceAccount.name}`), ...explicit];
      assertAttackMatrix(item.role.trustPolicy, intended, [PROD, STAGING]);
    }
  });
});
