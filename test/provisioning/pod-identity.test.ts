/**
 * `provisioning.mechanism: pod-identity` in settings and the plan: the mechanism per cloud and per
 * ServiceAccount, bad values refused naming the field, the Pod Identity role (trust evaluated
 * with @cloud-copilot/iam-simulate: the right cluster and SA allowed; another account, cluster or
 * SA denied), the constant-size trust policy whatever the namespace count, and the plan refs.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { planItemsFor } from '../../lib/provisioning/plan.js';
import type { PolicyDocument } from '../../lib/provisioning/policies.js';
import { parseProvisioningSettings, provisioningSettingsIssues, serviceAccountSettings } from '../../lib/provisioning/settings.js';
import { ACCOUNT, irsaItem, planFor, PROD, STAGING } from './fixtures.js';

const PROD_ARN = `arn:aws:eks:us-west-2:${ACCOUNT}:cluster/prod`;

async function podsMayAssume(trust: PolicyDocument, context: Record<string, string>): Promise<boolean> {
  const result = await runSimulation(
    {
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: trust,
      request: {
        action: 'sts:AssumeRole',
        principal: 'pods.eks.amazonaws.com',
        resource: { accountId: ACCOUNT, resource: `arn:aws:iam::${ACCOUNT}:role/iam-mapping/x` },
        contextVariables: context,
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult === 'Allowed';
}

describe('settings: mechanism', () => {
  it('defaults to irsa, per cloud and per service account', () => {
    const s = parseProvisioningSettings({ mechanism: 'pod-identity', service_accounts: { legacy: { mechanism: 'irsa' } } });
    expect(serviceAccountSettings(s, 'legacy').mechanism).toBe('irsa');
    expect(serviceAccountSettings(s, 'other').mechanism).toBe('pod-identity');
    expect(serviceAccountSettings(parseProvisioningSettings(undefined), 'x').mechanism).toBe('irsa');
    expect(serviceAccountSettings(parseProvisioningSettings({ service_accounts: { a: { mechanism: 'pod-identity' } } }), 'a').mechanism).toBe('pod-identity');
  });

  it('refuses other values, naming the field and the valid ones', () => {
    expect(provisioningSettingsIssues({ mechanism: 'oidc' })).toEqual([
      { path: 'provisioning.mechanism', message: 'must be one of irsa, pod-identity; got "oidc"' },
    ]);
    expect(provisioningSettingsIssues({ service_accounts: { a: { mechanism: 1 } } })).toEqual([
      { path: 'provisioning.service_accounts.a.mechanism', message: 'must be one of irsa, pod-identity; got 1' },
    ]);
  });
});

describe('plan: pod-identity items', () => {
  it('a role trusting pods.eks.amazonaws.com (AssumeRole + TagSession) for the account, the clusters and the SA; same bucket access, tags and path as IRSA', () => {
    const plan = planFor(['app', 'legacy'], { mechanism: 'pod-identity', service_accounts: { legacy: { mechanism: 'irsa' } } }, { clusters: [PROD] });
    const app = irsaItem(plan, 'app');
    const legacy = irsaItem(plan, 'legacy');
    expect(app.mechanism).toBe('pod-identity');
    expect(legacy.mechanism).toBeUndefined();
    expect(app.role.trustPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'EksPodIdentity',
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: {
            StringEquals: { 'aws:SourceAccount': ACCOUNT, 'aws:RequestTag/kubernetes-service-account': 'app', 'aws:RequestTag/eks-cluster-arn': PROD_ARN },
          },
        },
      ],
    });
    expect(app.annotations).toEqual({});
    expect(app.podIdentity).toEqual({ clusters: [{ name: 'prod', arn: PROD_ARN }], tags: app.role.tags });
    expect(app.role.permissionPolicy).toEqual(legacy.role.permissionPolicy);
    expect(app.role.path).toBe(legacy.role.path);
    expect(app.labels).toEqual(legacy.labels);
    const refs = planItemsFor(plan);
    expect(refs.map((r) => r.mechanism)).toEqual(['pod-identity', undefined]);
    expect(Object.hasOwn(refs[1]!, 'mechanism')).toBe(false);
  });

  it('the trust lets the pods of the planned clusters and SA in, and nothing else (iam-simulate)', async () => {
    const plan = planFor(
      ['app'],
      { mechanism: 'pod-identity', clusters: [{ name: 'prod' }, { name: 'staging', region: 'us-east-1' }] },
      { clusters: [PROD, STAGING] },
    );
    const trust = irsaItem(plan, 'app').role.trustPolicy;
    const staging = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/staging`;
    const ok = { 'aws:SourceAccount': ACCOUNT, 'aws:RequestTag/eks-cluster-arn': PROD_ARN, 'aws:RequestTag/kubernetes-service-account': 'app' };
    expect(await podsMayAssume(trust, ok)).toBe(true);
    expect(await podsMayAssume(trust, { ...ok, 'aws:RequestTag/eks-cluster-arn': staging })).toBe(true);
    expect(await podsMayAssume(trust, { ...ok, 'aws:SourceAccount': '999999999999' })).toBe(false);
    expect(await podsMayAssume(trust, { ...ok, 'aws:RequestTag/eks-cluster-arn': `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/other` })).toBe(false);
    expect(await podsMayAssume(trust, { ...ok, 'aws:RequestTag/kubernetes-service-account': 'default' })).toBe(false);
    const { 'aws:RequestTag/eks-cluster-arn': _dropped, ...untagged } = ok;
    expect(await podsMayAssume(trust, untagged)).toBe(false);
  });

  it('the trust-policy budget does not grow with namespaces: 1,000 namespaces on one role plan under a 1,024 quota (IRSA fails)', () => {
    const namespaces = Array.from({ length: 1000 }, (_, i) => `profile-${String(i).padStart(4, '0')}`);
    const settings = { trust_policy_quota: 1024, service_accounts: { 'default-editor': { namespaces, mechanism: 'pod-identity' } } };
    const item = irsaItem(planFor(['default-editor'], settings), 'default-editor');
    expect(item.serviceAccount.namespaces).toHaveLength(1000);
    expect(item.role.trustPolicySize).toBeLessThan(400);
    expect(() => planFor(['default-editor'], { ...settings, service_accounts: { 'default-editor': { namespaces } } })).toThrow(/trust policy/i);
  });

  it('the cluster ARN comes from DescribeCluster when known, else from its region', () => {
    const plan = planFor(['app'], { mechanism: 'pod-identity' }, { clusters: [{ ...PROD, arn: 'arn:aws:eks:us-west-2:111122223333:cluster/prod-real' }] });
    expect(irsaItem(plan, 'app').podIdentity?.clusters).toEqual([{ name: 'prod', arn: 'arn:aws:eks:us-west-2:111122223333:cluster/prod-real' }]);
  });

  it('the IRSA plan is unchanged by the feature (no mechanism field, same digest inputs)', () => {
    const plan = planFor(['app'], undefined);
    const item = irsaItem(plan, 'app');
    expect(Object.hasOwn(item, 'mechanism')).toBe(false);
    expect(Object.hasOwn(item, 'podIdentity')).toBe(false);
    expect(item.annotations['eks.amazonaws.com/role-arn']).toBe(item.role.arn);
  });
});
