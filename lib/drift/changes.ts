/**
 * Plan before apply: what provisioning a draft would create, change or delete, against what the
 * targets hold now (observe.ts read them; nothing here writes). Per plan item it follows the
 * workflow's steps (lib/workflow/steps.ts) — ensureRole, ensureTrustPolicy, ensurePermissions,
 * ensureServiceAccount / ensureInstanceProfile — with their ownership rules (marks and the
 * inventory, read only), and the Plan step's claims: what a step would refuse is `left_alone`
 * with the reason the run would give, never a change. Deletes are the orphans a drift check of
 * the draft would report (diff.ts): this cloud's, no longer named, deleted only by a drift repair
 * with `delete_orphans: true` (provisioning itself never deletes) — `deferred` when the draft
 * does not set it.
 */
import pMap from 'p-map';
import type { Json } from '../json.js';
import { normalisePolicy, policiesEqual } from '../policy-compare.js';
import type {
  ClusterIdentity,
  InstanceProfileInfo,
  KubernetesPort,
  ObservedPolicy,
  OwnershipStore,
  ResourceRef,
  RoleInfo,
  ServiceAccountInfo,
} from '../ports.js';
import { instanceProfileRef, judgeOwnership, refusal, roleRef, serviceAccountRef, type Verdict } from '../provisioning/inventory.js';
import { isOwnedRole, isOwnedServiceAccount, ROLE_ARN_ANNOTATION } from '../provisioning/ownership.js';
import type { InstanceProfileItem, K8sIrsaItem, PlanItem } from '../provisioning/plan.js';
import type { PlannedVersion } from '../workflow/planning.js';
import { diffState, itemName, nsKey } from './diff.js';
import type { Observation } from './observe.js';

export type ChangeAction = 'create' | 'update' | 'delete';

export interface PlannedChange {
  action: ChangeAction;
  /** iam-role, trust-policy, permission-policy, managed-policy, service-account, instance-profile. */
  kind: string;
  name: string;
  /** Lines prefixed `+ ` (would be written), `- ` (would be removed) or `  ` (stays). */
  diff?: string;
  /** In plain words: why (an update's cause, a delete's timing). */
  reason?: string;
  /** The plan item (rule value) it belongs to. */
  item?: string;
  cluster?: string;
  namespace?: string;
  /** A delete that waits for a drift repair with delete_orphans: true, which the draft does not set. */
  deferred?: boolean;
}

export interface LeftAlone {
  kind: string;
  name: string;
  /** What the run would say: why it leaves the resource alone (and whether that fails the item). */
  reason: string;
  item?: string;
  cluster?: string;
  namespace?: string;
}

export interface ChangeDeps {
  kubernetes(cluster: ClusterIdentity): KubernetesPort;
  /** The inventory and claims, read only (absent: ownership by marks alone). */
  ownership?: OwnershipStore;
  /** The deployment's permissions boundary (every managed role carries it). */
  permissionsBoundaryArn?: string;
  concurrency?: number;
}

export interface PlannedChanges {
  changes: PlannedChange[];
  left_alone: LeftAlone[];
}

const ACTION_ORDER: Record<ChangeAction, number> = { create: 0, update: 1, delete: 2 };
const KIND_ORDER = ['iam-role', 'trust-policy', 'permission-policy', 'managed-policy', 'instance-profile', 'service-account'];

const pretty = (value: Json, prefix: string) =>
  JSON.stringify(value, null, 2)
    .split('\n')
    .map((l) => `${prefix}${l}`);

const statementsOf = (doc: ObservedPolicy): Json[] => (normalisePolicy(doc) as { Statement: Json[] }).Statement;

/** A statement-level diff of two policy documents, compared as IAM reads them (policy-compare.ts). */
export function policyDiff(from: ObservedPolicy | null, to: ObservedPolicy | null): string {
  const before = from ? statementsOf(from) : [];
  const after = to ? statementsOf(to) : [];
  const beforeKeys = new Set(before.map((s) => JSON.stringify(s)));
  const afterKeys = new Set(after.map((s) => JSON.stringify(s)));
  const lines: string[] = [];
  for (const s of after) lines.push(...pretty(s, beforeKeys.has(JSON.stringify(s)) ? '  ' : '+ '));
  for (const s of before) if (!afterKeys.has(JSON.stringify(s))) lines.push(...pretty(s, '- '));
  return lines.join('\n');
}

/** `key: value` lines: `+` what would be set, `-` the value it replaces. */
function mapDiff(from: Readonly<Record<string, string | undefined>>, to: Readonly<Record<string, string>>): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(to)) {
    const old = from[k];
    if (old === v) continue;
    if (old !== undefined) lines.push(`- ${k}: ${old}`);
    lines.push(`+ ${k}: ${v}`);
  }
  return lines.join('\n');
}

const tagMap = (tags: ReadonlyArray<{ Key: string; Value: string }>) => Object.fromEntries(tags.map((t) => [t.Key, t.Value]));

export async function planChanges(deps: ChangeDeps, cloudId: string, planned: PlannedVersion, observed: Observation): Promise<PlannedChanges> {
  const changes: PlannedChange[] = [];
  const leftAlone: LeftAlone[] = [];
  const { plan, clusters, settings } = planned;
  const limit = Math.max(1, deps.concurrency ?? 8);
  const ownership = deps.ownership;

  const verdictOf = async (ref: ResourceRef, marks: Record<string, string>, tokenSource: Record<string, string>, id: string | undefined): Promise<Verdict> => {
    const record = ownership ? await ownership.getInventory(ref) : null;
    if (!ownership) {
      // Marks alone: ours when they name this cloud.
      const owned = ref.kind === 'service-account' ? isOwnedServiceAccount(marks, cloudId) : isOwnedRole(marks, cloudId);
      if (owned) return { kind: 'ours', finalize: false };
    }
    return judgeOwnership({ kind: ref.kind, marks, tokenSource, id }, record, cloudId);
  };
  /** Another cloud's claim on a name this item would create (the Plan step refuses the item). */
  const claimedBy = async (ref: ResourceRef): Promise<string | null> => {
    if (!ownership) return null;
    const claim = await ownership.getClaim(ref);
    return claim && claim.cloudId !== cloudId ? claim.cloudId : null;
  };

  await pMap(
    plan.items,
    async (item) => {
      const out = await itemChanges(item);
      changes.push(...out.changes);
      leftAlone.push(...out.leftAlone);
    },
    { concurrency: limit },
  );

  async function itemChanges(item: PlanItem): Promise<{ changes: PlannedChange[]; leftAlone: LeftAlone[] }> {
    const name = itemName(item);
    const c: PlannedChange[] = [];
    const alone: LeftAlone[] = [];
    const role = item.role;
    const detail = observed.detailByName.get(role.name.toLowerCase());
    const refusedBy = async (refs: ResourceRef[]) => {
      for (const ref of refs) {
        const owner = await claimedBy(ref);
        if (owner) return { ref, owner };
      }
      return null;
    };
    // The Plan step claims every name the item writes: another cloud's claim fails the item before anything runs.
    const claimRefs: ResourceRef[] = [roleRef(role.name)];
    if (item.kind === 'instance-profile') claimRefs.push(instanceProfileRef(item.instanceProfile.name));
    else for (const cl of clusters) for (const ns of item.serviceAccount.namespaces) claimRefs.push(serviceAccountRef(cl, ns, item.serviceAccount.name));
    const refused = await refusedBy(claimRefs);
    if (refused) {
      alone.push({
        kind: refused.ref.kind,
        name: refused.ref.kind === 'service-account' ? `${refused.ref.namespace}/${refused.ref.name}` : refused.ref.name,
        item: name,
        ...(refused.ref.cluster ? { cluster: refused.ref.cluster } : {}),
        reason: `claimed by cloud ${refused.owner}: provisioning would fail item ${name} at plan time (OwnershipConflict) and write nothing of it`,
      });
      return { changes: c, leftAlone: alone };
    }

    if (!detail) {
      c.push({
        action: 'create',
        kind: 'iam-role',
        name: role.name,
        item: name,
        diff: policyDiff(null, role.trustPolicy),
        reason: `${role.arn}, trust policy shown`,
      });
      c.push({
        action: 'create',
        kind: 'permission-policy',
        name: `${role.name}/${role.permissionPolicy.name}`,
        item: name,
        diff: policyDiff(null, role.permissionPolicy.document),
      });
      for (const arn of role.extraPolicyArns) c.push({ action: 'create', kind: 'managed-policy', name: `${role.name}/${arn}`, item: name, reason: 'attached' });
    } else {
      const info: RoleInfo = detail.role;
      const verdict = await verdictOf(roleRef(role.name), info.tags, info.tags, info.id);
      const adopting = verdict.kind === 'unmarked' && item.adopt.role;
      if (verdict.kind !== 'ours' && !adopting) {
        alone.push({
          kind: 'iam-role',
          name: role.name,
          item: name,
          reason: `${refusal(roleRef(role.name), verdict, name, 'adopt_role')}; provisioning would fail item ${name}`,
        });
        return { changes: c, leftAlone: alone };
      }
      if (info.arn !== role.arn) {
        alone.push({
          kind: 'iam-role',
          name: role.name,
          item: name,
          reason: `exists as ${info.arn}, not ${role.arn} (IAM cannot move a role to another path); provisioning would fail item ${name} — set provisioning.role_path to ${info.path} or remove the role`,
        });
        return { changes: c, leftAlone: alone };
      }
      const wantTags = tagMap(role.tags);
      const tagLines = mapDiff(info.tags, wantTags);
      const boundary = deps.permissionsBoundaryArn;
      const boundaryLine =
        boundary !== undefined && info.permissionsBoundaryArn !== undefined && info.permissionsBoundaryArn !== boundary
          ? `- permissions boundary: ${info.permissionsBoundaryArn}\n+ permissions boundary: ${boundary}`
          : '';
      if (adopting || tagLines !== '' || boundaryLine !== '') {
        c.push({
          action: 'update',
          kind: 'iam-role',
          name: role.name,
          item: name,
          diff: [tagLines, boundaryLine].filter((l) => l !== '').join('\n'),
          reason: adopting ? 'adopted (adopt_role): the ownership tags are added' : tagLines !== '' ? 'tags' : 'permissions boundary put back',
        });
      }
      if (!policiesEqual(info.trustPolicy, role.trustPolicy)) {
        c.push({ action: 'update', kind: 'trust-policy', name: role.name, item: name, diff: policyDiff(info.trustPolicy, role.trustPolicy) });
      }
      const policy = role.permissionPolicy;
      const inlineName = Object.keys(detail.inlinePolicies).find((n) => n.toLowerCase() === policy.name.toLowerCase());
      const current = inlineName !== undefined ? (detail.inlinePolicies[inlineName] ?? null) : null;
      if (!current) {
        c.push({ action: 'create', kind: 'permission-policy', name: `${role.name}/${policy.name}`, item: name, diff: policyDiff(null, policy.document) });
      } else if (!policiesEqual(current, policy.document)) {
        c.push({ action: 'update', kind: 'permission-policy', name: `${role.name}/${policy.name}`, item: name, diff: policyDiff(current, policy.document) });
      }
      const attached = new Set(detail.attachedPolicyArns);
      for (const arn of role.extraPolicyArns.filter((a) => !attached.has(a))) {
        c.push({ action: 'create', kind: 'managed-policy', name: `${role.name}/${arn}`, item: name, reason: 'attached' });
      }
      for (const arn of detail.attachedPolicyArns.filter((a) => !role.extraPolicyArns.includes(a))) {
        alone.push({ kind: 'managed-policy', name: `${role.name}/${arn}`, item: name, reason: 'attached outside this config; provisioning never detaches it' });
      }
    }

    if (item.kind === 'k8s-irsa') await serviceAccountChanges(item, c, alone);
    else await instanceProfileChanges(item, c, alone);
    return { changes: c, leftAlone: alone };
  }

  async function serviceAccountChanges(item: K8sIrsaItem, c: PlannedChange[], alone: LeftAlone[]): Promise<void> {
    const sa = item.serviceAccount.name;
    const arn = item.annotations[ROLE_ARN_ANNOTATION];
    const wanted = { [ROLE_ARN_ANNOTATION]: arn, ...item.labels };
    for (const cluster of clusters) {
      for (const namespace of item.serviceAccount.namespaces) {
        const base = { kind: 'service-account', name: `${namespace}/${sa}`, item: sa, ...(clusters.length > 1 ? { cluster: cluster.name } : {}), namespace };
        const listed = observed.serviceAccounts.get(nsKey(cluster.name, namespace)) ?? [];
        const found: ServiceAccountInfo | undefined = listed.find((s) => s.name === sa);
        if (!found) {
          if (!(await deps.kubernetes(cluster).namespaceExists(namespace))) {
            alone.push({ ...base, reason: `namespace ${namespace} does not exist in cluster ${cluster.name}: provisioning would fail this ServiceAccount` });
            continue;
          }
          c.push({ ...base, action: 'create', diff: mapDiff({}, wanted) });
          continue;
        }
        const ref = serviceAccountRef(cluster, namespace, sa);
        const verdict = await verdictOf(ref, found.labels, found.annotations, found.uid);
        const annotationOk = found.annotations[ROLE_ARN_ANNOTATION] === arn;
        if (verdict.kind === 'other-cloud' || verdict.kind === 'unverified') {
          alone.push({ ...base, reason: refusal(ref, verdict, sa, 'adopt_service_account') });
          continue;
        }
        if (verdict.kind !== 'ours' && !item.adopt.serviceAccount) {
          alone.push({
            ...base,
            reason: annotationOk
              ? 'exists without the ownership label; its annotation already names the role (left alone, not a failure)'
              : `exists without the ownership label (annotation: ${found.annotations[ROLE_ARN_ANNOTATION] ?? 'none'}): provisioning would leave it alone and fail; set provisioning.service_accounts.${sa}.adopt_service_account: true to adopt it`,
          });
          continue;
        }
        const lines = mapDiff({ ...found.labels, [ROLE_ARN_ANNOTATION]: found.annotations[ROLE_ARN_ANNOTATION] }, wanted);
        if (lines !== '') {
          c.push({
            ...base,
            action: 'update',
            diff: lines,
            ...(verdict.kind !== 'ours' ? { reason: 'adopted (adopt_service_account): labelled and annotated' } : annotationOk ? { reason: 'labels' } : {}),
          });
        }
      }
    }
  }

  async function instanceProfileChanges(item: InstanceProfileItem, c: PlannedChange[], alone: LeftAlone[]): Promise<void> {
    const want = item.instanceProfile;
    const base = { kind: 'instance-profile', name: want.name, item: want.name };
    const profile: InstanceProfileInfo | null | undefined = observed.instanceProfiles.get(want.name);
    if (!profile) {
      c.push({ ...base, action: 'create', diff: `+ role: ${item.role.name}`, reason: want.arn });
      return;
    }
    const ref = instanceProfileRef(want.name);
    const verdict = await verdictOf(ref, profile.tags, profile.tags, profile.id);
    if (verdict.kind !== 'ours' && !(verdict.kind === 'unmarked' && item.adopt.instanceProfile)) {
      alone.push({ ...base, reason: `${refusal(ref, verdict, want.name, 'adopt_instance_profile')}; provisioning would fail item ${want.name}` });
      return;
    }
    if (!profile.roleNames.includes(item.role.name)) {
      c.push({ ...base, action: 'update', diff: [...profile.roleNames.map((r) => `- role: ${r}`), `+ role: ${item.role.name}`].join('\n') });
    } else if (verdict.kind !== 'ours') {
      c.push({ ...base, action: 'update', reason: 'adopted (adopt_instance_profile)' });
    }
  }

  // Deletes: what a drift check of the draft reports as orphans (diff.ts), judged as drift's delete_orphans judges them.
  const findings = diffState(
    { cloudId, plan, clusters: clusters.map((cl) => ({ name: cl.name, issuerHost: cl.issuerHost, oidcProviderArn: cl.oidcProviderArn })) },
    {
      roles: new Map(),
      listedRoles: observed.listedRoles,
      serviceAccounts: observed.serviceAccounts,
      listedInstanceProfiles: observed.listedInstanceProfiles,
      oidcProviderArns: new Set(observed.oidcProviderArns),
    },
  );
  const deferred = !settings.drift.deleteOrphans;
  const when = deferred
    ? 'no longer named: it stays in place (lingering) until a drift repair with provisioning.drift.delete_orphans: true removes it — provisioning itself never deletes'
    : `no longer named: the next drift repair removes it (delete_orphans: true${settings.drift.mode === 'repair' ? '' : '; mode is not repair, so on POST …/drift-checks {"repair": true}'})`;
  const clusterByName = new Map([...observed.orphanClusters, ...clusters].map((cl) => [cl.name, cl] as const));
  await pMap(
    findings,
    async (f) => {
      if (f.kind === 'oidc-provider-missing') {
        leftAlone.push({ kind: 'oidc-provider', name: f.name, cluster: f.name, reason: f.message });
        return;
      }
      let verdict: Verdict | null = null;
      if (f.kind === 'orphan-role') {
        const info = observed.detailByName.get(f.name.toLowerCase())?.role;
        if (info) verdict = await verdictOf(roleRef(info.name), info.tags, info.tags, info.id);
      } else if (f.kind === 'orphan-instance-profile') {
        const info = observed.listedInstanceProfiles.find((p) => p.name === f.name);
        if (info) verdict = await verdictOf(instanceProfileRef(info.name), info.tags, info.tags, info.id);
      } else if (f.kind === 'orphan-service-account') {
        const cluster = f.cluster !== undefined ? clusterByName.get(f.cluster) : undefined;
        const saName = f.namespace ? f.name.slice(f.namespace.length + 1) : f.name;
        const info =
          f.cluster !== undefined && f.namespace ? observed.serviceAccounts.get(nsKey(f.cluster, f.namespace))?.find((s) => s.name === saName) : undefined;
        if (cluster && info && f.namespace) verdict = await verdictOf(serviceAccountRef(cluster, f.namespace, saName), info.labels, info.annotations, info.uid);
      } else return;
      const base = {
        kind: f.resource,
        name: f.name,
        ...(f.cluster !== undefined && (clusters.length > 1 || f.resource !== 'service-account') ? { cluster: f.cluster } : {}),
        ...(f.namespace !== undefined ? { namespace: f.namespace } : {}),
      };
      if (verdict?.kind !== 'ours') {
        leftAlone.push({
          ...base,
          reason: `carries this cloud's ownership marks but ${verdict?.kind === 'unverified' ? verdict.reason : "the service's inventory does not agree"}: never deleted`,
        });
        return;
      }
      changes.push({ ...base, action: 'delete', reason: when, ...(deferred ? { deferred: true } : {}) });
    },
    { concurrency: limit },
  );

  const kindRank = (k: string) => (KIND_ORDER.indexOf(k) + KIND_ORDER.length + 1) % (KIND_ORDER.length + 1);
  changes.sort(
    (a, b) =>
      ACTION_ORDER[a.action] - ACTION_ORDER[b.action] ||
      (a.item ?? '').localeCompare(b.item ?? '') ||
      kindRank(a.kind) - kindRank(b.kind) ||
      a.name.localeCompare(b.name) ||
      (a.cluster ?? '').localeCompare(b.cluster ?? ''),
  );
  leftAlone.sort((a, b) => a.name.localeCompare(b.name) || a.kind.localeCompare(b.kind) || (a.cluster ?? '').localeCompare(b.cluster ?? ''));
  return { changes, left_alone: leftAlone };
}
