/**
 * lib/provisioning/pass-role.ts without a server: which plans are checked, the statement to add
 * (listed ARNs, or the role-path wildcard past PASS_ROLE_LIST_MAX), and every way the check can
 * end — allowed, denied (missing Allow / explicit Deny / boundary), or not checked (no simulator,
 * a missing role, AccessDenied) — as run warnings and drift findings; plus the
 * `control_plane_role` setting and CONTROL_PLANE_ROLES.
 */
import { describe, expect, it } from 'vitest';
import type { IamPort, PolicySimulationInput, PolicySimulationResult, RoleInfo } from '../../lib/ports.js';
import { PASS_ROLE_LIST_MAX, checkPassRole, passRoleFindings, passRoleInputOf, passRoleStatement, passRoleWarnings } from '../../lib/provisioning/pass-role.js';
import { buildPlan } from '../../lib/provisioning/plan.js';
import { deploymentIssues, parseProvisioningSettings, provisioningSettingsIssues } from '../../lib/provisioning/settings.js';
import { accessDenied, notFound } from '../../lib/target-errors.js';

const ACCOUNT = '123456789012';
const CP = `arn:aws:iam::${ACCOUNT}:role/anyscale/cp`;
const WILDCARD = `arn:aws:iam::${ACCOUNT}:role/iam-mapping/*`;
const arn = (n: string) => `arn:aws:iam::${ACCOUNT}:role/iam-mapping/${n}`;

/** An IamPort with only what the check uses. */
function fakeIam(decide: (resource: string) => Partial<PolicySimulationResult>, roles: Record<string, RoleInfo> = {}) {
  const calls: PolicySimulationInput[] = [];
  const iam = {
    getRole: async (name: string) => roles[name] ?? null,
    simulatePrincipalPolicy: async (input: PolicySimulationInput) => {
      calls.push(input);
      return input.resourceArns.map((resource) => ({
        action: 'iam:PassRole',
        resource,
        decision: 'allowed' as const,
        matchedStatements: [],
        ...decide(resource),
      }));
    },
  } as unknown as IamPort;
  return { iam, calls };
}

describe('passRoleStatement', () => {
  it('one role → its ARN; a few → the sorted list; more than PASS_ROLE_LIST_MAX → the role-path wildcard', () => {
    const cond = { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } };
    expect(passRoleStatement([arn('a')], WILDCARD)).toEqual({
      Sid: 'PassIamMappingInstanceProfileRolesToEc2',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: arn('a'),
      Condition: cond,
    });
    expect(passRoleStatement([arn('b'), arn('a'), arn('b')], WILDCARD).Resource).toEqual([arn('a'), arn('b')]);
    const many = Array.from({ length: PASS_ROLE_LIST_MAX + 1 }, (_, i) => arn(`r${i}`));
    expect(passRoleStatement(many, WILDCARD).Resource).toBe(WILDCARD);
  });
});

describe('checkPassRole', () => {
  it('asks once for all roles, with iam:PassedToService = ec2.amazonaws.com, and answers allowed', async () => {
    const { iam, calls } = fakeIam(() => ({}));
    expect(await checkPassRole(iam, { controlPlaneRole: CP, roleArns: [arn('b'), arn('a')], rolePathWildcard: WILDCARD })).toEqual({
      status: 'allowed',
      controlPlaneRoleArn: CP,
      checked: 2,
    });
    expect(calls).toEqual([
      {
        policySourceArn: CP,
        actionNames: ['iam:PassRole'],
        resourceArns: [arn('a'), arn('b')],
        contextEntries: [{ key: 'iam:PassedToService', type: 'string', values: ['ec2.amazonaws.com'] }],
      },
    ]);
  });

  it('a role name is looked up for its ARN (path included)', async () => {
    const { iam, calls } = fakeIam(() => ({}), { cp: { name: 'cp', arn: CP, path: '/anyscale/', trustPolicy: {}, tags: {} } });
    expect((await checkPassRole(iam, { controlPlaneRole: 'cp', roleArns: [arn('a')], rolePathWildcard: WILDCARD })).status).toBe('allowed');
    expect(calls[0]?.policySourceArn).toBe(CP);
    expect(await checkPassRole(iam, { controlPlaneRole: 'missing', roleArns: [arn('a')], rolePathWildcard: WILDCARD })).toEqual({
      status: 'unchecked',
      controlPlaneRole: 'missing',
      reason: 'the control-plane role missing does not exist',
    });
  });

  it('sorts the denials into a missing Allow (statement to add), an explicit Deny (named) and the boundary', async () => {
    const { iam } = fakeIam((r) =>
      r === arn('deny')
        ? { decision: 'explicitDeny', matchedStatements: [{ sourcePolicyId: 'guardrail', sourcePolicyType: 'role' }] }
        : r === arn('boundary')
          ? { decision: 'implicitDeny', allowedByPermissionsBoundary: false }
          : r === arn('ok')
            ? {}
            : { decision: 'implicitDeny' },
    );
    const check = await checkPassRole(iam, { controlPlaneRole: CP, roleArns: ['ok', 'deny', 'boundary', 'm1', 'm2'].map(arn), rolePathWildcard: WILDCARD });
    expect(check.status).toBe('denied');
    if (check.status !== 'denied') return;
    expect(check.statement?.Resource).toEqual([arn('m1'), arn('m2')]);
    const warnings = passRoleWarnings(check);
    expect(warnings.map((w) => [w.code, w.resources])).toEqual([
      ['PASS_ROLE_DENIED', [arn('m1'), arn('m2')]],
      ['PASS_ROLE_DENIED_EXPLICITLY', [arn('deny')]],
      ['PASS_ROLE_BLOCKED_BY_BOUNDARY', [arn('boundary')]],
    ]);
    expect(warnings[0]?.statement).toEqual(check.statement);
    expect(warnings[0]?.message).toContain(`may not iam:PassRole 2 of 5 instance-profile role(s) to EC2`);
    expect(warnings[1]?.message).toContain('explicit Deny in guardrail');
    expect(warnings[1]).not.toHaveProperty('statement');
    expect(warnings[2]?.message).toContain('permissions boundary');
    const findings = passRoleFindings(check);
    expect(findings.map((f) => [f.kind, f.severity, f.name, f.repairable])).toEqual([
      ['pass-role-denied', 'high', CP, false],
      ['pass-role-denied', 'high', CP, false],
      ['pass-role-denied', 'high', CP, false],
    ]);
    expect(findings[0]?.expected).toEqual(check.statement);
  });

  it('not checked — with why — when IAM cannot simulate, the role is gone, or simulating it is not allowed', async () => {
    const input = { controlPlaneRole: CP, roleArns: [arn('a')], rolePathWildcard: WILDCARD };
    const noSimulator = { getRole: async () => null } as unknown as IamPort;
    expect(await checkPassRole(noSimulator, input)).toMatchObject({ status: 'unchecked', reason: expect.stringContaining('cannot simulate') });
    const failing = (e: Error) => ({ getRole: async () => null, simulatePrincipalPolicy: async () => Promise.reject(e) }) as unknown as IamPort;
    expect(await checkPassRole(failing(notFound('NoSuchEntity')), input)).toMatchObject({ reason: `the control-plane role ${CP} does not exist` });
    const denied = await checkPassRole(failing(accessDenied('AccessDenied')), input);
    expect(denied).toMatchObject({ status: 'unchecked', reason: expect.stringContaining('deploy parameter controlPlaneRoles') });
    expect(passRoleWarnings(denied)).toEqual([{ code: 'PASS_ROLE_UNCHECKED', message: expect.stringContaining('was not checked'), resources: [CP] }]);
    expect(passRoleFindings(denied)).toEqual([expect.objectContaining({ kind: 'pass-role-unchecked', severity: 'medium', name: CP })]);
  });
});

describe('passRoleInputOf: AWS VM plans with a control-plane role only', () => {
  const plan = (computeStack: 'VM' | 'K8S', provisioning: object) => {
    const settings = parseProvisioningSettings(provisioning, { defaultBucket: 'b-1' });
    return {
      settings,
      plan: buildPlan({
        cloudId: 'cld_x',
        configVersion: 1,
        provider: 'AWS',
        computeStack,
        values: ['p1', 'p2'],
        settings,
        clusters:
          computeStack === 'K8S'
            ? [
                {
                  name: 'c',
                  issuerHost: 'oidc.eks.us-east-1.amazonaws.com/id/AB',
                  oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/AB`,
                },
              ]
            : [],
        accountId: ACCOUNT,
      }),
    };
  };
  it('the planned role ARNs and the role path wildcard', () => {
    const { plan: p, settings } = plan('VM', { control_plane_role: CP, role_path: '/iam-mapping/vm/' });
    const input = passRoleInputOf(p, settings);
    expect(input?.controlPlaneRole).toBe(CP);
    expect(input?.roleArns).toEqual(p.items.map((i) => i.role.arn));
    expect(input?.rolePathWildcard).toBe(`arn:aws:iam::${ACCOUNT}:role/iam-mapping/vm/*`);
  });
  it('nothing for K8S, or without a control-plane role', () => {
    expect(passRoleInputOf(plan('K8S', { control_plane_role: CP }).plan, plan('K8S', { control_plane_role: CP }).settings)).toBeNull();
    expect(passRoleInputOf(plan('VM', {}).plan, plan('VM', {}).settings)).toBeNull();
  });
});

describe('provisioning.control_plane_role and CONTROL_PLANE_ROLES', () => {
  it('an ARN (any path) or a role name; anything else names the field', () => {
    for (const ok of [CP, `arn:aws:iam::${ACCOUNT}:role/cp`, 'arn:aws-us-gov:iam::123456789012:role/a/b/c', 'anyscale-cp', 'cp+=,.@_-'])
      expect(provisioningSettingsIssues({ control_plane_role: ok }), ok).toEqual([]);
    for (const bad of ['arn:aws:iam::12:role/x', `arn:aws:iam::${ACCOUNT}:user/x`, `arn:aws:iam::${ACCOUNT}:role/`, 'a'.repeat(65), 'cp*', '', 'a b'])
      expect(provisioningSettingsIssues({ control_plane_role: bad }), bad).toEqual([expect.objectContaining({ path: 'provisioning.control_plane_role' })]);
  });
  it('the deployment list: its first role is the default; a name resolves to its listed ARN', () => {
    const listed = { controlPlaneRoles: [CP, `arn:aws:iam::${ACCOUNT}:role/other`] };
    expect(parseProvisioningSettings(undefined, listed).controlPlaneRole).toBe(CP);
    expect(parseProvisioningSettings({ control_plane_role: 'OTHER' }, listed).controlPlaneRole).toBe(`arn:aws:iam::${ACCOUNT}:role/other`);
    expect(parseProvisioningSettings({ control_plane_role: 'unlisted' }, {}).controlPlaneRole).toBe('unlisted');
    expect(parseProvisioningSettings(undefined, {}).controlPlaneRole).toBeUndefined();
    expect(() => parseProvisioningSettings(undefined, { controlPlaneRoles: ['cp'] })).toThrow(/environment.controlPlaneRoles\[0\] must be an IAM role ARN/);
  });
  it('a config may name only a listed role when the deployment lists any', () => {
    const rules = { controlPlaneRoles: [CP] };
    expect(deploymentIssues({ control_plane_role: CP }, rules)).toEqual([]);
    expect(deploymentIssues({ control_plane_role: 'cp' }, rules)).toEqual([]);
    expect(deploymentIssues({ control_plane_role: `arn:aws:iam::${ACCOUNT}:role/cp` }, rules)).toEqual([
      { pathParts: ['provisioning', 'control_plane_role'], message: expect.stringContaining(`not one of the deployment's control-plane roles (${CP})`) },
    ]);
    expect(deploymentIssues({ control_plane_role: 'anything' }, {})).toEqual([]);
  });
});
