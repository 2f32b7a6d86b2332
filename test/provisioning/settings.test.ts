import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { AppError } from '../../lib/errors.js';
import {
  parseProvisioningSettings,
  provisioningSettingsIssues,
  provisioningSettingsSchema,
  resolveSettings,
  s3BucketProblem,
  serviceAccountSettings,
} from '../../lib/provisioning/settings.js';

const README_EXAMPLE = `
provisioning:
  namespaces: [anyscale-operator]
  clusters:
    - name: prod-eks
      region: us-west-2
  default_bucket: my-anyscale-bucket
  role_name_prefix: iam-mapping-
  role_path: /iam-mapping/
  trust_policy_quota: 2048
  service_accounts:
    default-editor:
      namespaces: [user-a, user-b]
    default:
      subjects: ['system:serviceaccount:*:default']
      adopt_service_account: true
    kubernetes-service-account-name1:
      role_name: ml-team-a-role
      extra_policy_arns: [arn:aws:iam::123456789012:policy/ml-team-a]
      adopt_role: false
  drift: { mode: report, delete_orphans: false }
`;

const issues = (raw: unknown) => provisioningSettingsIssues(raw);

describe('defaults', () => {
  it('absent section → seed 000 defaults, cluster and bucket from the environment', () => {
    expect(parseProvisioningSettings(undefined, { clusterName: 'prod', region: 'us-west-2', defaultBucket: 'b-1' })).toEqual({
      namespaces: ['anyscale-operator'],
      clusters: [{ name: 'prod', region: 'us-west-2' }],
      defaultBucket: 'b-1',
      roleNamePrefix: 'iam-mapping-',
      rolePath: '/iam-mapping/',
      trustPolicyQuota: 2048,
      serviceAccounts: {},
      drift: { mode: 'report', deleteOrphans: false },
    });
  });

  it('empty section, no environment → no cluster, no bucket', () => {
    const s = resolveSettings({});
    expect(s.clusters).toEqual([]);
    expect(s.defaultBucket).toBeNull();
  });

  it('the README example parses and resolves', () => {
    const s = parseProvisioningSettings(parseYaml(README_EXAMPLE).provisioning, { clusterName: 'ignored' });
    expect(s.clusters).toEqual([{ name: 'prod-eks', region: 'us-west-2' }]);
    expect(serviceAccountSettings(s, 'default')).toMatchObject({
      namespaces: ['anyscale-operator'],
      subjects: ['system:serviceaccount:*:default'],
      adoptServiceAccount: true,
    });
    expect(serviceAccountSettings(s, 'default-editor')).toMatchObject({
      namespaces: ['user-a', 'user-b'],
      namespacesPath: 'provisioning.service_accounts.default-editor.namespaces',
    });
    expect(serviceAccountSettings(s, 'kubernetes-service-account-name1')).toMatchObject({
      roleName: 'ml-team-a-role',
      extraPolicyArns: ['arn:aws:iam::123456789012:policy/ml-team-a'],
    });
    expect(serviceAccountSettings(s, 'constructor')).toMatchObject({ overridden: false, namespaces: ['anyscale-operator'] });
  });

  it('duplicates collapse, first appearance kept', () => {
    expect(resolveSettings({ namespaces: ['b', 'a', 'b'] }).namespaces).toEqual(['b', 'a']);
  });

  it('environment values are validated too', () => {
    expect(() => resolveSettings({}, { defaultBucket: 'Bad_Bucket' })).toThrow(AppError);
    expect(() => resolveSettings({}, { clusterName: 'bad name' })).toThrow(/environment.clusterName/);
  });
});

describe('refuses escape characters, with precise paths', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ namespaces: ['ok', 'a"b'] }, 'provisioning.namespaces[1]', /must not contain quotes/],
    [{ namespaces: ['team-*'] }, 'provisioning.namespaces[0]', /must not contain wildcards .* only in service_accounts/],
    [{ role_path: '/x/$y/' }, 'provisioning.role_path', /must not contain '\$' \(found "\$" at position 3\)/],
    [{ default_bucket: 'my-{bucket}' }, 'provisioning.default_bucket', /must not contain braces/],
    [{ role_name_prefix: 'a\\b' }, 'provisioning.role_name_prefix', /backslashes/],
    [{ clusters: [{ name: 'prod eks' }] }, 'provisioning.clusters[0].name', /whitespace/],
    [{ clusters: [{ name: 'prod', region: 'us-west-2\n' }] }, 'provisioning.clusters[0].region', /whitespace/],
    [{ service_accounts: { sa: { namespaces: ["x'"] } } }, 'provisioning.service_accounts.sa.namespaces[0]', /quotes/],
    [{ service_accounts: { sa: { subjects: ['system:serviceaccount:a:sa\\'] } } }, 'provisioning.service_accounts.sa.subjects[0]', /backslashes/],
    [{ service_accounts: { sa: { subjects: ['system:serviceaccount:${aws:username}:sa'] } } }, 'provisioning.service_accounts.sa.subjects[0]', /'\$'/],
    [
      { service_accounts: { sa: { extra_policy_arns: ['arn:aws:iam::123456789012:policy/a b'] } } },
      'provisioning.service_accounts.sa.extra_policy_arns[0]',
      /whitespace/,
    ],
    [
      { service_accounts: { sa: { extra_policy_arns: ['arn:aws:iam::123456789012:policy/*'] } } },
      'provisioning.service_accounts.sa.extra_policy_arns[0]',
      /wildcards/,
    ],
    [{ service_accounts: { sa: { role_name: 'role?' } } }, 'provisioning.service_accounts.sa.role_name', /wildcards/],
    [{ service_accounts: { 'sa"x': {} } }, 'provisioning.service_accounts["sa\\"x"]', /invalid name: must not contain quotes/],
    [{ service_accounts: { 'my.sa': { role_name: 'a}' } } }, 'provisioning.service_accounts["my.sa"].role_name', /braces/],
  ];
  it.each(cases)('%j → %s', (raw, path, message) => {
    const found = issues(raw);
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe(path);
    expect(found[0]?.message).toMatch(message);
  });

  it('parseProvisioningSettings throws INVALID_CONFIG with every detail', () => {
    try {
      parseProvisioningSettings({ namespaces: ['A'], trust_policy_quota: 10_000 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).code).toBe('INVALID_CONFIG');
      expect((e as AppError).details.map((d) => d.path)).toEqual(['provisioning.namespaces[0]', 'provisioning.trust_policy_quota']);
    }
  });
});

describe('other validation', () => {
  it('typos are errors naming the allowed fields', () => {
    expect(issues({ namespace: ['x'] })).toEqual([
      { path: 'provisioning.namespace', message: expect.stringMatching(/^unknown field "namespace"; expected one of: namespaces, clusters,/) },
    ]);
    expect(issues({ service_accounts: { sa: { namespace: ['x'] } } })[0]).toMatchObject({
      path: 'provisioning.service_accounts.sa.namespace',
      message: expect.stringContaining('adopt_role'),
    });
    expect(issues({ drift: { mode: 'report', delete_orphan: true } })[0]?.path).toBe('provisioning.drift.delete_orphan');
    expect(issues({ clusters: [{ name: 'a', zone: 'x' }] })[0]?.path).toBe('provisioning.clusters[0].zone');
  });

  it('trust_policy_quota is an integer within 1024..4096', () => {
    expect(issues({ trust_policy_quota: 4096 })).toEqual([]);
    expect(issues({ trust_policy_quota: 1024 })).toEqual([]);
    for (const q of [1023, 4097, 2048.5, '2048']) expect(issues({ trust_policy_quota: q })[0]?.path).toBe('provisioning.trust_policy_quota');
  });

  it('namespaces are DNS-1123 labels', () => {
    expect(issues({ namespaces: ['a', 'team-b', 'x'.repeat(63)] })).toEqual([]);
    for (const ns of ['A', '-a', 'a-', 'a.b', 'x'.repeat(64), '']) expect(issues({ namespaces: [ns] })).toHaveLength(1);
    expect(issues({ namespaces: [] })[0]?.path).toBe('provisioning.namespaces');
  });

  it('S3 bucket names', () => {
    for (const ok of ['abc', 'my-bucket.data', 'a1-b2']) expect(s3BucketProblem(ok)).toBeNull();
    for (const bad of [
      'ab',
      'My-Bucket',
      'a..b',
      '192.168.1.1',
      'xn--abc',
      'sthree-x',
      'bucket-s3alias',
      'bucket--ol-s3',
      '-abc',
      'abc-',
      'a_b',
      'x'.repeat(64),
    ]) {
      expect(s3BucketProblem(bad), bad).not.toBeNull();
    }
  });

  it('policy ARNs', () => {
    for (const ok of [
      'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
      'arn:aws:iam::123456789012:policy/team/a+b=c,d.e@f-g',
      'arn:aws-us-gov:iam::123456789012:policy/x',
    ]) {
      expect(issues({ service_accounts: { sa: { extra_policy_arns: [ok] } } }), ok).toEqual([]);
    }
    for (const bad of ['arn:aws:iam::123:policy/x', 'arn:aws:iam::123456789012:role/x', 'arn:aws:s3:::bucket', 'AmazonS3ReadOnlyAccess']) {
      expect(issues({ service_accounts: { sa: { extra_policy_arns: [bad] } } }), bad).toHaveLength(1);
    }
    expect(issues({ service_accounts: { sa: { extra_policy_arns: Array.from({ length: 21 }, (_, i) => `arn:aws:iam::aws:policy/p${i}`) } } })).toHaveLength(1);
  });

  it('role names: 1-64 of [\\w+=,.@-], unique ignoring case', () => {
    expect(issues({ service_accounts: { sa: { role_name: 'x'.repeat(64) } } })).toEqual([]);
    expect(issues({ service_accounts: { sa: { role_name: 'x'.repeat(65) } } })).toHaveLength(1);
    expect(issues({ service_accounts: { sa: { role_name: '' } } })).toHaveLength(1);
    expect(issues({ service_accounts: { a: { role_name: 'Role' }, b: { role_name: 'rOLE' } } })).toEqual([
      { path: 'provisioning.service_accounts.b.role_name', message: 'role name rOLE is already used by service account a (IAM role names ignore case)' },
    ]);
  });

  it('subjects: a wildcard only as a whole segment (<ns>:* or *:<name>), name must match the SA, never *:*', () => {
    const sub = (sa: string, s: string) => issues({ service_accounts: { [sa]: { subjects: [s] } } });
    expect(sub('default', 'system:serviceaccount:*:default')).toEqual([]);
    expect(sub('default', 'system:serviceaccount:flyte:*')).toEqual([]);
    expect(sub('default', 'system:serviceaccount:flyte:default')).toEqual([]);
    // Partial wildcards widen more than they say (issue: `*e*` matched any SA containing "e").
    for (const partial of [
      'system:serviceaccount:project-?:default',
      'system:serviceaccount:project-*:default',
      'system:serviceaccount:flyte:*e*',
      'system:serviceaccount:*:*e*',
    ]) {
      expect(sub('default', partial)[0]).toMatchObject({
        path: 'provisioning.service_accounts.default.subjects[0]',
        message: expect.stringContaining('a wildcard may only be a whole segment'),
      });
    }
    expect(sub('default-editor', 'system:serviceaccount:*:default-*')[0]?.message).toContain('a wildcard may only be a whole segment');
    expect(sub('default', 'system:serviceaccount:*:other')[0]).toMatchObject({
      path: 'provisioning.service_accounts.default.subjects[0]',
      message: expect.stringContaining('does not match service account "default"'),
    });
    expect(sub('default', 'system:serviceaccount:*:*')[0]?.message).toMatch(/must not be only wildcards/);
    expect(sub('default', 'system:*:ns:default')).toHaveLength(1);
    expect(sub('default', '*')).toHaveLength(1);
    expect(sub('default', 'system:serviceaccount:ns:default:extra')).toHaveLength(1);
    expect(sub('default', 'system:serviceaccount:NS:default')).toHaveLength(1);
  });

  it('service account keys: IAM-name characters, not __proto__', () => {
    expect(issues(JSON.parse('{"service_accounts":{"__proto__":{}}}'))[0]?.message).toMatch(/__proto__/);
    expect(issues({ service_accounts: { 'cld_abc-cluster_node_role': { adopt_instance_profile: true } } })).toEqual([]);
  });

  it('drift defaults and values', () => {
    expect(resolveSettings({ drift: { mode: 'repair' } }).drift).toEqual({ mode: 'repair', deleteOrphans: false });
    expect(issues({ drift: { mode: 'fix' } })[0]?.path).toBe('provisioning.drift.mode');
  });

  it('duplicate clusters are refused', () => {
    expect(issues({ clusters: [{ name: 'a' }, { name: 'a' }] })).toEqual([{ path: 'provisioning.clusters[1]', message: 'duplicate cluster a' }]);
  });

  it('the schema itself is strict at every level', () => {
    expect(provisioningSettingsSchema.safeParse({ extra: 1 }).success).toBe(false);
  });
});
