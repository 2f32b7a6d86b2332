/**
 * Bounded privilege under `npm start` (the sandbox configured like the deployment): every role
 * the service creates carries the permissions boundary (read back with the AWS CLI), a CreateRole
 * without it under the service's path is AccessDenied as the deployed policy makes it, a removed
 * boundary is put back (by the next run; reported by drift and put back by its repair), and PUT refuses what the deployment does not allow (policies outside the
 * allow-list, another role path, protected namespaces, partial wildcards) — naming the field,
 * storing nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateRoleCommand, GetPolicyCommand, GetRoleCommand, IAMServiceException, PutRolePermissionsBoundaryCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../lib/config/validate.js';
import { deploymentRulesFromEnv } from '../../functions/lambda-app.js';
import { deploymentIssues } from '../../lib/provisioning/settings.js';
import { awsCliEnv, awsSandboxArgs, onPath } from '../helpers/cli-env.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { awsClients, irsaTrust } from '../sandbox/helpers.js';

const CLOUD = 'cldrsrc_bound';
const ALLOWED = 'arn:aws:iam::123456789012:policy/ml-team-read';
const ADMIN_ARN = 'arn:aws:iam::aws:policy/AdministratorAccess';

let h: Harness;
let cliDir: string;
beforeAll(async () => {
  h = await startHarness({
    workflow: { retryIntervalMs: 5, waitMs: 5 },
    defaults: {
      clusterName: 'sandbox',
      region: 'us-east-1',
      defaultBucket: 'anyscale-sandbox-bucket',
      allowedPolicyArns: [ALLOWED],
      protectedNamespaces: ['platform'],
    },
  });
  h.server.sandbox!.iam.createPolicy({
    policyName: 'ml-team-read',
    document: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }),
  });
  cliDir = mkdtempSync(join(tmpdir(), 'boundary-cli-'));
});
afterAll(async () => {
  await h?.stop();
  rmSync(cliDir, { recursive: true, force: true });
});

function config(provisioning: Record<string, unknown> = {}, values = ['sa-one']) {
  return {
    cloud_deployment_id: CLOUD,
    cloud_provider: 'AWS',
    compute_stack: 'K8S',
    dataplane_iam_mapping: { rules: values.map((value, i) => ({ selector: `project=p${i}`, value })), fallback_rule: 'FAIL' },
    provisioning,
  };
}

async function getRoleViaCli(name: string): Promise<any> {
  if (!onPath('aws')) {
    const out = await awsClients(h.server.url).iam.send(new GetRoleCommand({ RoleName: name }));
    return out.Role;
  }
  const { stdout } = await promisify(execFile)('aws', [...awsSandboxArgs(h.server.url), 'iam', 'get-role', '--role-name', name], {
    env: awsCliEnv(cliDir),
    timeout: 30_000,
  });
  return JSON.parse(stdout).Role;
}

describe('the permissions boundary on every role the service creates', () => {
  let roleName: string;
  const boundary = () => h.server.sandbox!.permissionsBoundaryArn!;

  it('the sandbox holds the boundary policy; a created role shows it as IAM does (get-role)', async () => {
    expect(h.server.sandbox!.permissionsBoundaryArn).toBe('arn:aws:iam::123456789012:policy/iam-mapping-local-workload-boundary');
    const put = await h.api('PUT', `/v1/clouds/${CLOUD}/iam-mapping`, { body: config({ service_accounts: { 'sa-one': { extra_policy_arns: [ALLOWED] } } }) });
    expect(put.status, put.text).toBe(200);
    await h.server.workflow.idle();
    const run = await h.api('GET', `/v1/clouds/${CLOUD}/iam-mapping/provisioning`);
    expect(run.json.status, run.text).toBe('SUCCEEDED');
    roleName = run.json.resources.find((r: { kind: string }) => r.kind === 'iam-role').name;
    const role = await getRoleViaCli(roleName);
    expect(role.PermissionsBoundary).toEqual({ PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: boundary() });
    expect(h.server.sandbox!.iam.getRole(roleName).attachedPolicyArns).toEqual([ALLOWED]);
    // IAM counts the roles that use a policy as their boundary.
    const { iam } = awsClients(h.server.url, 1, 'admin');
    const used = await iam.send(new GetPolicyCommand({ PolicyArn: boundary() }));
    expect(used.Policy?.PermissionsBoundaryUsageCount).toBe(h.server.sandbox!.iam.listRoles().filter((r) => r.permissionsBoundaryArn === boundary()).length);
    expect(used.Policy?.PermissionsBoundaryUsageCount).toBeGreaterThan(0);
  });

  it('CreateRole under the service path without the boundary (or with another) is AccessDenied to the provisioning role; an admin is not bound by its policy', async () => {
    const { iam } = awsClients(h.server.url, 1, 'service');
    const trust = irsaTrust(h.server.sandbox!.eks.oidcProviderArn('sandbox')!);
    for (const extra of [{}, { PermissionsBoundary: 'arn:aws:iam::aws:policy/AdministratorAccess' }]) {
      const err = await iam
        .send(new CreateRoleCommand({ RoleName: 'sneaky', Path: '/iam-mapping/', AssumeRolePolicyDocument: trust, ...extra }))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IAMServiceException);
      expect((err as IAMServiceException).name).toBe('AccessDenied');
      expect((err as IAMServiceException).$metadata.httpStatusCode).toBe(403);
    }
    expect(h.server.sandbox!.iam.findRole('sneaky')).toBeUndefined();
    const ok = await iam.send(
      new CreateRoleCommand({ RoleName: 'sneaky', Path: '/iam-mapping/', AssumeRolePolicyDocument: trust, PermissionsBoundary: boundary() }),
    );
    expect(ok.Role?.PermissionsBoundary?.PermissionsBoundaryArn).toBe(boundary());
    const err = await iam
      .send(new PutRolePermissionsBoundaryCommand({ RoleName: 'sneaky', PermissionsBoundary: 'arn:aws:iam::aws:policy/AdministratorAccess' }))
      .catch((e: unknown) => e);
    expect((err as IAMServiceException).name).toBe('AccessDenied');
    await iam.send(new CreateRoleCommand({ RoleName: 'admins-own', Path: '/', AssumeRolePolicyDocument: trust }));
    // A person with other credentials (the AWS CLI of an admin) is not the provisioning role.
    const admin = awsClients(h.server.url).iam;
    const made = await admin.send(new CreateRoleCommand({ RoleName: 'hand-made', Path: '/iam-mapping/', AssumeRolePolicyDocument: trust }));
    expect(made.Role?.PermissionsBoundary).toBeUndefined();
  });

  it('a boundary removed by an operator is put back by the next run', async () => {
    h.server.sandbox!.iam.deleteRolePermissionsBoundary(roleName);
    expect((await getRoleViaCli(roleName)).PermissionsBoundary).toBeUndefined();
    const put = await h.api('PUT', `/v1/clouds/${CLOUD}/iam-mapping`, {
      body: config({ default_bucket: 'other-bucket', service_accounts: { 'sa-one': { extra_policy_arns: [ALLOWED] } } }),
    });
    expect(put.status, put.text).toBe(200);
    await h.server.workflow.idle();
    const run = await h.api('GET', `/v1/clouds/${CLOUD}/iam-mapping/provisioning`);
    expect(run.json.status, run.text).toBe('SUCCEEDED');
    const roleResult = run.json.resources.find((r: { kind: string }) => r.kind === 'iam-role');
    expect(roleResult).toMatchObject({ action: 'updated', detail: expect.stringContaining(`permissions boundary set to ${boundary()}`) });
    expect((await getRoleViaCli(roleName)).PermissionsBoundary.PermissionsBoundaryArn).toBe(boundary());
  });

  it('a boundary removed or replaced with the AWS CLI: the plan shows it, a drift check reports it (high), a repair puts it back, the next check is clean', async () => {
    const stored = config({ default_bucket: 'other-bucket', service_accounts: { 'sa-one': { extra_policy_arns: [ALLOWED] } } }); // the latest PUT's
    const drift = (body: Record<string, unknown> = {}) => h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`, { body, contentType: 'application/json' });
    expect((await drift()).json.findings).toEqual([]);

    const other = ALLOWED; // another existing policy as the boundary
    for (const [how, change, actual] of [
      ['removed', ['delete-role-permissions-boundary', '--role-name', roleName], 'none'],
      ['replaced', ['put-role-permissions-boundary', '--role-name', roleName, '--permissions-boundary', other], other],
    ] as const) {
      if (onPath('aws')) {
        await promisify(execFile)('aws', [...awsSandboxArgs(h.server.url), 'iam', ...change], { env: awsCliEnv(cliDir), timeout: 30_000 });
      } else if (how === 'removed') h.server.sandbox!.iam.deleteRolePermissionsBoundary(roleName);
      else h.server.sandbox!.iam.putRolePermissionsBoundary(roleName, other);
      expect((await getRoleViaCli(roleName)).PermissionsBoundary?.PermissionsBoundaryArn, how).toBe(how === 'removed' ? undefined : other);

      // The plan of the stored config puts it back (read only).
      const plan = await h.api('POST', `/v1/clouds/${CLOUD}/iam-mapping/plan`, { body: stored });
      expect(plan.status, plan.text).toBe(200);
      expect(plan.json.changes, how).toContainEqual(
        expect.objectContaining({
          action: 'update',
          kind: 'iam-role',
          name: roleName,
          diff: `- permissions boundary: ${how === 'removed' ? '(none)' : other}\n+ permissions boundary: ${boundary()}`,
        }),
      );

      const report = (await drift()).json;
      expect(report.findings, how).toEqual([
        expect.objectContaining({ kind: 'permissions-boundary-changed', severity: 'high', name: roleName, expected: boundary(), actual, repairable: true }),
      ]);
      expect(report.findings[0].message).toMatch(
        how === 'removed' ? /lost the deployment's permissions boundary/ : /carries permissions boundary .*ml-team-read, not the deployment's/,
      );
      expect(report.repair).toBeUndefined(); // mode report (the default): reported only

      const repaired = (await drift({ repair: true })).json;
      expect(repaired.repair, how).toMatchObject({ items: ['sa-one'], errors: [] });
      await h.server.workflow.idle();
      expect((await getRoleViaCli(roleName)).PermissionsBoundary.PermissionsBoundaryArn, how).toBe(boundary());
      expect((await drift()).json.findings, how).toEqual([]);
    }
  });
});

describe('PUT refuses what the deployment does not allow (400 naming the field, nothing stored)', () => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    [
      'AdministratorAccess',
      { service_accounts: { 'sa-one': { extra_policy_arns: [ALLOWED, 'arn:aws:iam::aws:policy/AdministratorAccess'] } } },
      'provisioning.service_accounts.sa-one.extra_policy_arns[1]',
      /not in the deployment's allow-list .*allowed: arn:aws:iam::123456789012:policy\/ml-team-read/,
    ],
    ['another role path', { role_path: '/admin/' }, 'provisioning.role_path', /must be \/iam-mapping\/ or a path under it/],
    ['kube-system', { namespaces: ['anyscale-operator', 'kube-system'] }, 'provisioning.namespaces[1]', /namespace kube-system is protected/],
    [
      'kube-node-lease for one SA',
      { service_accounts: { 'sa-one': { namespaces: ['kube-node-lease'] } } },
      'provisioning.service_accounts.sa-one.namespaces[0]',
      /protected/,
    ],
    [
      'a deploy-time protected namespace',
      { namespaces: ['platform'] },
      'provisioning.namespaces[0]',
      /namespace platform is protected \(kube-system, kube-public, kube-node-lease, platform\)/,
    ],
    [
      "more extra policies than a role can hold (IAM's PoliciesPerRole, 10)",
      { service_accounts: { 'sa-one': { extra_policy_arns: Array.from({ length: 11 }, (_, i) => `${ALLOWED}-${i}`) } } },
      'provisioning.service_accounts.sa-one.extra_policy_arns',
      /names 11 managed policies; IAM attaches at most 10 to one role in this account/,
    ],
    [
      'a subject in kube-system',
      { service_accounts: { 'sa-one': { subjects: ['system:serviceaccount:kube-system:sa-one'] } } },
      'provisioning.service_accounts.sa-one.subjects[0]',
      /namespace kube-system is protected/,
    ],
    [
      '*:*e*',
      { service_accounts: { 'sa-one': { subjects: ['system:serviceaccount:*:*e*'] } } },
      'provisioning.service_accounts.sa-one.subjects[0]',
      /a wildcard may only be a whole segment/,
    ],
    [
      '*:*',
      { service_accounts: { 'sa-one': { subjects: ['system:serviceaccount:*:*'] } } },
      'provisioning.service_accounts.sa-one.subjects[0]',
      /must not be only wildcards/,
    ],
  ];
  it.each(cases)('%s', async (_name, provisioning, path, message) => {
    const before = await h.api('GET', `/v1/clouds/${CLOUD}/iam-mapping/versions`);
    const res = await h.api('PUT', `/v1/clouds/${CLOUD}/iam-mapping`, { body: config(provisioning) });
    expect(res.status, res.text).toBe(400);
    expect(res.json.error.code).toBe('INVALID_CONFIG');
    expect(res.json.error.details).toContainEqual(expect.objectContaining({ path, message: expect.stringMatching(message) }));
    const after = await h.api('GET', `/v1/clouds/${CLOUD}/iam-mapping/versions`);
    expect(after.json.versions).toEqual(before.json.versions);
  });

  it('accepted: a path under the deployment path, whole-segment wildcards, allow-listed policies', () => {
    const ok = validateConfig(
      config({
        role_path: '/iam-mapping/team-a/',
        service_accounts: { 'sa-one': { subjects: ['system:serviceaccount:ml:*', 'system:serviceaccount:*:sa-one'], extra_policy_arns: [ALLOWED] } },
      }),
      { deployment: { allowedPolicyArns: [ALLOWED] } },
    );
    expect(ok.ok, JSON.stringify(ok)).toBe(true);
  });

  it('reported in the same answer as shape errors', () => {
    const res = validateConfig(
      config({ namespaces: ['kube-system'], trust_policy_quota: 'big', service_accounts: { 'sa-one': { extra_policy_arns: ['not-an-arn', ADMIN_ARN] } } }),
    );
    expect(res.ok).toBe(false);
    const paths = res.ok ? [] : res.errors.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'provisioning.trust_policy_quota',
        'provisioning.namespaces[0]',
        'provisioning.service_accounts.sa-one.extra_policy_arns[0]',
        'provisioning.service_accounts.sa-one.extra_policy_arns[1]',
      ]),
    );
    expect(paths.filter((p) => p === 'provisioning.service_accounts.sa-one.extra_policy_arns[0]')).toHaveLength(1);
    expect(deploymentIssues({ namespaces: 'kube-system', service_accounts: { x: 3 } })).toEqual([]);
  });

  it('without an allow-list no extra policy is accepted; the deployment path is a parameter', () => {
    expect(deploymentIssues({ service_accounts: { a: { extra_policy_arns: [ALLOWED] } } })).toEqual([
      { pathParts: ['provisioning', 'service_accounts', 'a', 'extra_policy_arns', 0], message: expect.stringContaining('this deployment allows none') },
    ]);
    expect(deploymentIssues({ role_path: '/svc/x/' }, { rolePath: '/svc/' })).toEqual([]);
    expect(deploymentIssues({ role_path: '/iam-mapping/' }, { rolePath: '/svc/' })[0]?.pathParts).toEqual(['provisioning', 'role_path']);
  });

  it("more extra policies than IAM's PoliciesPerRole quota (10 unless raised): refused naming the list; duplicates count once", () => {
    const arns = (n: number) => Array.from({ length: n }, (_, i) => `arn:aws:iam::123456789012:policy/p${i}`);
    const rules = { allowedPolicyArns: arns(20) };
    expect(deploymentIssues({ service_accounts: { a: { extra_policy_arns: arns(10) } } }, rules)).toEqual([]);
    expect(deploymentIssues({ service_accounts: { a: { extra_policy_arns: [...arns(10), ...arns(10)] } } }, rules)).toEqual([]);
    expect(deploymentIssues({ service_accounts: { a: { extra_policy_arns: arns(11) } } }, rules)).toEqual([
      {
        pathParts: ['provisioning', 'service_accounts', 'a', 'extra_policy_arns'],
        message:
          'names 11 managed policies; IAM attaches at most 10 to one role in this account (its PoliciesPerRole quota, deploy parameter managedPoliciesPerRole)',
      },
    ]);
    expect(deploymentIssues({ service_accounts: { a: { extra_policy_arns: arns(20) } } }, { ...rules, managedPoliciesPerRole: 20 })).toEqual([]);
  });

  it('MANAGED_POLICIES_PER_ROLE: 10 when unset, 1–20 accepted, anything else refused at start', () => {
    expect(deploymentRulesFromEnv({}).managedPoliciesPerRole).toBe(10);
    expect(deploymentRulesFromEnv({ MANAGED_POLICIES_PER_ROLE: '20' }).managedPoliciesPerRole).toBe(20);
    for (const bad of ['0', '21', '2.5', 'ten'])
      expect(() => deploymentRulesFromEnv({ MANAGED_POLICIES_PER_ROLE: bad })).toThrow(/MANAGED_POLICIES_PER_ROLE must be an integer from 1 to 20/);
  });
});
