/**
 * AWS VM: the control plane launches VMs with the instance profiles this service makes, so its role
 * must be allowed to `iam:PassRole` each instance-profile role to EC2 (seed 001: "the control plane
 * role … must be able to assign IAM roles to virtual machines"). The service never writes the
 * control plane's policies — it is not theirs — so it asks IAM's policy simulator
 * (SimulatePrincipalPolicy, the role's own identity policies and permissions boundary, with
 * `iam:PassedToService = ec2.amazonaws.com`) and, when the answer is no, names the statement to add
 * (or the Deny / boundary in the way). Used by the provisioning run's Finalize step (run warnings)
 * and by drift checks (findings); both call `checkPassRole` once per run or check, batched.
 */
import type { DriftFinding, IamPort, PolicySimulationResult, RunWarning } from '../ports.js';
import { isTargetError } from '../target-errors.js';
import { EC2_SERVICE_PRINCIPAL, type PolicyStatement } from './policies.js';
import type { ProvisioningPlan } from './plan.js';
import { ROLE_ARN, type ResolvedSettings } from './settings.js';

export const PASS_ROLE_ACTION = 'iam:PassRole';
export const PASSED_TO_SERVICE_KEY = 'iam:PassedToService';
/** Up to this many role ARNs are listed in the statement to add; more → the service's role-path wildcard. */
export const PASS_ROLE_LIST_MAX = 20;

export interface PassRoleInput {
  /** The control plane's role: an ARN, or a name (looked up with GetRole for its ARN). */
  controlPlaneRole: string;
  /** The instance-profile roles it must be able to pass. */
  roleArns: string[];
  /** `arn:<partition>:iam::<account>:role<role_path>*`: every role the service makes for VMs. */
  rolePathWildcard: string;
}

export interface PassRoleDenial {
  roleArn: string;
  decision: 'explicitDeny' | 'implicitDeny';
  /** The policies whose Deny statements matched (explicitDeny). */
  denyingPolicies: string[];
  /** True when the permissions boundary is what does not allow it. */
  blockedByBoundary: boolean;
}

export type PassRoleCheck =
  | { status: 'allowed'; controlPlaneRoleArn: string; checked: number }
  | {
      status: 'denied';
      controlPlaneRoleArn: string;
      checked: number;
      denials: PassRoleDenial[];
      /** What to add to one of the control plane role's policies (absent when only Deny / the boundary is in the way). */
      statement?: PolicyStatement;
    }
  | { status: 'unchecked'; controlPlaneRole: string; reason: string };

/** The statement that lets `roleArns` be passed to EC2 (listed when few, else the role-path wildcard). */
export function passRoleStatement(roleArns: readonly string[], rolePathWildcard: string): PolicyStatement {
  const sorted = [...new Set(roleArns)].sort();
  return {
    Sid: 'PassIamMappingInstanceProfileRolesToEc2',
    Effect: 'Allow',
    Action: PASS_ROLE_ACTION,
    Resource: sorted.length === 1 ? sorted[0] : sorted.length <= PASS_ROLE_LIST_MAX ? sorted : rolePathWildcard,
    Condition: { StringEquals: { [PASSED_TO_SERVICE_KEY]: EC2_SERVICE_PRINCIPAL } },
  };
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Asks IAM whether the control plane's role may pass each role to EC2. Never throws: what cannot be checked is `unchecked`, with why. */
export async function checkPassRole(iam: IamPort, input: PassRoleInput): Promise<PassRoleCheck> {
  const unchecked = (reason: string): PassRoleCheck => ({ status: 'unchecked', controlPlaneRole: input.controlPlaneRole, reason });
  if (!iam.simulatePrincipalPolicy) return unchecked('this IAM endpoint cannot simulate policies (SimulatePrincipalPolicy)');
  const roleArns = [...new Set(input.roleArns)].sort();
  let arn = input.controlPlaneRole;
  if (!ROLE_ARN.test(arn)) {
    try {
      const role = await iam.getRole(arn);
      if (!role) return unchecked(`the control-plane role ${arn} does not exist`);
      arn = role.arn;
    } catch (e) {
      return unchecked(`the control-plane role ${arn} could not be read: ${errorText(e)}`);
    }
  }
  if (roleArns.length === 0) return { status: 'allowed', controlPlaneRoleArn: arn, checked: 0 };
  let results: PolicySimulationResult[];
  try {
    results = await iam.simulatePrincipalPolicy({
      policySourceArn: arn,
      actionNames: [PASS_ROLE_ACTION],
      resourceArns: roleArns,
      contextEntries: [{ key: PASSED_TO_SERVICE_KEY, type: 'string', values: [EC2_SERVICE_PRINCIPAL] }],
    });
  } catch (e) {
    if (isTargetError(e, 'NotFoundError')) return unchecked(`the control-plane role ${arn} does not exist`);
    if (isTargetError(e, 'AccessDeniedError')) {
      return unchecked(
        `the service may not simulate the policies of ${arn} (iam:SimulatePrincipalPolicy is granted only on the deployment's control-plane roles, deploy parameter controlPlaneRoles): ${errorText(e)}`,
      );
    }
    return unchecked(`IAM could not simulate iam:PassRole for ${arn}: ${errorText(e)}`);
  }
  const byResource = new Map(results.map((r) => [r.resource, r] as const));
  const denials: PassRoleDenial[] = [];
  for (const roleArn of roleArns) {
    const r = byResource.get(roleArn);
    if (r?.decision === 'allowed') continue;
    denials.push({
      roleArn,
      decision: r?.decision === 'explicitDeny' ? 'explicitDeny' : 'implicitDeny',
      denyingPolicies: r?.decision === 'explicitDeny' ? [...new Set(r.matchedStatements.map((m) => m.sourcePolicyId))].sort() : [],
      blockedByBoundary: r?.allowedByPermissionsBoundary === false,
    });
  }
  if (denials.length === 0) return { status: 'allowed', controlPlaneRoleArn: arn, checked: roleArns.length };
  // Only where nothing but a missing Allow is in the way does a statement help.
  const fixable = denials.filter((d) => d.decision === 'implicitDeny' && !d.blockedByBoundary).map((d) => d.roleArn);
  return {
    status: 'denied',
    controlPlaneRoleArn: arn,
    checked: roleArns.length,
    denials,
    ...(fixable.length > 0 ? { statement: passRoleStatement(fixable, input.rolePathWildcard) } : {}),
  };
}

/** The check's input for a plan: AWS VM plans with a control-plane role only (null otherwise). */
export function passRoleInputOf(plan: ProvisioningPlan, settings: ResolvedSettings): PassRoleInput | null {
  if (plan.provider !== 'AWS' || plan.computeStack !== 'VM' || !settings.controlPlaneRole) return null;
  const roleArns = plan.items.filter((i) => i.kind === 'instance-profile').map((i) => i.role.arn);
  const sample = roleArns[0];
  // arn:<partition>:iam::<account>:role<path><name> → arn:<partition>:iam::<account>:role<path>*
  const prefix = sample?.slice(0, sample.indexOf(':role/') + ':role'.length);
  return { controlPlaneRole: settings.controlPlaneRole, roleArns, rolePathWildcard: `${prefix ?? 'arn:aws:iam::*:role'}${settings.rolePath}*` };
}

/** One group of denials, in an operator's words: what is in the way and what to do. */
interface DenialGroup {
  code: 'PASS_ROLE_DENIED' | 'PASS_ROLE_DENIED_EXPLICITLY' | 'PASS_ROLE_BLOCKED_BY_BOUNDARY';
  roleArns: string[];
  message: string;
  statement?: PolicyStatement;
}

const shortList = (arns: readonly string[]) => (arns.length <= 5 ? arns.join(', ') : `${arns.slice(0, 5).join(', ')} and ${arns.length - 5} more`);

function denialGroups(check: Extract<PassRoleCheck, { status: 'denied' }>): DenialGroup[] {
  const who = `the control-plane role ${check.controlPlaneRoleArn}`;
  const groups: DenialGroup[] = [];
  const explicit = check.denials.filter((d) => d.decision === 'explicitDeny');
  const boundary = check.denials.filter((d) => d.decision === 'implicitDeny' && d.blockedByBoundary);
  const missing = check.denials.filter((d) => d.decision === 'implicitDeny' && !d.blockedByBoundary);
  if (missing.length > 0) {
    const arns = missing.map((d) => d.roleArn);
    groups.push({
      code: 'PASS_ROLE_DENIED',
      roleArns: arns,
      message:
        `${who} may not iam:PassRole ${arns.length} of ${check.checked} instance-profile role(s) to EC2 (${shortList(arns)}): no statement of its policies allows it, ` +
        `so the control plane cannot launch VMs with these instance profiles. Add this statement to one of its policies: ${JSON.stringify(check.statement)}`,
      ...(check.statement ? { statement: check.statement } : {}),
    });
  }
  if (explicit.length > 0) {
    const arns = explicit.map((d) => d.roleArn);
    const policies = [...new Set(explicit.flatMap((d) => d.denyingPolicies))];
    groups.push({
      code: 'PASS_ROLE_DENIED_EXPLICITLY',
      roleArns: arns,
      message:
        `${who} may not iam:PassRole ${shortList(arns)} to EC2: an explicit Deny${policies.length ? ` in ${policies.join(', ')}` : ''} matches, ` +
        `and no Allow overrides a Deny — narrow or remove that Deny statement`,
    });
  }
  if (boundary.length > 0) {
    const arns = boundary.map((d) => d.roleArn);
    groups.push({
      code: 'PASS_ROLE_BLOCKED_BY_BOUNDARY',
      roleArns: arns,
      message:
        `${who} may not iam:PassRole ${shortList(arns)} to EC2: its permissions boundary does not allow it — ` +
        `add iam:PassRole on these roles (iam:PassedToService ${EC2_SERVICE_PRINCIPAL}) to the boundary as well; a statement in its policies alone does not help`,
    });
  }
  return groups;
}

/** The run's warnings for a check (none when allowed). */
export function passRoleWarnings(check: PassRoleCheck): RunWarning[] {
  if (check.status === 'allowed') return [];
  if (check.status === 'unchecked') {
    return [
      {
        code: 'PASS_ROLE_UNCHECKED',
        message: `whether the control plane may iam:PassRole the instance-profile roles to EC2 was not checked: ${check.reason}`,
        resources: [check.controlPlaneRole],
      },
    ];
  }
  return denialGroups(check).map((g) => ({ code: g.code, message: g.message, resources: g.roleArns, ...(g.statement ? { statement: g.statement } : {}) }));
}

/** The drift findings for a check: `pass-role-denied` per kind of denial, `pass-role-unchecked` when IAM could not tell. */
export function passRoleFindings(check: PassRoleCheck): DriftFinding[] {
  if (check.status === 'allowed') return [];
  if (check.status === 'unchecked') {
    return [
      {
        kind: 'pass-role-unchecked',
        name: check.controlPlaneRole,
        expected: `${PASS_ROLE_ACTION} of every instance-profile role to ${EC2_SERVICE_PRINCIPAL}`,
        actual: check.reason,
        severity: 'medium',
        message: `whether the control plane may iam:PassRole the instance-profile roles to EC2 was not checked: ${check.reason}`,
        resource: 'control-plane-role',
        repairable: false,
      },
    ];
  }
  return denialGroups(check).map((g) => ({
    kind: 'pass-role-denied',
    name: check.controlPlaneRoleArn,
    expected: g.statement ?? `${PASS_ROLE_ACTION} allowed on ${g.roleArns.length} role(s) for ${EC2_SERVICE_PRINCIPAL}`,
    actual: {
      decision: g.code === 'PASS_ROLE_DENIED_EXPLICITLY' ? 'explicitDeny' : 'implicitDeny',
      ...(g.code === 'PASS_ROLE_BLOCKED_BY_BOUNDARY' ? { blocked_by: 'permissions boundary' } : {}),
      roles: g.roleArns,
    },
    severity: 'high',
    message: g.message,
    resource: 'control-plane-role',
    repairable: false,
  }));
}
