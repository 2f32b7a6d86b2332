/**
 * The kinds of drift a check reports, each with its default severity and what a repair does.
 *
 * Severity: `critical` — someone outside the config can now assume the role or act as it;
 * `high` — the config's identities are broken or a grant changed; `medium` — access was narrowed
 * or ownership marks were removed (the service stops managing the resource); `low` — leftovers.
 */
import type { DriftSeverity } from '../ports.js';

export const DRIFT_KINDS = {
  'role-missing': { severity: 'high', text: 'the IAM role of a service account no longer exists' },
  'trust-policy-widened': { severity: 'critical', text: 'the trust policy lets more subjects, audiences or actions in than the config' },
  'trust-policy-narrowed': { severity: 'medium', text: 'the trust policy no longer lets a configured service account in' },
  'trust-policy-foreign-statement': { severity: 'critical', text: 'the trust policy has a statement the service did not write (another principal)' },
  'trust-policy-aud-removed': { severity: 'high', text: 'the trust policy no longer checks the token audience (aud)' },
  'trust-policy-changed': { severity: 'low', text: 'the trust policy differs from the plan in a way that grants nothing more' },
  'permissions-boundary-changed': {
    severity: 'high',
    text: "the role no longer carries the deployment's permissions boundary (removed or replaced): its policies are no longer capped by it",
  },
  'permission-policy-changed': { severity: 'high', text: 'the inline permission policy differs from the plan (or is gone)' },
  'extra-policy-attached': { severity: 'high', text: 'a managed or inline policy the config does not name is on the role' },
  'managed-policy-detached': { severity: 'medium', text: 'a managed policy the config names is no longer attached' },
  'service-account-missing': { severity: 'high', text: 'a configured service account no longer exists' },
  'annotation-missing': { severity: 'high', text: 'the service account lost its eks.amazonaws.com/role-arn annotation' },
  'annotation-mismatch': { severity: 'high', text: 'the service account names another role in eks.amazonaws.com/role-arn' },
  'ownership-label-removed': { severity: 'medium', text: 'the ownership tag/label was removed: the service no longer changes the resource' },
  'instance-profile-missing': { severity: 'high', text: 'the instance profile of a VM identity no longer exists' },
  'instance-profile-role-mismatch': { severity: 'high', text: 'the instance profile holds another role than the planned one' },
  'orphan-role': { severity: 'low', text: 'a role the service created that no rule of the config names any more' },
  'orphan-service-account': { severity: 'low', text: 'a service account the service created that the config no longer names' },
  'orphan-instance-profile': { severity: 'low', text: 'an instance profile the service created that the config no longer names' },
  'pass-role-denied': {
    severity: 'high',
    text: 'the control-plane role may not iam:PassRole an instance-profile role to EC2: VMs cannot be launched with it (the finding names the statement to add)',
  },
  'pass-role-unchecked': { severity: 'medium', text: 'whether the control-plane role may pass the instance-profile roles to EC2 could not be checked' },
  'association-missing': { severity: 'high', text: 'a pod identity association of a service account no longer exists' },
  'association-role-mismatch': { severity: 'high', text: 'a pod identity association of the service now names another role' },
  'association-foreign': { severity: 'high', text: 'an association the service did not make binds one of its service accounts' },
  'association-unplanned': {
    severity: 'critical',
    text: "an association binds a namespace the config does not name to a pod-identity role: that namespace's pods can act as the role",
  },
  'pod-identity-agent-missing': {
    severity: 'critical',
    text: 'the eks-pod-identity-agent add-on of a cluster is gone: no pod there gets credentials from its pod identity association',
  },
  // Google Cloud (lib/drift/gcp.ts; the README has the long texts).
  'gcp-account-missing': { severity: 'high', text: 'Google account gone' },
  'gcp-workload-identity-widened': { severity: 'critical', text: 'workloadIdentityUser widened' },
  'gcp-workload-identity-removed': { severity: 'high', text: 'workloadIdentityUser removed' },
  'gcp-service-account-user-removed': { severity: 'high', text: 'serviceAccountUser removed' },
  'gcp-bucket-access-removed': { severity: 'high', text: 'bucket access removed' },
  'gcp-annotation-changed': { severity: 'high', text: 'GKE annotation changed' },
  'gcp-account-orphan': { severity: 'low', text: 'Google account orphaned' },
  'oidc-provider-missing': {
    severity: 'critical',
    text: 'the IAM OIDC provider of a cluster is gone: no role trusting it can be assumed (IRSA broken for every role)',
  },
} as const satisfies Record<string, { severity: DriftSeverity; text: string }>;

export type DriftKind = keyof typeof DRIFT_KINDS;

export const SEVERITY_RANK: Record<DriftSeverity, number> = { critical: 0, high: 1, medium: 2, low: 3 };
