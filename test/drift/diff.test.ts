/** lib/drift/diff.ts: every finding kind, semantic equality, messages, repairability. */
import { describe, expect, it } from 'vitest';
import { diffState, nsKey, saKey, type DesiredState, type ObservedRole, type ObservedState } from '../../lib/drift/diff.js';
import type { DriftFinding, RoleInfo, ServiceAccountInfo } from '../../lib/ports.js';
import { CLOUD_TAG, IDENTITY_TAG, MANAGED_BY_LABEL, MANAGED_BY_TAG, ownershipLabels, ROLE_ARN_ANNOTATION } from '../../lib/provisioning/ownership.js';
import { type K8sIrsaItem, type ProvisioningPlan } from '../../lib/provisioning/plan.js';
import { ACCOUNT, FOREIGN, PROD, STAGING, planFor } from '../provisioning/fixtures.js';

const CLOUD = 'cldrsrc_XXXX';
const NS = 'anyscale-operator';
const clone = <T>(x: T): T => structuredClone(x);

interface World {
  desired: DesiredState;
  roles: Map<string, ObservedRole | null>;
  listed: RoleInfo[];
  sas: Map<string, ServiceAccountInfo[]>;
  plan: ProvisioningPlan;
}

function world(values = ['sa-1', 'sa-2'], provisioning: unknown = {}, clusters = [PROD]): World {
  const plan = planFor(values, provisioning, { clusters, cloudId: CLOUD });
  const roles = new Map<string, ObservedRole | null>();
  const listed: RoleInfo[] = [];
  const sas = new Map<string, ServiceAccountInfo[]>();
  for (const item of plan.items as K8sIrsaItem[]) {
    const info: RoleInfo = {
      name: item.role.name,
      arn: item.role.arn,
      path: item.role.path,
      trustPolicy: clone(item.role.trustPolicy),
      tags: Object.fromEntries(item.role.tags.map((t) => [t.Key, t.Value])),
    };
    listed.push(info);
    roles.set(item.role.name, {
      info,
      inlinePolicyNames: [item.role.permissionPolicy.name],
      inlinePolicy: clone(item.role.permissionPolicy.document),
      attachedPolicyArns: [...item.role.extraPolicyArns],
    });
    for (const c of clusters) {
      for (const ns of item.serviceAccount.namespaces) {
        const list = sas.get(nsKey(c.name, ns)) ?? [];
        list.push({ namespace: ns, name: item.serviceAccount.name, annotations: { ...item.annotations }, labels: { ...item.labels }, resourceVersion: '1' });
        sas.set(nsKey(c.name, ns), list);
      }
    }
  }
  // Every namespace has a `default` SA without our labels; never a finding.
  for (const key of sas.keys()) sas.get(key)!.push({ namespace: key.split('\u0000')[1]!, name: 'default', annotations: {}, labels: {}, resourceVersion: '1' });
  return { desired: { cloudId: CLOUD, plan, clusters }, roles, listed, sas, plan };
}

const observed = (w: World): ObservedState => ({ roles: w.roles, listedRoles: w.listed, serviceAccounts: w.sas });
const diff = (w: World) => diffState(w.desired, observed(w));
const roleName = (w: World, sa = 'sa-1') => (w.plan.items.find((i) => i.kind === 'k8s-irsa' && i.serviceAccount.name === sa) as K8sIrsaItem).role.name;
const observedRole = (w: World, sa = 'sa-1') => w.roles.get(roleName(w, sa)) as ObservedRole;
const sa = (w: World, name: string, ns = NS, cluster = PROD.name) => w.sas.get(nsKey(cluster, ns))!.find((s) => s.name === name)!;
const kinds = (fs: DriftFinding[]) => fs.map((f) => f.kind).sort();
const sub = (ns: string, name: string) => `system:serviceaccount:${ns}:${name}`;

function trust(w: World, mutate: (doc: any) => void, name = 'sa-1'): void {
  const r = observedRole(w, name);
  mutate(r.info.trustPolicy);
}

describe('diffState', () => {
  it('finds nothing in a converged state', () => {
    const w = world();
    expect(observedRole(w).info.name).toMatch(/^iam-mapping-.*-sa-1$/);
    expect(diff(w)).toEqual([]);
  });

  describe('semantic equality: form never counts as drift', () => {
    it('trust policy: statement as object, Action as list, key order, Sid, values as one-element lists', () => {
      const w = world();
      trust(w, (doc) => {
        const st = doc.Statement[0];
        const cond = st.Condition.StringEquals;
        const reordered = Object.fromEntries(
          Object.keys(cond)
            .reverse()
            .map((k) => [k, [cond[k]]]),
        );
        doc.Statement = {
          Sid: 'Irsa',
          Condition: { StringEquals: reordered },
          Action: [st.Action],
          Principal: { Federated: [st.Principal.Federated] },
          Effect: 'Allow',
        };
      });
      expect(diff(w)).toEqual([]);
    });

    it('permission policy: statements reversed, Action string vs list, JSON re-serialised with whitespace', () => {
      const w = world();
      const r = observedRole(w);
      const doc = JSON.parse(JSON.stringify(r.inlinePolicy, null, 4)) as { Statement: Array<Record<string, unknown>> };
      doc.Statement.reverse();
      for (const st of doc.Statement) st.Action = Array.isArray(st.Action) ? (st.Action as string[])[0] : [st.Action];
      r.inlinePolicy = doc;
      expect(diff(w)).toEqual([]);
    });

    it('several clusters: statements in any order', () => {
      const w = world(['sa-1'], { clusters: [{ name: 'prod' }, { name: 'staging' }] }, [PROD, STAGING]);
      trust(w, (doc) => doc.Statement.reverse());
      expect(diff(w)).toEqual([]);
    });
  });

  it('role-missing', () => {
    const w = world();
    w.roles.set(roleName(w), null);
    w.listed = w.listed.filter((r) => r.name !== roleName(w));
    const [f] = diff(w);
    expect(f).toMatchObject({ kind: 'role-missing', name: roleName(w), severity: 'high', item: 'sa-1', repairable: true, actual: 'missing' });
    expect(f!.message).toContain('no longer exists');
  });

  describe('trust policy', () => {
    it('trust-policy-widened: sub system:serviceaccount:*:* with StringLike (critical, in words)', () => {
      const w = world();
      trust(w, (doc) => {
        const c = doc.Statement[0].Condition;
        const subKey = `${PROD.issuerHost}:sub`;
        delete c.StringEquals[subKey];
        c.StringLike = { [subKey]: 'system:serviceaccount:*:*' };
      });
      const fs = diff(w);
      expect(kinds(fs)).toEqual(['trust-policy-widened']);
      const f = fs[0]!;
      expect(f.severity).toBe('critical');
      expect(f.message).toBe(
        `trust policy of role ${roleName(w)} now allows any service account in any namespace (sub system:serviceaccount:*:*) — was only ${NS}/sa-1`,
      );
      expect(f.expected).toBe(sub(NS, 'sa-1'));
      expect(f.actual).toBe('system:serviceaccount:*:*');
      expect(f.repairable).toBe(true);
    });

    it('widened by an added exact subject is high; a replaced subject is widened + narrowed', () => {
      const w = world();
      trust(w, (doc) => (doc.Statement[0].Condition.StringEquals[`${PROD.issuerHost}:sub`] = [sub(NS, 'sa-1'), sub('team-b', 'intruder')]));
      const [f] = diff(w);
      expect(f).toMatchObject({ kind: 'trust-policy-widened', severity: 'high' });
      expect(f!.message).toContain('now allows team-b/intruder');

      const w2 = world();
      trust(w2, (doc) => (doc.Statement[0].Condition.StringEquals[`${PROD.issuerHost}:sub`] = sub(NS, 'other')));
      const fs = diff(w2);
      expect(kinds(fs)).toEqual(['trust-policy-narrowed', 'trust-policy-widened']);
      expect(fs.find((x) => x.kind === 'trust-policy-narrowed')!.message).toContain(`no longer allows ${NS}/sa-1`);
    });

    it('a namespace wildcard and a missing sub condition are described', () => {
      const w = world();
      trust(w, (doc) => {
        const c = doc.Statement[0].Condition;
        delete c.StringEquals[`${PROD.issuerHost}:sub`];
        c.StringLike = { [`${PROD.issuerHost}:sub`]: [sub(NS, '*'), sub(NS, 'sa-1')] };
      });
      expect(diff(w)[0]!.message).toContain(`any service account in namespace ${NS}`);
      const w2 = world();
      trust(w2, (doc) => delete doc.Statement[0].Condition.StringEquals[`${PROD.issuerHost}:sub`]);
      const [f] = diff(w2);
      expect(f).toMatchObject({ kind: 'trust-policy-widened', severity: 'critical' });
      expect(f!.message).toContain('no sub condition');
    });

    it('trust-policy-aud-removed', () => {
      const w = world();
      trust(w, (doc) => delete doc.Statement[0].Condition.StringEquals[`${PROD.issuerHost}:aud`]);
      const [f, ...rest] = diff(w);
      expect(rest).toEqual([]);
      expect(f).toMatchObject({
        kind: 'trust-policy-aud-removed',
        severity: 'high',
        expected: `${PROD.issuerHost}:aud = sts.amazonaws.com`,
        actual: 'no aud condition',
      });
      expect(f!.message).toContain('no longer checks the token audience');
    });

    it('trust-policy-foreign-statement: another account, another cluster, or anyone', () => {
      for (const principal of [{ AWS: 'arn:aws:iam::999999999999:root' }, { Federated: FOREIGN.oidcProviderArn }, '*']) {
        const w = world();
        trust(w, (doc) => doc.Statement.push({ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole*' }));
        const fs = diff(w);
        expect(kinds(fs)).toEqual(['trust-policy-foreign-statement']);
        expect(fs[0]!.severity).toBe('critical');
        expect(fs[0]!.message).toMatch(/has a statement the service did not write: it lets .* sts:AssumeRole\* without conditions/);
      }
    });

    it('trust-policy-narrowed: the provider statement removed, or a Deny added', () => {
      const w = world();
      trust(w, (doc) => (doc.Statement = [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]));
      expect(kinds(diff(w))).toEqual(['trust-policy-foreign-statement', 'trust-policy-narrowed']);
      const w2 = world();
      trust(w2, (doc) => doc.Statement.push({ Effect: 'Deny', Principal: '*', Action: '*' }));
      expect(kinds(diff(w2))).toEqual(['trust-policy-narrowed']);
    });

    it('several findings in one policy at once', () => {
      const w = world();
      trust(w, (doc) => {
        const c = doc.Statement[0].Condition;
        c.StringLike = { [`${PROD.issuerHost}:sub`]: 'system:serviceaccount:*:*' };
        delete c.StringEquals;
        doc.Statement.push({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'sts:AssumeRole' });
      });
      expect(kinds(diff(w))).toEqual(['trust-policy-aud-removed', 'trust-policy-foreign-statement', 'trust-policy-widened']);
    });
  });

  describe('permissions', () => {
    it('permission-policy-changed: widened (high) and deleted (medium)', () => {
      const w = world();
      const r = observedRole(w);
      (r.inlinePolicy as { Statement: unknown[] }).Statement.push({ Effect: 'Allow', Action: 's3:*', Resource: '*' });
      const [f] = diff(w);
      expect(f).toMatchObject({ kind: 'permission-policy-changed', severity: 'high', name: `${roleName(w)}/iam-mapping-default-bucket` });
      expect(f!.message).toContain('now also grants Allow s3:* on *');

      const w2 = world();
      observedRole(w2).inlinePolicy = null;
      observedRole(w2).inlinePolicyNames = [];
      expect(diff(w2)[0]).toMatchObject({ kind: 'permission-policy-changed', severity: 'medium', actual: 'missing' });
    });

    it('extra-policy-attached (managed and inline) is reported, never repairable; managed-policy-detached is', () => {
      const arn = `arn:aws:iam::${ACCOUNT}:policy/team-a`;
      const w = world(['sa-1'], { service_accounts: { 'sa-1': { extra_policy_arns: [arn] } } });
      const r = observedRole(w);
      r.attachedPolicyArns = ['arn:aws:iam::aws:policy/AdministratorAccess'];
      r.inlinePolicyNames.push('admin');
      const fs = diff(w);
      expect(kinds(fs)).toEqual(['extra-policy-attached', 'extra-policy-attached', 'managed-policy-detached']);
      expect(fs.filter((f) => f.kind === 'extra-policy-attached').every((f) => !f.repairable)).toBe(true);
      expect(fs.find((f) => f.kind === 'managed-policy-detached')).toMatchObject({ repairable: true, expected: arn });
    });
  });

  describe('service accounts', () => {
    it('service-account-missing, annotation-missing, annotation-mismatch', () => {
      const w = world();
      w.sas.set(
        nsKey(PROD.name, NS),
        w.sas.get(nsKey(PROD.name, NS))!.filter((s) => s.name !== 'sa-2'),
      );
      const other = `arn:aws:iam::${ACCOUNT}:role/other`;
      sa(w, 'sa-1').annotations[ROLE_ARN_ANNOTATION] = other;
      let fs = diff(w);
      expect(kinds(fs)).toEqual(['annotation-mismatch', 'service-account-missing']);
      const mismatch = fs.find((f) => f.kind === 'annotation-mismatch')!;
      expect(mismatch).toMatchObject({ name: `${NS}/sa-1`, namespace: NS, cluster: 'prod', actual: other, repairable: true });
      expect(mismatch.message).toContain(`now names role ${other}`);

      delete sa(w, 'sa-1').annotations[ROLE_ARN_ANNOTATION];
      fs = diff(w);
      expect(kinds(fs)).toEqual(['annotation-missing', 'service-account-missing']);
    });

    it('ownership-label-removed: reported, not repairable unless the config adopts', () => {
      const w = world();
      delete sa(w, 'sa-1').labels[MANAGED_BY_LABEL];
      sa(w, 'sa-1').annotations[ROLE_ARN_ANNOTATION] = 'arn:aws:iam::111122223333:role/x';
      const fs = diff(w);
      expect(kinds(fs)).toEqual(['annotation-mismatch', 'ownership-label-removed']);
      expect(fs.every((f) => !f.repairable)).toBe(true);
      expect(fs.find((f) => f.kind === 'annotation-mismatch')!.message).toContain('leaves it alone');

      const adopted = world(['sa-1'], { service_accounts: { 'sa-1': { adopt_service_account: true } } });
      delete sa(adopted, 'sa-1').labels[MANAGED_BY_LABEL];
      expect(diff(adopted)).toMatchObject([{ kind: 'ownership-label-removed', repairable: true }]);
    });

    it('a service account the run left alone (never ours) is not an ownership finding', () => {
      const w = world();
      sa(w, 'sa-1').labels = {};
      w.desired.leftAlone = new Set([saKey('prod', NS, 'sa-1')]);
      expect(diff(w)).toEqual([]);
    });

    it('role ownership tags removed: every finding of that role is report-only', () => {
      const w = world();
      const r = observedRole(w);
      delete r.info.tags[MANAGED_BY_TAG];
      trust(w, (doc) => delete doc.Statement[0].Condition.StringEquals[`${PROD.issuerHost}:aud`]);
      const fs = diff(w);
      expect(kinds(fs)).toEqual(['ownership-label-removed', 'trust-policy-aud-removed']);
      expect(fs.every((f) => !f.repairable)).toBe(true);
      expect(fs.find((f) => f.kind === 'ownership-label-removed')!.message).toContain('adopt_role');
    });

    it('a role tag naming another cloud: the advice is restoring the tag or the other cloud, never adoption (refused)', () => {
      const w = world();
      observedRole(w).info.tags[CLOUD_TAG] = 'cldrsrc_B';
      const f = diff(w).find((x) => x.kind === 'ownership-label-removed')!;
      expect(f.message).toContain('names cloud cldrsrc_B');
      expect(f.message).toContain('if the tag was tampered with, restore');
      expect(f.message).toContain("remove it from that cloud's config");
      expect(f.message).not.toContain('adopt_role');
      expect(f.repairable).toBe(false);
    });
  });

  describe('orphans', () => {
    it('orphan-role and orphan-service-account: only owned ones of this cloud, not kept ones', () => {
      const w = world(['sa-1']);
      const owned = { [MANAGED_BY_TAG]: 'iam-mapping-service', [CLOUD_TAG]: CLOUD, [IDENTITY_TAG]: 'gone' };
      const mk = (name: string, tags: Record<string, string>): RoleInfo => ({
        name,
        arn: `arn:aws:iam::${ACCOUNT}:role/iam-mapping/${name}`,
        path: '/iam-mapping/',
        trustPolicy: {},
        tags,
      });
      w.listed.push(
        mk('iam-mapping-cldrsrc_XXXX-gone', owned),
        mk('hand-made', {}),
        mk('other-cloud', { ...owned, [CLOUD_TAG]: 'cldrsrc_OTHER' }),
        mk('iam-mapping-cldrsrc_XXXX-newer', owned),
      );
      const list = w.sas.get(nsKey('prod', NS))!;
      list.push(
        { namespace: NS, name: 'gone', annotations: {}, labels: ownershipLabels(CLOUD), resourceVersion: '1' },
        { namespace: NS, name: 'theirs', annotations: {}, labels: ownershipLabels('cldrsrc_OTHER'), resourceVersion: '1' },
        { namespace: NS, name: 'newer', annotations: {}, labels: ownershipLabels(CLOUD), resourceVersion: '1' },
      );
      w.desired.keep = { roles: new Set(['iam-mapping-cldrsrc_xxxx-newer']), serviceAccounts: new Set([saKey('prod', NS, 'newer')]) };
      const fs = diff(w);
      expect(fs.map((f) => [f.kind, f.name])).toEqual([
        ['orphan-role', 'iam-mapping-cldrsrc_XXXX-gone'],
        ['orphan-service-account', `${NS}/gone`],
      ]);
      expect(fs.every((f) => f.severity === 'low' && !f.repairable && f.item === undefined)).toBe(true);
      expect(fs[0]!.message).toContain('made for gone');
    });
  });

  describe('beyond the plan: OIDC providers and orphan instance profiles', () => {
    it('oidc-provider-missing per cluster whose provider is not listed (critical, never repairable); not read → no finding', () => {
      const w = world(['sa-1', 'sa-2'], {}, [PROD, STAGING]);
      expect(diffState(w.desired, { ...observed(w), oidcProviderArns: new Set([PROD.oidcProviderArn, STAGING.oidcProviderArn]) })).toEqual([]);
      const fs = diffState(w.desired, { ...observed(w), oidcProviderArns: new Set([PROD.oidcProviderArn]) });
      expect(fs.map((f) => [f.kind, f.name, f.severity, f.repairable, f.expected, f.cluster])).toEqual([
        ['oidc-provider-missing', STAGING.name, 'critical', false, STAGING.oidcProviderArn, STAGING.name],
      ]);
      expect(fs[0]!.message).toContain(`cluster ${STAGING.name} (${STAGING.oidcProviderArn}) no longer exists`);
      expect(fs[0]!.message).toContain('2 roles');
      expect(diff(w)).toEqual([]);
    });

    it('orphan-instance-profile: owned by this cloud and not planned or kept; another cloud’s or a hand-made one is not', () => {
      const w = world(['sa-1']);
      const owned = { [MANAGED_BY_TAG]: 'iam-mapping-service', [CLOUD_TAG]: CLOUD };
      const profile = (name: string, tags: Record<string, string>) => ({
        name,
        arn: `arn:aws:iam::${ACCOUNT}:instance-profile/iam-mapping/${name}`,
        roleNames: ['r'],
        tags,
      });
      const fs = diffState(
        { ...w.desired, keep: { instanceProfiles: new Set(['kept']) } },
        {
          ...observed(w),
          listedInstanceProfiles: [
            profile('old-vm', owned),
            profile('Kept', owned),
            profile('theirs', { ...owned, [CLOUD_TAG]: 'cldrsrc_OTHER' }),
            profile('hand-made', {}),
          ],
        },
      );
      expect(fs.map((f) => [f.kind, f.name, f.severity, f.repairable])).toEqual([['orphan-instance-profile', 'old-vm', 'low', false]]);
      expect(fs[0]!.message).toContain('AWS/K8S');
    });
  });

  describe('permissions-boundary-changed', () => {
    const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/iam-mapping-workload-boundary`;
    const bounded = () => {
      const w = world(['sa-1', 'sa-2']);
      w.desired = { ...w.desired, permissionsBoundaryArn: BOUNDARY };
      for (const r of w.roles.values()) r!.info.permissionsBoundaryArn = BOUNDARY;
      return w;
    };

    it('every role carrying the deployment boundary: nothing; no deployment boundary: never checked', () => {
      expect(diff(bounded())).toEqual([]);
      const w = world();
      observedRole(w).info.permissionsBoundaryArn = 'arn:aws:iam::aws:policy/AdministratorAccess';
      expect(diff(w)).toEqual([]);
    });

    it('removed: high, repairable on our role, names the boundary', () => {
      const w = bounded();
      delete observedRole(w).info.permissionsBoundaryArn;
      const [f, ...rest] = diff(w);
      expect(rest).toEqual([]);
      expect(f).toMatchObject({
        kind: 'permissions-boundary-changed',
        severity: 'high',
        name: roleName(w),
        resource: 'iam-role',
        item: 'sa-1',
        expected: BOUNDARY,
        actual: 'none',
        repairable: true,
      });
      expect(f!.message).toMatch(/lost the deployment's permissions boundary .*nothing caps what its policies grant.*a repair puts it back/);
    });

    it('replaced by another: the other ARN is the actual value', () => {
      const w = bounded();
      observedRole(w, 'sa-2').info.permissionsBoundaryArn = 'arn:aws:iam::aws:policy/AdministratorAccess';
      expect(diff(w)).toEqual([
        expect.objectContaining({
          kind: 'permissions-boundary-changed',
          name: roleName(w, 'sa-2'),
          actual: 'arn:aws:iam::aws:policy/AdministratorAccess',
          repairable: true,
        }),
      ]);
    });

    it('on a role that lost its ownership tags: reported, not repairable (the service no longer changes it)', () => {
      const w = bounded();
      const r = observedRole(w);
      delete r.info.permissionsBoundaryArn;
      delete r.info.tags[MANAGED_BY_TAG];
      const f = diff(w).find((x) => x.kind === 'permissions-boundary-changed');
      expect(f).toMatchObject({ repairable: false });
      expect(f!.message).not.toMatch(/repair/);
    });
  });

  it('AWS VM: instance-profile-missing / instance-profile-role-mismatch; the EC2 trust statement compared', () => {
    const plan = planFor(['profile-a', 'profile-b'], {}, { computeStack: 'VM', cloudId: CLOUD });
    const roles = new Map<string, ObservedRole | null>();
    for (const item of plan.items) {
      const info: RoleInfo = {
        name: item.role.name,
        arn: item.role.arn,
        path: item.role.path,
        trustPolicy: clone(item.role.trustPolicy),
        tags: Object.fromEntries(item.role.tags.map((t) => [t.Key, t.Value])),
      };
      roles.set(item.role.name, {
        info,
        inlinePolicyNames: [item.role.permissionPolicy.name],
        inlinePolicy: clone(item.role.permissionPolicy.document),
        attachedPolicyArns: [],
      });
    }
    const [a, b] = plan.items;
    const tags = Object.fromEntries(a!.role.tags.map((t) => [t.Key, t.Value]));
    const instanceProfiles = new Map([
      ['profile-a', null],
      ['profile-b', { name: 'profile-b', arn: 'x', roleNames: ['someone-else'], tags }],
    ]);
    (roles.get(b!.role.name)!.info.trustPolicy as any).Statement.push({
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::999999999999:root' },
      Action: 'sts:AssumeRole',
    });
    const fs = diffState({ cloudId: CLOUD, plan, clusters: [] }, { roles, listedRoles: [], serviceAccounts: new Map(), instanceProfiles });
    expect(fs.map((f) => `${f.kind} ${f.name}`).sort()).toEqual([
      'instance-profile-missing profile-a',
      'instance-profile-role-mismatch profile-b',
      `trust-policy-foreign-statement ${b!.role.name}`,
    ]);
    expect(fs.find((f) => f.kind === 'instance-profile-role-mismatch')).toMatchObject({ expected: b!.role.name, actual: 'someone-else', repairable: true });
  });

  it('findings are sorted most severe first', () => {
    const w = world();
    trust(w, (doc) => {
      delete doc.Statement[0].Condition.StringEquals[`${PROD.issuerHost}:sub`];
      doc.Statement[0].Condition.StringLike = { [`${PROD.issuerHost}:sub`]: 'system:serviceaccount:*:*' };
    });
    w.sas.set(nsKey(PROD.name, NS), []);
    const fs = diff(w);
    const ranks = fs.map((f) => ['critical', 'high', 'medium', 'low'].indexOf(f.severity));
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    expect(fs[0]!.severity).toBe('critical');
  });
});
