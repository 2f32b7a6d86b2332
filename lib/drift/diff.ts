/**
 * Drift: the desired state (the plan of the config version whose provisioning SUCCEEDED) against
 * what the targets hold now (pure; lib/drift/check.ts gathers both). Policies are compared
 * semantically (lib/policy-compare.ts), so order, single value vs list, whitespace, key order and
 * Sids never count as drift.
 *
 * Every finding says whether a repair may fix it (`repairable`): only when the resource carries
 * our ownership marks or the config adopts it, and the provisioning workflow converges that
 * aspect. Policies added outside the config and orphans are reported, never "repaired" by the
 * workflow (orphans are deleted separately, and only with `drift.delete_orphans: true`).
 */
import { normalisePolicy, policiesEqual, statementDiff } from '../policy-compare.js';
import type { DriftFinding, DriftSeverity, InstanceProfileInfo, ObservedPolicy, RoleInfo, ServiceAccountInfo } from '../ports.js';
import {
  CLOUD_LABEL,
  CLOUD_TAG,
  cloudLabelValue,
  cloudTagValue,
  IDENTITY_TAG,
  isOwnedRole,
  isOwnedServiceAccount,
  MANAGED_BY_LABEL,
  MANAGED_BY_TAG,
  MANAGER,
  ROLE_ARN_ANNOTATION,
} from '../provisioning/ownership.js';
import type { K8sIrsaItem, PlanItem, ProvisioningPlan } from '../provisioning/plan.js';
import { clip, describeStatement, listText } from './describe.js';
import { DRIFT_KINDS, SEVERITY_RANK } from './kinds.js';
import type { TrustCluster } from '../provisioning/policies.js';
import { analyseTrust } from './trust.js';

export interface DesiredState {
  cloudId: string;
  plan: ProvisioningPlan;
  /** The plan's clusters with their OIDC identities (K8S). */
  clusters: readonly TrustCluster[];
  /** Service accounts the run left alone (they exist without our labels, annotation right): saKey(). */
  leftAlone?: ReadonlySet<string>;
  /** The deployment's permissions boundary every role of the service carries (PERMISSIONS_BOUNDARY_ARN); none: not checked. */
  permissionsBoundaryArn?: string;
  /** Not orphans even though this plan lacks them (e.g. items of a newer, unfinished version). */
  keep?: { roles?: ReadonlySet<string>; serviceAccounts?: ReadonlySet<string>; instanceProfiles?: ReadonlySet<string> };
}

export interface ObservedRole {
  info: RoleInfo;
  /** Names of every inline policy of the role. */
  inlinePolicyNames: string[];
  /** The planned inline policy's document, null when the role has no such policy. */
  inlinePolicy: ObservedPolicy | null;
  attachedPolicyArns: string[];
}

export interface ObservedState {
  /** By planned role name: what exists (null: missing). Roles not looked at are absent. */
  roles: ReadonlyMap<string, ObservedRole | null>;
  /** Every role under the service's role path or carrying this cloud's marks, with tags (orphan detection). */
  listedRoles: readonly RoleInfo[];
  /** ServiceAccounts by nsKey(cluster, namespace), as listed. Namespaces not listed are absent. */
  serviceAccounts: ReadonlyMap<string, readonly ServiceAccountInfo[]>;
  /** VM stack: by instance-profile name (null: missing). */
  instanceProfiles?: ReadonlyMap<string, InstanceProfileInfo | null>;
  /** Every instance profile seen (those holding a listed role), with tags (orphan detection, any stack). */
  listedInstanceProfiles?: readonly InstanceProfileInfo[];
  /** ARNs of the account's OIDC providers; absent: not read. */
  oidcProviderArns?: ReadonlySet<string>;
}

export const nsKey = (cluster: string, namespace: string) => `${cluster}\u0000${namespace}`;
export const saKey = (cluster: string, namespace: string, name: string) => `${cluster}\u0000${namespace}\u0000${name}`;

export const itemName = (item: PlanItem): string => (item.kind === 'k8s-irsa' ? item.serviceAccount.name : item.instanceProfile.name);

type Draft = Omit<DriftFinding, 'severity'> & { severity?: DriftSeverity };

function finish(d: Draft): DriftFinding {
  return { ...d, severity: d.severity ?? DRIFT_KINDS[d.kind].severity };
}

export function compareFindings(a: DriftFinding, b: DriftFinding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    a.kind.localeCompare(b.kind) ||
    a.name.localeCompare(b.name) ||
    (a.cluster ?? '').localeCompare(b.cluster ?? '')
  );
}

const statementsOf = (doc: ObservedPolicy) =>
  ((normalisePolicy(doc) as { Statement?: unknown[] }).Statement ?? []) as Parameters<typeof describeStatement>[0][];

export function diffState(desired: DesiredState, observed: ObservedState): DriftFinding[] {
  const { cloudId, plan } = desired;
  const out: Draft[] = [];
  const multiCluster = desired.clusters.length > 1;

  for (const item of plan.items) {
    const name = itemName(item);
    const role = item.role;
    const obs = observed.roles.get(role.name);
    if (obs === null) {
      out.push({
        kind: 'role-missing',
        name: role.name,
        resource: 'iam-role',
        item: name,
        expected: role.arn,
        actual: 'missing',
        message: `IAM role ${role.name} of ${item.kind === 'k8s-irsa' ? 'service account' : 'instance profile'} ${name} no longer exists: its workloads get no AWS credentials`,
        repairable: true,
      });
    } else if (obs !== undefined) {
      const owned = isOwnedRole(obs.info.tags, cloudId);
      // A cloud tag naming another cloud: adoption is refused (ownership rules), so it is no way back.
      const otherCloud = obs.info.tags[CLOUD_TAG] !== undefined && obs.info.tags[CLOUD_TAG] !== cloudTagValue(cloudId) ? obs.info.tags[CLOUD_TAG] : null;
      const roleRepairable = owned || (item.adopt.role && otherCloud === null);
      if (!owned) {
        const now = `${MANAGED_BY_TAG}=${obs.info.tags[MANAGED_BY_TAG] ?? '(absent)'}, ${CLOUD_TAG}=${obs.info.tags[CLOUD_TAG] ?? '(absent)'}`;
        out.push({
          kind: 'ownership-label-removed',
          name: role.name,
          resource: 'iam-role',
          item: name,
          expected: `${MANAGED_BY_TAG}=${MANAGER}, ${CLOUD_TAG}=${cloudTagValue(cloudId)}`,
          actual: now,
          message:
            otherCloud !== null
              ? `IAM role ${role.name}'s ownership tag names cloud ${otherCloud} (now ${now}): the service no longer changes it, and never adopts another cloud's role; ` +
                `if the tag was tampered with, restore ${CLOUD_TAG}=${cloudTagValue(cloudId)}; if the role is cloud ${otherCloud}'s, remove it from that cloud's config (or choose another role_name here)`
              : `IAM role ${role.name} lost its ownership tags (now ${now}): the service no longer changes it` +
                (item.adopt.role
                  ? '; the config adopts it, so a repair tags it again'
                  : `; set provisioning.service_accounts.${name}.adopt_role: true to manage it again`),
          repairable: roleRepairable,
        });
      }
      const boundary = desired.permissionsBoundaryArn;
      const carried = obs.info.permissionsBoundaryArn;
      if (boundary !== undefined && carried !== boundary) {
        out.push({
          kind: 'permissions-boundary-changed',
          name: role.name,
          resource: 'iam-role',
          item: name,
          expected: boundary,
          actual: carried ?? 'none',
          message:
            (carried === undefined
              ? `IAM role ${role.name} lost the deployment's permissions boundary ${boundary}: nothing caps what its policies grant any more`
              : `IAM role ${role.name} carries permissions boundary ${carried}, not the deployment's ${boundary}: the deployment's ceiling no longer caps it`) +
            (roleRepairable ? '; a repair puts it back' : ''),
          repairable: roleRepairable,
        });
      }
      const trustClusters = item.kind === 'k8s-irsa' && !item.mechanism ? desired.clusters : [];
      for (const t of analyseTrust(role.name, role.trustPolicy, obs.info.trustPolicy, trustClusters)) {
        out.push({ ...t, name: role.name, resource: 'trust-policy', item: name, repairable: roleRepairable });
      }
      out.push(...permissionFindings(item, obs, roleRepairable));
    }

    if (item.kind === 'k8s-irsa') {
      for (const cluster of desired.clusters) {
        for (const namespace of item.serviceAccount.namespaces) {
          const listed = observed.serviceAccounts.get(nsKey(cluster.name, namespace));
          if (listed === undefined) continue;
          out.push(...serviceAccountFindings(desired, item, cluster.name, namespace, listed, multiCluster));
        }
      }
    } else {
      const profile = observed.instanceProfiles?.get(name);
      if (profile === null) {
        out.push({
          kind: 'instance-profile-missing',
          name,
          resource: 'instance-profile',
          item: name,
          expected: `${item.instanceProfile.arn} with role ${role.name}`,
          actual: 'missing',
          message: `instance profile ${name} no longer exists: VMs launched with it fail`,
          repairable: true,
        });
      } else if (profile && !profile.roleNames.includes(role.name)) {
        out.push({
          kind: 'instance-profile-role-mismatch',
          name,
          resource: 'instance-profile',
          item: name,
          expected: role.name,
          actual: profile.roleNames.length ? profile.roleNames.join(', ') : 'no role',
          message: `instance profile ${name} now holds ${profile.roleNames.length ? `role ${profile.roleNames.join(', ')}` : 'no role'} — was ${role.name}: its VMs get ${profile.roleNames.length ? "that role's" : 'no'} permissions`,
          repairable: isOwnedRole(profile.tags, cloudId) || item.adopt.instanceProfile,
        });
      }
    }
  }

  if (observed.oidcProviderArns) {
    const roles = irsaItemCount(plan);
    // Pod Identity roles do not use the OIDC provider: only IRSA items need it.
    for (const cluster of roles > 0 ? desired.clusters : []) {
      if (observed.oidcProviderArns.has(cluster.oidcProviderArn)) continue;
      out.push({
        kind: 'oidc-provider-missing',
        name: cluster.name,
        resource: 'oidc-provider',
        cluster: cluster.name,
        expected: cluster.oidcProviderArn,
        actual: 'missing',
        message: oidcProviderMissingMessage(cluster, roles),
        repairable: false,
      });
    }
  }

  out.push(...orphanFindings(desired, observed));
  return out.map(finish).sort(compareFindings);
}

/** Why IRSA cannot work in `cluster` (its IAM OIDC provider is gone), and what to do: drift's finding, the plan's and the run's refusal. */
export function oidcProviderMissingMessage(cluster: { name: string; oidcProviderArn: string }, roles: number): string {
  return (
    `the IAM OIDC provider of cluster ${cluster.name} (${cluster.oidcProviderArn}) no longer exists: no pod of the cluster can assume ` +
    `any of the ${roles} role${roles === 1 ? '' : 's'} of this config (IRSA is broken); the service never creates it — ` +
    `re-create it (eksctl utils associate-iam-oidc-provider --cluster ${cluster.name} --approve)`
  );
}

/** The IRSA items of a plan (Pod Identity roles do not use the OIDC provider). */
export const irsaItemCount = (plan: { items: readonly PlanItem[] }): number => plan.items.filter((i) => i.kind === 'k8s-irsa' && !i.mechanism).length;

function permissionFindings(item: PlanItem, obs: ObservedRole, repairable: boolean): Draft[] {
  const out: Draft[] = [];
  const role = item.role;
  const name = itemName(item);
  const policy = role.permissionPolicy;
  const base = { resource: 'permission-policy', item: name };
  if (obs.inlinePolicy === null) {
    out.push({
      ...base,
      kind: 'permission-policy-changed',
      severity: 'medium',
      name: `${role.name}/${policy.name}`,
      expected: statementsOf(policy.document).map(describeStatement),
      actual: 'missing',
      message: `inline policy ${policy.name} of role ${role.name} was deleted: the role no longer grants its minimum access (${listText(statementsOf(policy.document).map(describeStatement), 2)})`,
      repairable,
    });
  } else if (!policiesEqual(policy.document, obs.inlinePolicy)) {
    const { added, removed } = statementDiff(policy.document, obs.inlinePolicy);
    const parts: string[] = [];
    if (added.length) parts.push(`now also grants ${clip(listText(added.map(describeStatement), 3), 400)}`);
    if (removed.length) parts.push(`no longer grants ${clip(listText(removed.map(describeStatement), 3), 400)}`);
    if (!parts.length) parts.push('was rewritten in another form');
    const widened = added.some((s) => (s as { Effect?: unknown }).Effect === 'Allow');
    out.push({
      ...base,
      kind: 'permission-policy-changed',
      severity: widened ? 'high' : 'medium',
      name: `${role.name}/${policy.name}`,
      expected: statementsOf(policy.document).map(describeStatement),
      actual: statementsOf(obs.inlinePolicy).slice(0, 10).map(describeStatement),
      message: `permission policy ${policy.name} of role ${role.name} ${parts.join('; ')}`,
      repairable,
    });
  }
  for (const extra of obs.inlinePolicyNames.filter((n) => n.toLowerCase() !== policy.name.toLowerCase())) {
    out.push({
      ...base,
      kind: 'extra-policy-attached',
      name: `${role.name}/${extra}`,
      expected: 'none',
      actual: `inline policy ${extra}`,
      message: `inline policy ${extra} was put on role ${role.name} outside the config; the service never removes what it did not write — review it (aws iam delete-role-policy --role-name ${role.name} --policy-name ${extra})`,
      repairable: false,
    });
  }
  const attached = new Set(obs.attachedPolicyArns);
  for (const arn of role.extraPolicyArns.filter((a) => !attached.has(a))) {
    out.push({
      ...base,
      resource: 'managed-policy',
      kind: 'managed-policy-detached',
      name: `${role.name}/${arn}`,
      expected: arn,
      actual: 'not attached',
      message: `managed policy ${arn} that the config names was detached from role ${role.name}`,
      repairable,
    });
  }
  for (const arn of obs.attachedPolicyArns.filter((a) => !role.extraPolicyArns.includes(a))) {
    out.push({
      ...base,
      resource: 'managed-policy',
      kind: 'extra-policy-attached',
      name: `${role.name}/${arn}`,
      expected: role.extraPolicyArns.length ? role.extraPolicyArns.join(', ') : 'none',
      actual: arn,
      message: `managed policy ${arn} was attached to role ${role.name} outside the config; the service never detaches what it did not attach — review it (aws iam detach-role-policy --role-name ${role.name} --policy-arn ${arn})`,
      repairable: false,
    });
  }
  return out;
}

function serviceAccountFindings(
  desired: DesiredState,
  item: K8sIrsaItem,
  cluster: string,
  namespace: string,
  listed: readonly ServiceAccountInfo[],
  multiCluster: boolean,
): Draft[] {
  const sa = item.serviceAccount.name;
  const arn = item.annotations[ROLE_ARN_ANNOTATION];
  const where = multiCluster ? ` in cluster ${cluster}` : '';
  const base = { name: `${namespace}/${sa}`, resource: 'service-account', item: sa, cluster, namespace };
  const found = listed.find((s) => s.name === sa);
  if (!found) {
    return [
      {
        ...base,
        kind: 'service-account-missing',
        expected: arn ? `${namespace}/${sa} annotated ${ROLE_ARN_ANNOTATION}=${arn}` : `${namespace}/${sa} (pod identity)`,
        actual: 'missing',
        message: `service account ${namespace}/${sa}${where} no longer exists: pods that use it cannot be created`,
        repairable: true,
      },
    ];
  }
  const out: Draft[] = [];
  const owned = isOwnedServiceAccount(found.labels, desired.cloudId);
  const leftAlone = desired.leftAlone?.has(saKey(cluster, namespace, sa)) ?? false;
  const repairable = owned || item.adopt.serviceAccount;
  const notOurs = !owned && !item.adopt.serviceAccount ? ' (it lacks the ownership label, so the service leaves it alone)' : '';
  if (!owned && !leftAlone) {
    const now = `${MANAGED_BY_LABEL}=${found.labels[MANAGED_BY_LABEL] ?? '(absent)'}, ${CLOUD_LABEL}=${found.labels[CLOUD_LABEL] ?? '(absent)'}`;
    out.push({
      ...base,
      kind: 'ownership-label-removed',
      expected: `${MANAGED_BY_LABEL}=${MANAGER}, ${CLOUD_LABEL}=${cloudLabelValue(desired.cloudId)}`,
      actual: now,
      message:
        `service account ${namespace}/${sa}${where} lost its ownership labels (now ${now}): the service no longer changes it` +
        (item.adopt.serviceAccount
          ? '; the config adopts it, so a repair labels it again'
          : `; set provisioning.service_accounts.${sa}.adopt_service_account: true to manage it again`),
      repairable,
    });
  }
  const annotation = found.annotations[ROLE_ARN_ANNOTATION];
  if (item.mechanism === 'pod-identity') {
    // Pod Identity: no annotation wanted; one would make the SDKs try IRSA first (and fail: the role trusts no OIDC provider).
    if (annotation !== undefined && annotation !== '') {
      out.push({
        ...base,
        kind: 'annotation-mismatch',
        expected: `no ${ROLE_ARN_ANNOTATION} annotation (pod identity)`,
        actual: annotation,
        message: `service account ${namespace}/${sa}${where} carries ${ROLE_ARN_ANNOTATION}=${annotation}, but its identity comes from a pod identity association: the SDKs try that role by web identity first${notOurs}`,
        repairable,
      });
    }
  } else if (annotation === undefined || annotation === '') {
    out.push({
      ...base,
      kind: 'annotation-missing',
      expected: arn,
      actual: 'missing',
      message: `service account ${namespace}/${sa}${where} lost its ${ROLE_ARN_ANNOTATION} annotation: its pods get no AWS credentials from role ${item.role.name}${notOurs}`,
      repairable,
    });
  } else if (annotation !== arn) {
    out.push({
      ...base,
      kind: 'annotation-mismatch',
      expected: arn,
      actual: annotation,
      message: `service account ${namespace}/${sa}${where} now names role ${annotation} in ${ROLE_ARN_ANNOTATION} — was ${arn}: its pods get that role's permissions (where it trusts them) instead of ${item.role.name}'s${notOurs}`,
      repairable,
    });
  }
  return out;
}

/** How an orphan goes, in every orphan finding; a check of a cloud with delete_orphans on says so instead (orphanDeleteNote). */
export const ORPHAN_DELETE_NOTE = 'it is deleted only with provisioning.drift.delete_orphans: true (mode repair)';

/** What happens to an orphan under a cloud's drift settings: deleted by a repair only when the ownership inventory agrees it is the one the service made. */
export function orphanDeleteNote(drift: { mode: string; deleteOrphans: boolean }): string {
  if (!drift.deleteOrphans) return ORPHAN_DELETE_NOTE;
  return `with provisioning.drift.delete_orphans: true, ${drift.mode === 'repair' ? 'the next repair (mode repair: every scheduled check)' : 'a repair (POST …/drift-checks {"repair": true})'} deletes it, if the ownership inventory agrees it is the one the service made (copied marks are never enough)`;
}

function orphanFindings(desired: DesiredState, observed: ObservedState): Draft[] {
  const out: Draft[] = [];
  const { cloudId, plan } = desired;
  const plannedRoles = new Set(plan.items.map((i) => i.role.name.toLowerCase()));
  const keepRoles = desired.keep?.roles ?? new Set<string>();
  for (const role of observed.listedRoles) {
    const lower = role.name.toLowerCase();
    if (!isOwnedRole(role.tags, cloudId) || plannedRoles.has(lower) || keepRoles.has(lower)) continue;
    const identity = role.tags[IDENTITY_TAG];
    out.push({
      kind: 'orphan-role',
      name: role.name,
      resource: 'iam-role',
      expected: 'absent',
      actual: role.arn,
      message: `IAM role ${role.name}${identity ? ` (made for ${identity})` : ''} carries this cloud's ownership marks, but config version ${plan.configVersion} no longer names ${identity ?? 'it'}; ${ORPHAN_DELETE_NOTE}`,
      repairable: false,
    });
  }
  const plannedProfiles = new Set(plan.items.filter((i) => i.kind === 'instance-profile').map((i) => itemName(i).toLowerCase()));
  const keepProfiles = desired.keep?.instanceProfiles ?? new Set<string>();
  for (const profile of observed.listedInstanceProfiles ?? []) {
    const lower = profile.name.toLowerCase();
    if (!isOwnedRole(profile.tags, cloudId) || plannedProfiles.has(lower) || keepProfiles.has(lower)) continue;
    out.push({
      kind: 'orphan-instance-profile',
      name: profile.name,
      resource: 'instance-profile',
      expected: 'absent',
      actual: profile.roleNames.length ? `${profile.arn} with role ${profile.roleNames.join(', ')}` : profile.arn,
      message: `instance profile ${profile.name} carries this cloud's ownership marks, but config version ${plan.configVersion} (${plan.provider}/${plan.computeStack}) no longer names it; ${ORPHAN_DELETE_NOTE}`,
      repairable: false,
    });
  }
  const planned = new Set<string>();
  for (const item of plan.items) {
    if (item.kind !== 'k8s-irsa') continue;
    for (const c of desired.clusters) for (const ns of item.serviceAccount.namespaces) planned.add(saKey(c.name, ns, item.serviceAccount.name));
  }
  const keepSas = desired.keep?.serviceAccounts ?? new Set<string>();
  const multiCluster = desired.clusters.length > 1;
  for (const [key, list] of observed.serviceAccounts) {
    const [cluster, namespace] = key.split('\u0000') as [string, string];
    for (const sa of list) {
      const k = saKey(cluster, namespace, sa.name);
      if (!isOwnedServiceAccount(sa.labels, cloudId) || planned.has(k) || keepSas.has(k)) continue;
      out.push({
        kind: 'orphan-service-account',
        name: `${namespace}/${sa.name}`,
        resource: 'service-account',
        cluster,
        namespace,
        expected: 'absent',
        actual: sa.annotations[ROLE_ARN_ANNOTATION] ?? 'no role annotation',
        message: `service account ${namespace}/${sa.name}${multiCluster ? ` in cluster ${cluster}` : ''} carries this cloud's ownership marks, but config version ${plan.configVersion} no longer names it; ${ORPHAN_DELETE_NOTE}`,
        repairable: false,
      });
    }
  }
  return out;
}

/** Counts by kind and severity. */
export function summarise(findings: readonly DriftFinding[]): { total: number; by_kind: Record<string, number>; by_severity: Record<string, number> } {
  const by_kind: Record<string, number> = {};
  const by_severity: Record<string, number> = {};
  for (const f of findings) {
    by_kind[f.kind] = (by_kind[f.kind] ?? 0) + 1;
    by_severity[f.severity] = (by_severity[f.severity] ?? 0) + 1;
  }
  return { total: findings.length, by_kind, by_severity };
}
