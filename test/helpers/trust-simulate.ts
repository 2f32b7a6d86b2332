/**
 * IRSA trust policies evaluated by a third-party IAM evaluator, @cloud-copilot/iam-simulate.
 *
 * iam-simulate validates condition keys against its service data, where EKS issuer keys
 * (`oidc.eks.<region>.amazonaws.com/id/<id>:aud` / `:sub`) do not appear, so it would ignore them.
 * The requesting issuer's two keys are therefore renamed, in the policy and in the request
 * alike, to the web-identity keys it does know (`accounts.google.com:aud` / `:sub`): both are
 * plain string keys of sts:AssumeRoleWithWebIdentity, so the condition operators (StringEquals,
 * StringLike, lists) are evaluated exactly as written. Keys of other issuers are left alone; a
 * request from another cluster is also a different Federated principal.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';

const AUD_KEY = 'accounts.google.com:aud';
const SUB_KEY = 'accounts.google.com:sub';

export interface WebIdentityRequest {
  /** Issuer host of the cluster the token comes from (no https://). */
  issuer: string;
  account: string;
  sub: string;
  aud: string;
}

function renameKeys(value: unknown, issuer: string): unknown {
  if (Array.isArray(value)) return value.map((v) => renameKeys(v, issuer));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = k === `${issuer}:aud` ? AUD_KEY : k === `${issuer}:sub` ? SUB_KEY : k;
    out[key] = renameKeys(v, issuer);
  }
  return out;
}

/** Whether a token for `request.sub` from `request.issuer` may assume a role with `trustPolicy`. */
export async function webIdentityAllowed(trustPolicy: unknown, roleArn: string, request: WebIdentityRequest): Promise<boolean> {
  const result = await runSimulation(
    {
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: renameKeys(trustPolicy, request.issuer),
      request: {
        action: 'sts:AssumeRoleWithWebIdentity',
        principal: `arn:aws:iam::${request.account}:oidc-provider/${request.issuer}`,
        resource: { accountId: request.account, resource: roleArn },
        contextVariables: { [AUD_KEY]: request.aud, [SUB_KEY]: request.sub },
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`iam-simulate refused the simulation: ${JSON.stringify(result.errors)}`);
  if (result.resultType !== 'single') throw new Error(`unexpected iam-simulate result ${result.resultType}`);
  if (result.result.ignoredContextKeys?.length) throw new Error(`iam-simulate ignored ${result.result.ignoredContextKeys.join(', ')}`);
  return result.result.analysis.result === 'Allowed';
}
