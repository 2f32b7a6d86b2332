/**
 * Policy checks with a third-party IAM evaluator, @cloud-copilot/iam-simulate, where it fits:
 * service trust (`sts:AssumeRole` by an AWS service) and identity (permission) policies.
 *
 * IRSA web-identity trust is checked with test/provisioning/trust-evaluator.ts instead:
 * iam-simulate validates condition keys against its action data, where EKS issuer keys
 * (`oidc.eks.<region>.amazonaws.com/id/<id>:aud` / `:sub`) do not appear, so it drops them from
 * the request (`ignoredContextKeys`) and every Allow conditioned on them fails.
 */
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from '../../lib/provisioning/policies.js';

const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/iam-mapping-under-test`;

async function decide(simulation: Simulation): Promise<'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied'> {
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`iam-simulate refused the simulation: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

/** Whether the AWS service principal (e.g. `ec2.amazonaws.com`) may `sts:AssumeRole` a role with this trust policy. */
export async function simulatedServiceCanAssume(trustPolicy: PolicyDocument, service: string): Promise<boolean> {
  const decision = await decide({
    identityPolicies: [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: trustPolicy,
    request: { action: 'sts:AssumeRole', principal: service, resource: { accountId: ACCOUNT, resource: ROLE_ARN }, contextVariables: {} },
  });
  return decision === 'Allowed';
}

/** Whether a role holding this identity policy may call `action` on `resource` (same account, no other policies). */
export async function simulatedRoleMay(permissionPolicy: PolicyDocument, action: string, resource: string): Promise<boolean> {
  const decision = await decide({
    identityPolicies: [{ name: 'under-test', policy: permissionPolicy }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      action,
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/iam-mapping-under-test/session`,
      resource: { accountId: ACCOUNT, resource },
      contextVariables: {},
    },
  });
  return decision === 'Allowed';
}
