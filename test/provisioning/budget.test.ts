import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkTrustPolicySize } from '../../lib/provisioning/budget.js';
import { PlanError } from '../../lib/provisioning/errors.js';
import { globMatch } from '../../lib/provisioning/glob.js';
import { buildWebIdentityTrustPolicy, policySize, serviceAccountSubject } from '../../lib/provisioning/policies.js';
import { FOREIGN, PROD, STAGING } from './fixtures.js';

const oneNs = (n: number, len: number) => Array.from({ length: n }, (_, i) => `n${String(i).padStart(len - 1, '0')}`);
const fit = (len: number, quota: number, sa = 'default-editor', clusters = [PROD]) => {
  let n = 0;
  while (
    policySize(
      buildWebIdentityTrustPolicy(
        clusters,
        oneNs(n + 1, len).map((ns) => serviceAccountSubject(ns, sa)),
      ),
    ) <= quota
  )
    n++;
  return n;
};

describe('how many namespaces fit (one cluster, typical issuer oidc.eks.us-west-2.amazonaws.com/id/<32 hex>)', () => {
  it('SA default-editor (Kubeflow): 32 namespaces of 10 characters in 2,048', () => {
    expect(fit(10, 2048)).toBe(32);
    expect(fit(6, 2048)).toBe(35);
    expect(fit(12, 2048)).toBe(30); // Kubeflow broke at ~30 profiles (kubeflow/kubeflow#6687)
    expect(fit(20, 2048)).toBe(26);
    expect(fit(10, 4096)).toBe(73);
  });

  it('each extra namespace costs len(ns) + len(sa) + 26 characters; one statement costs ~460 + the subject', () => {
    const size = (n: number) =>
      policySize(
        buildWebIdentityTrustPolicy(
          [PROD],
          oneNs(n, 10).map((ns) => serviceAccountSubject(ns, 'default-editor')),
        ),
      );
    expect(size(1)).toBe(486);
    expect(size(3) - size(2)).toBe(10 + 14 + 26);
  });

  it('a second cluster more than halves it', () => {
    expect(fit(10, 2048, 'default-editor', [PROD, STAGING])).toBe(12);
  });
});

describe('checkTrustPolicySize', () => {
  const small = buildWebIdentityTrustPolicy([PROD], ['system:serviceaccount:a:sa']);
  it('returns the size of a document within the quota', () => {
    expect(checkTrustPolicySize({ roleName: 'r', document: small, quota: 2048 })).toBe(policySize(small));
    expect(checkTrustPolicySize({ roleName: 'r', document: small, quota: policySize(small) })).toBe(policySize(small));
  });

  it('throws PlanError naming role, size, quota and remedies', () => {
    const big = buildWebIdentityTrustPolicy(
      [PROD],
      oneNs(40, 10).map((ns) => serviceAccountSubject(ns, 'default-editor')),
    );
    expect(() => checkTrustPolicySize({ roleName: 'iam-mapping-x', document: big, quota: 2048, path: 'provisioning.namespaces' })).toThrow(PlanError);
    expect(() => checkTrustPolicySize({ roleName: 'iam-mapping-x', document: big, quota: 2048 })).toThrow(
      `role iam-mapping-x trust policy is ${policySize(big).toLocaleString('en-US')} characters, over the quota of 2,048 (ACLSizePerRole); split namespaces across service accounts, use an explicit wildcard subject, or raise trust_policy_quota (up to 4,096) after requesting an IAM quota increase`,
    );
    try {
      checkTrustPolicySize({ roleName: 'iam-mapping-x', document: big, quota: 2048, path: 'provisioning.namespaces', hint: () => '(about 32 fit)' });
    } catch (e) {
      expect((e as PlanError).details).toEqual([
        expect.objectContaining({ path: 'provisioning.namespaces', role: 'iam-mapping-x', size: policySize(big), quota: 2048 }),
      ]);
      expect((e as PlanError).message).toContain('split namespaces across service accounts (about 32 fit)');
    }
  });
});

describe('the trust documents the planner builds leave nothing to compact', () => {
  const subjects = [
    'system:serviceaccount:a:sa',
    'system:serviceaccount:b:sa',
    'system:serviceaccount:a:other',
    'system:serviceaccount:*:sa',
    'system:serviceaccount:a:*',
    'system:serviceaccount:?:sa',
  ];
  it('property: one statement per OIDC provider, no duplicate or wildcard-covered subject, single values as scalars', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(PROD, STAGING, FOREIGN), { minLength: 1, maxLength: 4 }),
        fc.array(fc.constantFrom(...subjects), { minLength: 1, maxLength: 8 }),
        (clusters, subs) => {
          const doc = buildWebIdentityTrustPolicy(clusters, subs);
          const providers = doc.Statement.map((st) => (st.Principal as { Federated: string }).Federated);
          expect(new Set(providers).size).toBe(providers.length);
          expect(providers.length).toBe(new Set(clusters.map((c) => c.oidcProviderArn)).size);
          for (const st of doc.Statement) {
            const sub = Object.values(st.Condition ?? {}).flatMap((block) =>
              Object.entries(block)
                .filter(([k]) => k.endsWith(':sub'))
                .map(([, v]) => v),
            );
            expect(sub).toHaveLength(1);
            const list = Array.isArray(sub[0]) ? sub[0] : [sub[0] as string];
            if (Array.isArray(sub[0])) expect(list.length).toBeGreaterThan(1);
            expect(new Set(list).size).toBe(list.length);
            const patterns = list.filter((x) => /[*?]/.test(x));
            for (const exact of list.filter((x) => !/[*?]/.test(x))) expect(patterns.some((p) => globMatch(p, exact))).toBe(false);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
