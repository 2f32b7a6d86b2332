/**
 * Issue 5, attacks: (1) values built to escape into another document (a policy, an ARN, a label,
 * a shell line) are refused with 400 naming the field — in rule values, default_value and every
 * provisioning setting — and nothing reaches the sandbox's IAM or Kubernetes; (2) the trust
 * policies the HTTP flow actually wrote into the sandbox for the seed scenarios, read back from
 * `server.sandbox.iam` by the role each ServiceAccount is annotated with, allow the intended
 * subjects only: another namespace, another SA, a wrong audience, another cluster's provider and
 * provider/issuer cross-pairings are denied.
 */
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globMatch } from '../../lib/provisioning/glob.js';
import { STS_AUDIENCE, type PolicyDocument } from '../../lib/provisioning/policies.js';
import { canAssumeWithWebIdentity } from '../provisioning/trust-evaluator.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { pool } from './util.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    sandbox: {
      clusters: [{ name: 'sandbox' }, { name: 'staging' }, { name: 'foreign' }],
      namespaces: ['default', 'anyscale-operator', 'usera', 'userb', 'team-b', 'flyte'],
    },
  });
});
afterAll(async () => {
  await h?.stop();
});

// ------------------------------------------------------------------------------ (1) escapes

const CLOUD = 'cldrsrc_attack';
const MAPPING = `/v1/clouds/${CLOUD}/iam-mapping`;
const base = (provider = 'AWS', stack = 'K8S', value = 'sa-ok') => ({
  cloud_deployment_id: CLOUD,
  cloud_provider: provider,
  compute_stack: stack,
  dataplane_iam_mapping: { rules: [{ selector: 'workload-type=job', value }], fallback_rule: 'CLOUD_DEFAULT' },
});
const withProvisioning = (provisioning: unknown) => ({ ...base(), provisioning });

/** Strings that try to leave their field: quotes, wildcards, expansions, line breaks, look-alikes, traversal. */
const ESCAPES = [
  'sa"}]',
  'sa","Effect":"Allow',
  "sa'x",
  'sa`id`',
  'sa*',
  'sa?',
  '*',
  '${aws:username}',
  'sa$(id)',
  'sa\nx',
  'sa\r\nx',
  'sa x',
  'sa\tx',
  'sа', // Cyrillic а
  'ѕa', // Cyrillic ѕ
  'ｓａ', // fullwidth
  'sa\u200b',
  'sa\u202egnp',
  'sa\u0000',
  '..',
  '../sa',
  'a/b',
  '/sa',
  'sa\\x',
  'sa{x}',
  'sa;rm -rf',
  'sa|x',
  'sa%2Fx',
  'sa#x',
  'sa:x',
];
const NOT_K8S_NAMES = [...ESCAPES, 'SA', '-sa', 'sa-', 'a'.repeat(254)];
/** IAM names allow letters, digits and +=,.@_- (so `..` is a legal instance-profile name). */
const NOT_IAM_NAMES = ESCAPES.filter((s) => !/^[\w+=,.@-]+$/.test(s));

type Case = [label: string, body: unknown, path: string | RegExp];
const cases: Case[] = [];
for (const v of NOT_K8S_NAMES) {
  cases.push([`K8S rule value ${JSON.stringify(v)}`, base('AWS', 'K8S', v), 'dataplane_iam_mapping.rules[0].value']);
  cases.push([
    `K8S default_value ${JSON.stringify(v)}`,
    { ...base(), dataplane_iam_mapping: { ...base().dataplane_iam_mapping, default_value: v } },
    'dataplane_iam_mapping.default_value',
  ]);
}
for (const v of [...NOT_IAM_NAMES, 'arn:aws:iam::123456789012:instance-profile/x', 'a'.repeat(129)]) {
  cases.push([`AWS VM value ${JSON.stringify(v)}`, base('AWS', 'VM', v), 'dataplane_iam_mapping.rules[0].value']);
}
for (const v of [...ESCAPES.map((e) => `${e}@p.iam.gserviceaccount.com`), 'sa@evil.com', 'sa@p.iam.gserviceaccount.com.evil.com']) {
  cases.push([`GCP VM value ${JSON.stringify(v)}`, base('GCP', 'VM', v), 'dataplane_iam_mapping.rules[0].value']);
}
for (const v of [...ESCAPES, 'Team-B', 'a'.repeat(64)]) {
  cases.push([`namespace ${JSON.stringify(v)}`, withProvisioning({ namespaces: ['anyscale-operator', v] }), 'provisioning.namespaces[1]']);
  cases.push([
    `SA namespace ${JSON.stringify(v)}`,
    withProvisioning({ service_accounts: { 'sa-ok': { namespaces: [v] } } }),
    'provisioning.service_accounts.sa-ok.namespaces[0]',
  ]);
}
const subjects = [
  // (`*` is not here: `<namespace>:*` is the documented whole-segment wildcard; `sa*` is refused below as a partial one)
  ...ESCAPES.filter((e) => e !== '*').map((e) => `system:serviceaccount:anyscale-operator:${e}`),
  ...ESCAPES.filter((e) => e !== '*' && e !== 'sa*' && e !== 'sa?').map((e) => `system:serviceaccount:${e}:sa-ok`),
  'system:serviceaccount:*:*',
  'system:serviceaccount:*:*e*',
  'system:serviceaccount:anyscale-*:sa-ok',
  'system:serviceaccount:kube-system:sa-ok',
  'system:serviceaccount:anyscale-operator:???',
  'system:serviceaccount:anyscale-operator:other-sa',
  'system:serviceaccounts:anyscale-operator',
  'system:serviceaccount:anyscale-operator:sa-ok:x',
  '*',
  'system:*',
  'arn:aws:iam::123456789012:root',
];
for (const v of subjects) {
  cases.push([
    `subject ${JSON.stringify(v)}`,
    withProvisioning({ service_accounts: { 'sa-ok': { subjects: [v] } } }),
    'provisioning.service_accounts.sa-ok.subjects[0]',
  ]);
}
for (const v of [...NOT_IAM_NAMES, 'a'.repeat(65)]) {
  cases.push([
    `role_name ${JSON.stringify(v)}`,
    withProvisioning({ service_accounts: { 'sa-ok': { role_name: v } } }),
    'provisioning.service_accounts.sa-ok.role_name',
  ]);
}
const arns = [
  '*',
  'arn:aws:iam::123456789012:policy/*',
  'arn:aws:iam::*:policy/x',
  'arn:aws:iam::123456789012:policy/x"',
  'arn:aws:iam::123456789012:policy/x${aws:username}',
  'arn:aws:iam::123456789012:policy/x\n',
  'arn:aws:iam::123456789012:policy/ｘ',
  'arn:aws:s3:::bucket',
  'arn:aws:iam::123456789012:role/admin',
  'arn:aws:iam::123456789012:user/x',
  'arn:aws:iam::12345:policy/x',
  'AdministratorAccess',
];
for (const v of arns) {
  cases.push([
    `extra_policy_arns ${JSON.stringify(v)}`,
    withProvisioning({ service_accounts: { 'sa-ok': { extra_policy_arns: [v] } } }),
    'provisioning.service_accounts.sa-ok.extra_policy_arns[0]',
  ]);
}
for (const v of [...ESCAPES, 'bucket/*', 'bucket/../other', 'a..b', 'Bucket', 'ab', '192.168.1.1', 'xn--bucket', 'bucket-s3alias', 'b'.repeat(64), 'bücket']) {
  cases.push([`default_bucket ${JSON.stringify(v)}`, withProvisioning({ default_bucket: v }), 'provisioning.default_bucket']);
}
for (const v of NOT_IAM_NAMES.filter((s) => s !== '-')) {
  cases.push([`cluster name ${JSON.stringify(v)}`, withProvisioning({ clusters: [{ name: v }] }), 'provisioning.clusters[0].name']);
  cases.push([`cluster region ${JSON.stringify(v)}`, withProvisioning({ clusters: [{ name: 'sandbox', region: v }] }), 'provisioning.clusters[0].region']);
  cases.push([`role_name_prefix ${JSON.stringify(v)}`, withProvisioning({ role_name_prefix: v }), 'provisioning.role_name_prefix']);
  // IAM paths are opaque `/seg/seg/` strings (`/a/b/`, even `/../`, are legal and name no other role)
  if (!/^[\w+=,.@/-]+$/.test(v)) cases.push([`role_path ${JSON.stringify(v)}`, withProvisioning({ role_path: `/${v}/` }), 'provisioning.role_path']);
  cases.push([
    `service_accounts key ${JSON.stringify(v)}`,
    withProvisioning({ service_accounts: { [v]: { adopt_role: true } } }),
    /^provisioning\.service_accounts/,
  ]);
}

describe('(1) values that try to escape their field', () => {
  it(`${cases.length} attacks → 400 INVALID_CONFIG naming the field; nothing stored, nothing sent to IAM or Kubernetes`, async () => {
    expect((await h.api('PUT', MAPPING, { body: base() })).status).toBe(200);
    await h.server.workflow.idle();
    const versions = (await h.api('GET', `${MAPPING}/versions`)).text;
    const mark = h.server.sandbox!.calls.mark();
    const failures: string[] = [];
    const attempts = cases.flatMap((c) => [false, true].map((asYaml) => [...c, asYaml] as const));
    await pool(attempts, 10, async ([label, body, path, asYaml]) => {
      const res = asYaml ? await h.api('PUT', MAPPING, { body: stringify(body), contentType: 'application/yaml' }) : await h.api('PUT', MAPPING, { body });
      const paths: string[] = res.json?.error?.details?.map((d: { path: string }) => d.path) ?? [];
      const named = paths.some((p) => (typeof path === 'string' ? p === path : path.test(p)));
      if (res.status !== 400 || res.json?.error?.code !== 'INVALID_CONFIG' || !named) {
        failures.push(`${label}${asYaml ? ' (YAML)' : ''}: ${res.status} ${JSON.stringify(paths)} ${res.text.slice(0, 200)}`);
      }
    });
    expect(failures).toEqual([]);
    expect((await h.api('GET', `${MAPPING}/versions`)).text).toBe(versions);
    await h.server.workflow.idle();
    expect(h.server.sandbox!.calls.since(mark).filter((c) => c.mutating)).toEqual([]);
  });
});

// ------------------------------------------------------------------------------ (2) trust matrix

interface ClusterId {
  name: string;
  providerArn: string;
  issuerHost: string;
}
const clusterId = (name: string): ClusterId => {
  const c = h.server.sandbox!.eks.getCluster(name)!;
  return { name, providerArn: h.server.sandbox!.eks.oidcProviderArn(name)!, issuerHost: c.issuer.replace(/^https:\/\//, '') };
};

/** The trust policy of the role the ServiceAccount `ns/name` is annotated with (what the flow wrote). */
function trustOf(ns: string, name: string): { roleName: string; policy: PolicyDocument; permissions: Record<string, string> } {
  const sa = h.server.sandbox!.k8s.serviceAccount(ns, name);
  expect(sa, `service account ${ns}/${name}`).toBeDefined();
  const arn = (sa!.metadata as { annotations?: Record<string, string> }).annotations?.['eks.amazonaws.com/role-arn'];
  expect(arn, `${ns}/${name} annotated`).toMatch(/^arn:aws:iam::\d{12}:role\//);
  const roleName = arn!.split('/').pop()!;
  const role = h.server.sandbox!.iam.getRole(roleName);
  return { roleName, policy: JSON.parse(role.assumeRolePolicyDocument) as PolicyDocument, permissions: role.inlinePolicies };
}

/**
 * Intended subjects (exact or an explicit glob) from the trusted clusters are allowed; everything
 * else is denied: another namespace, another SA, look-alikes, a wrong or differently-cased audience,
 * a provider of an untrusted cluster of the same account, and a trusted provider paired with another issuer.
 */
function attackMatrix(policy: PolicyDocument, intended: string[], trusted: ClusterId[], untrusted: ClusterId[]): string[] {
  const wrong: string[] = [];
  const ask = (provider: ClusterId, issuer: ClusterId, sub: string, aud = STS_AUDIENCE) =>
    canAssumeWithWebIdentity(policy, { federatedPrincipal: provider.providerArn, issuerHost: issuer.issuerHost, claims: { aud, sub } });
  const expectAnswer = (what: string, got: boolean, want: boolean) => {
    if (got !== want) wrong.push(`${what}: ${got ? 'allowed' : 'denied'}`);
  };
  const allowedByConfig = (sub: string) => intended.some((p) => globMatch(p, sub));
  const probes = new Set<string>(['', '*', 'system:serviceaccount:*:*', 'system:serviceaccount:anyscale-operator:default']);
  for (const s of intended) {
    const [, , ns = '', name = ''] = s.split(':');
    const cns = ns.replace(/[*?]/g, 'x');
    const cname = name.replace(/\*/g, '').replace(/\?/g, 'x');
    for (const p of [
      `system:serviceaccount:${cns}:${cname}`,
      `system:serviceaccount:attacker-ns:${cname}`,
      `system:serviceaccount:${cns}:attacker-sa`,
      `system:serviceaccount:${cns}:${cname}-2`,
      `system:serviceaccount:${cns}:${cname}:x`,
      `system:serviceaccount:${cns}x:${cname}`,
      `system:serviceaccount:${cns.toUpperCase()}:${cname}`,
      `system:serviceaccounts:${cns}`,
      `${s} `,
    ])
      probes.add(p);
  }
  const exact = intended.filter((s) => !/[*?]/.test(s));
  for (const c of trusted) {
    for (const sub of exact) {
      expectAnswer(`${c.name} ${sub}`, ask(c, c, sub), true);
      expectAnswer(`${c.name} ${sub} aud attacker`, ask(c, c, sub, 'sts.amazonaws.com.attacker'), false);
      expectAnswer(`${c.name} ${sub} aud case`, ask(c, c, sub, 'STS.amazonaws.com'), false);
      expectAnswer(`${c.name} ${sub} aud empty`, ask(c, c, sub, ''), false);
      for (const d of [...trusted, ...untrusted].filter((x) => x !== c)) expectAnswer(`provider ${c.name} with issuer ${d.name}`, ask(c, d, sub), false);
    }
    for (const sub of probes) expectAnswer(`${c.name} probe ${JSON.stringify(sub)}`, ask(c, c, sub), allowedByConfig(sub));
  }
  for (const u of untrusted) for (const sub of [...exact, ...probes]) expectAnswer(`untrusted ${u.name} ${JSON.stringify(sub)}`, ask(u, u, sub), false);
  return wrong;
}

const scenarios: Array<{
  name: string;
  cloud: string;
  body: unknown;
  /** ServiceAccounts (namespace, name) the flow must create/annotate, with the subjects their role must trust. */
  expect: Array<{ ns: string[]; sa: string; intended: string[] }>;
  trusted: string[];
}> = [
  {
    name: 'seed 000/001: the EKS example verbatim (two SAs in anyscale-operator)',
    cloud: 'cldrsrc_XXXX',
    body: SEED_EXAMPLES.eks,
    expect: ['kubernetes-service-account-name1', 'kubernetes-service-account-name2'].map((sa) => ({
      ns: ['anyscale-operator'],
      sa,
      intended: [`system:serviceaccount:anyscale-operator:${sa}`],
    })),
    trusted: ['sandbox'],
  },
  {
    name: 'seed 003: Kubeflow, one role trusted by several namespaces',
    cloud: 'cldrsrc_kubeflow',
    body: {
      ...base(),
      cloud_deployment_id: 'cldrsrc_kubeflow',
      dataplane_iam_mapping: { rules: [{ selector: 'workload-type=job', value: 'default-editor' }], fallback_rule: 'FAIL' },
      provisioning: { service_accounts: { 'default-editor': { namespaces: ['usera', 'userb'] } } },
    },
    expect: [
      { ns: ['usera', 'userb'], sa: 'default-editor', intended: ['system:serviceaccount:usera:default-editor', 'system:serviceaccount:userb:default-editor'] },
    ],
    trusted: ['sandbox'],
  },
  {
    name: 'seed 004: Flyte, an explicit wildcard subject, adopting the existing default SA',
    cloud: 'cldrsrc_flyte',
    body: {
      ...base(),
      cloud_deployment_id: 'cldrsrc_flyte',
      dataplane_iam_mapping: { rules: [{ selector: 'workload-type=job', value: 'default' }], fallback_rule: 'FAIL' },
      provisioning: { namespaces: ['flyte'], service_accounts: { default: { subjects: ['system:serviceaccount:*:default'], adopt_service_account: true } } },
    },
    expect: [{ ns: ['flyte'], sa: 'default', intended: ['system:serviceaccount:*:default'] }],
    trusted: ['sandbox'],
  },
  {
    name: 'two trusted clusters, two namespaces',
    cloud: 'cldrsrc_multi',
    body: {
      ...base(),
      cloud_deployment_id: 'cldrsrc_multi',
      dataplane_iam_mapping: { rules: [{ selector: 'project=a', value: 'sa1' }], fallback_rule: 'CLOUD_DEFAULT', default_value: 'sa-default' },
      provisioning: { namespaces: ['anyscale-operator', 'team-b'], clusters: [{ name: 'sandbox' }, { name: 'staging' }] },
    },
    expect: ['sa1', 'sa-default'].map((sa) => ({
      ns: ['anyscale-operator', 'team-b'],
      sa,
      intended: [`system:serviceaccount:anyscale-operator:${sa}`, `system:serviceaccount:team-b:${sa}`],
    })),
    trusted: ['sandbox', 'staging'],
  },
];

describe('(2) trust policies the HTTP flow wrote, under attack', () => {
  for (const s of scenarios) {
    it(s.name, async () => {
      const put = await h.api('PUT', `/v1/clouds/${s.cloud}/iam-mapping`, { body: s.body });
      expect(put.status, put.text).toBe(200);
      await h.server.workflow.idle();
      const status = await h.api('GET', `/v1/clouds/${s.cloud}/iam-mapping/provisioning`);
      expect(status.json.status, JSON.stringify(status.json).slice(0, 600)).toBe('SUCCEEDED');

      const all = ['sandbox', 'staging', 'foreign'].map(clusterId);
      const trusted = all.filter((c) => s.trusted.includes(c.name));
      const untrusted = all.filter((c) => !s.trusted.includes(c.name));
      for (const e of s.expect) {
        const roles = new Set<string>();
        for (const ns of e.ns) {
          const { roleName, policy, permissions } = trustOf(ns, e.sa);
          roles.add(roleName);
          expect(attackMatrix(policy, e.intended, trusted, untrusted), `${e.sa} in ${ns} (${roleName})`).toEqual([]);
          // Every statement pins the audience with StringEquals and names a trusted provider.
          for (const st of (policy as unknown as { Statement: Array<{ Principal: { Federated: string }; Condition: Record<string, Record<string, unknown>> }> })
            .Statement) {
            const iss = st.Principal.Federated.split(':oidc-provider/')[1]!;
            expect(trusted.map((c) => c.providerArn)).toContain(st.Principal.Federated);
            expect(st.Condition.StringEquals?.[`${iss}:aud`]).toBe(STS_AUDIENCE);
          }
          // Seed 002 bucket access only.
          const bucket = JSON.parse(permissions['iam-mapping-default-bucket']!);
          expect(bucket.Statement.flatMap((st: { Resource: string[] }) => st.Resource).sort()).toEqual([
            'arn:aws:s3:::anyscale-sandbox-bucket',
            'arn:aws:s3:::anyscale-sandbox-bucket/*',
          ]);
        }
        expect(roles.size, `one role for ${e.sa} across its namespaces`).toBe(1);
      }
    });
  }
});
