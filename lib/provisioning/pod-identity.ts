/**
 * EKS Pod Identity (`provisioning.mechanism: pod-identity`): the role trusts the EKS Pod Identity
 * service principal once, and a pod identity association per (cluster, namespace, ServiceAccount)
 * binds it — no OIDC provider, no per-namespace subject in the trust policy, so the trust policy
 * stays the same size whatever the namespace count (IRSA's trust-policy budget does not apply).
 *
 * The trust policy (AWS: "Create IAM role with trust policy required by EKS Pod Identity"):
 * `pods.eks.amazonaws.com` may `sts:AssumeRole` and `sts:TagSession`, conditioned on
 * - `aws:SourceAccount` = the roles' account (cross-service confused-deputy guard), and
 * - the session tags EKS Pod Identity attaches to every assumption: `aws:RequestTag/eks-cluster-arn`
 *   = one of the planned clusters' ARNs, `aws:RequestTag/kubernetes-service-account` = the SA name.
 *   (EKS documents scoping Pod Identity roles to clusters, namespaces and service accounts through
 *   these request tags; associations are created with session tags enabled, the default.)
 */
import type { PolicyDocument, PolicyStatement } from './policies.js';
import { oneOrList, POLICY_VERSION } from './policies.js';

export const POD_IDENTITY_SERVICE_PRINCIPAL = 'pods.eks.amazonaws.com';
export const POD_IDENTITY_ACTIONS = ['sts:AssumeRole', 'sts:TagSession'] as const;
/** The EKS add-on that serves Pod Identity credentials on the nodes; associations do nothing without it. */
export const POD_IDENTITY_AGENT_ADDON = 'eks-pod-identity-agent';

/** `arn:<partition>:eks:<region>:<account>:cluster/<name>`. */
export function clusterArn(partition: string, region: string, accountId: string, name: string): string {
  return `arn:${partition}:eks:${region}:${accountId}:cluster/${name}`;
}

export function buildPodIdentityTrustPolicy(input: { accountId: string; clusterArns: readonly string[]; serviceAccount: string }): PolicyDocument {
  const arns = [...new Set(input.clusterArns)];
  const statement: PolicyStatement = {
    Sid: 'EksPodIdentity',
    Effect: 'Allow',
    Principal: { Service: POD_IDENTITY_SERVICE_PRINCIPAL },
    Action: [...POD_IDENTITY_ACTIONS],
    Condition: {
      StringEquals: {
        'aws:SourceAccount': input.accountId,
        'aws:RequestTag/kubernetes-service-account': input.serviceAccount,
        ...(arns.length > 0 ? { 'aws:RequestTag/eks-cluster-arn': oneOrList(arns) } : {}),
      },
    },
  };
  return { Version: POLICY_VERSION, Statement: [statement] };
}

type Json = unknown;
const asList = (v: Json): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Whether a trust statement (as IAM returns it) grants the Pod Identity principal. */
export function isPodIdentityStatement(st: unknown): boolean {
  if (st === null || typeof st !== 'object') return false;
  const p = (st as { Principal?: unknown }).Principal;
  if (p === null || typeof p !== 'object') return false;
  const keys = Object.keys(p);
  return keys.length === 1 && keys[0] === 'Service' && asList((p as { Service?: Json }).Service).every((s) => s === POD_IDENTITY_SERVICE_PRINCIPAL);
}

/** Whether a trust statement grants web identity to one of `providerArns` (an IRSA statement). */
export function isIrsaStatement(st: unknown, providerArns: ReadonlySet<string>): boolean {
  if (st === null || typeof st !== 'object') return false;
  const p = (st as { Principal?: unknown }).Principal;
  if (p === null || typeof p !== 'object') return false;
  const keys = Object.keys(p);
  if (keys.length !== 1 || keys[0] !== 'Federated') return false;
  const feds = asList((p as { Federated?: Json }).Federated);
  return feds.length > 0 && feds.every((f) => typeof f === 'string' && providerArns.has(f));
}

/** The statements of a policy document (a single statement or a list). */
export function statementsOf(doc: unknown): unknown[] {
  const st = (doc as { Statement?: unknown } | null)?.Statement;
  return asList(st);
}
