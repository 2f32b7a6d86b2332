import type { ErrorDetail } from '../errors.js';
import { PlanError } from './errors.js';
import { policySize, type PolicyDocument } from './policies.js';

/**
 * Trust-policy size budget. IAM caps a role trust policy at 2,048 characters without whitespace
 * (quota `ACLSizePerRole`, raisable to 4,096). A role trusted by many namespaces outgrows it —
 * Kubeflow hit this at about 30 profiles (kubeflow/kubeflow#6687).
 *
 * Measured (test/provisioning/budget.test.ts): one cluster with a typical EKS issuer
 * (`oidc.eks.us-west-2.amazonaws.com/id/<32 hex>`, 12-digit account) and SA `default-editor`:
 * 32 namespaces of 10 characters fit in 2,048 (30 of 12 — Kubeflow's ~30 —, 35 of 6, 26 of 20);
 * 73 of 10 characters in 4,096; 12 when two clusters are trusted. Each extra namespace costs
 * `len(ns) + len(sa) + 26` characters on top of ~460 per cluster statement.
 *
 * The documents the planner builds are already minimal (one statement per OIDC provider,
 * subjects deduplicated, the ones a wildcard subject covers dropped, single values as scalars:
 * lib/provisioning/policies.ts), so a document over its quota is not shrunk — planning fails with
 * a PlanError naming the role, its size and what to do. Access is never widened to make it fit.
 */
export const TRUST_POLICY_QUOTA_DEFAULT = 2048;
export const TRUST_POLICY_QUOTA_MAX = 4096;
export const TRUST_POLICY_QUOTA_MIN = 1024;

export interface TrustPolicyBudget {
  roleName: string;
  document: PolicyDocument;
  quota: number;
  /** ErrorDetail path of the config field to change (e.g. `provisioning.service_accounts.x.namespaces`). */
  path?: string;
  /** Extra advice inserted after "split namespaces across service accounts", e.g. "(about 33 fit per role here)". */
  hint?: string | (() => string);
}

const fmt = (n: number): string => n.toLocaleString('en-US');

export function trustPolicyTooLargeMessage(roleName: string, size: number, quota: number, hint?: string): string {
  const split = `split namespaces across service accounts${hint ? ` ${hint}` : ''}`;
  const raise =
    quota >= TRUST_POLICY_QUOTA_MAX
      ? `(${fmt(TRUST_POLICY_QUOTA_MAX)} is IAM's maximum)`
      : `or raise trust_policy_quota (up to ${fmt(TRUST_POLICY_QUOTA_MAX)}) after requesting an IAM quota increase`;
  const sep = quota >= TRUST_POLICY_QUOTA_MAX ? ' or use an explicit wildcard subject ' : ', use an explicit wildcard subject, ';
  return `role ${roleName} trust policy is ${fmt(size)} characters, over the quota of ${fmt(quota)} (ACLSizePerRole); ${split}${sep}${raise}`;
}

/** The document's size as IAM counts it, when it is within `quota`; PlanError otherwise. */
export function checkTrustPolicySize(options: TrustPolicyBudget): number {
  const { roleName, document, quota } = options;
  const size = policySize(document);
  if (size <= quota) return size;
  const hint = typeof options.hint === 'function' ? options.hint() : options.hint;
  const message = trustPolicyTooLargeMessage(roleName, size, quota, hint);
  const details: ErrorDetail[] = [{ path: options.path ?? 'provisioning', message, role: roleName, size, quota }];
  throw new PlanError(message, details);
}
