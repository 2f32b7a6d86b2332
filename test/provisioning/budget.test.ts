import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildWebIdentityTrustPolicy,
  canAssumeWithWebIdentity,
  compactPolicy,
  fitTrustPolicy,
  PlanError,
  policySize,
  serviceAccountSubject,
  type PolicyDocument,
  type PolicyStatement,
} from '../../lib/provisioning/index.js';
import { FOREIGN, PROD, STAGING } from './fixtures.js';

const oneNs = (n: number, len: number) => Array.from({ length: n }, (_, i) => `n${String(i).padStart(len - 1, '0')}`);
const fit = (len: number, quota: number, sa = 'default-editor', clusters = [PROD]) => {
  let n = 0;
  while (policySize(buildWebIdentityTrustPolicy(clusters, oneNs(n + 1, len).map((ns) => serviceAccountSubject(ns, sa)))) <= quota) n++;
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
    const size = (n: number) => policySize(buildWebIdentityTrustPolicy([PROD], oneNs(n, 10).map((ns) => serviceAccountSubject(ns, 'default-editor'))));
    expect(size(1)).toBe(486);
    expect(size(3) - size(2)).toBe(10 + 14 + 26);
  });

  it('a second cluster more than halves it', () => {
    expect(fit(10, 2048, 'default-editor', [PROD, STAGING])).toBe(12);
  });
});

describe('fitTrustPolicy', () => {
  const small = buildWebIdentityTrustPolicy([PROD], ['system:serviceaccount:a:sa']);
  it('returns small documents untouched', () => {
    expect(fitTrustPolicy({ roleName: 'r', document: small, quota: 2048 })).toEqual({ document: small, size: policySize(small), originalSize: policySize(small), compacted: false });
  });

  it('compacts a naive one-statement-per-subject document when that makes it fit', () => {
    const subs = oneNs(12, 10).map((ns) => serviceAccountSubject(ns, 'sa'));
    const naive: PolicyDocument = { Version: '2012-10-17', Statement: subs.map((s) => buildWebIdentityTrustPolicy([PROD], [s]).Statement[0] as PolicyStatement) };
    expect(policySize(naive)).toBeGreaterThan(2048);
    const r = fitTrustPolicy({ roleName: 'r', document: naive, quota: 2048 });
    expect(r.compacted).toBe(true);
    expect(r.document).toEqual(buildWebIdentityTrustPolicy([PROD], subs));
    expect(r.size).toBeLessThan(r.originalSize);
  });

  it('throws PlanError naming role, size, quota and remedies', () => {
    const big = buildWebIdentityTrustPolicy([PROD], oneNs(40, 10).map((ns) => serviceAccountSubject(ns, 'default-editor')));
    expect(() => fitTrustPolicy({ roleName: 'iam-mapping-x', document: big, quota: 2048, path: 'provisioning.namespaces' })).toThrow(PlanError);
    expect(() => fitTrustPolicy({ roleName: 'iam-mapping-x', document: big, quota: 2048 })).toThrow(
      `role iam-mapping-x trust policy is ${policySize(big).toLocaleString('en-US')} characters, over the quota of 2,048 (ACLSizePerRole); split namespaces across service accounts, use an explicit wildcard subject, or raise trust_policy_quota (up to 4,096) after requesting an IAM quota increase`,
    );
  });
});

describe('compactPolicy never widens (nor narrows)', () => {
  const clusters = [PROD, STAGING, FOREIGN];
  const subs = [
    'system:serviceaccount:a:sa',
    'system:serviceaccount:b:sa',
    'system:serviceaccount:a:other',
    'system:serviceaccount:*:sa',
    'system:serviceaccount:a:*',
    'system:serviceaccount:?:sa',
  ];
  const auds = ['sts.amazonaws.com', 'other-aud'];
  const statement = fc
    .record({
      c: fc.constantFrom(PROD, STAGING),
      effect: fc.constantFrom('Allow', 'Allow', 'Allow', 'Deny'),
      op: fc.constantFrom('StringEquals', 'StringLike', 'StringNotEquals', 'StringNotLike'),
      subs: fc.uniqueArray(fc.constantFrom(...subs), { minLength: 1, maxLength: 3 }),
      aud: fc.uniqueArray(fc.constantFrom(...auds), { minLength: 1, maxLength: 2 }),
      audInSameBlock: fc.boolean(),
    })
    .map(({ c, effect, op, subs: s, aud, audInSameBlock }): PolicyStatement => {
      const a = { [`${c.issuerHost}:aud`]: aud.length === 1 ? (aud[0] as string) : aud };
      const sub = { [`${c.issuerHost}:sub`]: s.length === 1 ? (s[0] as string) : s };
      // Without aud in the same block, a StringEquals sub replaces the aud condition: also a valid input.
      const Condition = audInSameBlock && op === 'StringEquals' ? { StringEquals: { ...a, ...sub } } : { StringEquals: a, [op]: sub };
      return { Effect: effect as 'Allow' | 'Deny', Principal: { Federated: c.oidcProviderArn }, Action: 'sts:AssumeRoleWithWebIdentity', Condition };
    });
  const probeSubs = [...subs, 'system:serviceaccount:c:sa', 'system:serviceaccount:a:x', 'system:serviceaccount:ab:sa', ''];

  it('property: same decision for every request, never larger', () => {
    fc.assert(
      fc.property(fc.array(statement, { minLength: 1, maxLength: 12 }), (statements) => {
        const naive: PolicyDocument = { Version: '2012-10-17', Statement: statements };
        const compact = compactPolicy(naive);
        expect(policySize(compact)).toBeLessThanOrEqual(policySize(naive));
        for (const c of clusters)
          for (const issuer of clusters)
            for (const aud of auds)
              for (const sub of probeSubs) {
                const req = { federatedPrincipal: c.oidcProviderArn, issuerHost: issuer.issuerHost, claims: { aud, sub } };
                expect(canAssumeWithWebIdentity(compact, req)).toBe(canAssumeWithWebIdentity(naive, req));
              }
      }),
      { numRuns: 250 },
    );
  });

  it('merges exact StringEquals subjects into a StringLike statement and drops the ones a wildcard covers', () => {
    const iss = PROD.issuerHost;
    const st = (op: string, sub: string): PolicyStatement => ({
      Effect: 'Allow',
      Principal: { Federated: PROD.oidcProviderArn },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition:
        op === 'StringEquals'
          ? { StringEquals: { [`${iss}:aud`]: 'sts.amazonaws.com', [`${iss}:sub`]: sub } }
          : { StringEquals: { [`${iss}:aud`]: 'sts.amazonaws.com' }, [op]: { [`${iss}:sub`]: sub } },
    });
    const naive: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [st('StringEquals', 'system:serviceaccount:flyte:default'), st('StringLike', 'system:serviceaccount:*:default'), st('StringEquals', 'system:serviceaccount:x:other')],
    };
    expect(compactPolicy(naive).Statement).toEqual([
      { ...st('StringLike', 'x'), Condition: { StringEquals: { [`${iss}:aud`]: 'sts.amazonaws.com' }, StringLike: { [`${iss}:sub`]: ['system:serviceaccount:*:default', 'system:serviceaccount:x:other'] } } },
    ]);
  });

  it('does not merge statements that differ in two conditions (that would widen)', () => {
    const iss = PROD.issuerHost;
    const st = (aud: string, sub: string): PolicyStatement => ({
      Effect: 'Allow',
      Principal: { Federated: PROD.oidcProviderArn },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${iss}:aud`]: aud, [`${iss}:sub`]: sub } },
    });
    const doc: PolicyDocument = { Version: '2012-10-17', Statement: [st('sts.amazonaws.com', 's1'), st('other', 's2')] };
    expect(compactPolicy(doc)).toEqual(doc);
  });

  it('leaves statements it does not understand alone', () => {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', NotPrincipal: { Federated: 'x' }, Action: 'sts:AssumeRoleWithWebIdentity' },
        { Effect: 'Allow', NotPrincipal: { Federated: 'x' }, Action: 'sts:AssumeRoleWithWebIdentity' },
      ],
    };
    expect(compactPolicy(doc)).toEqual(doc);
  });
});
