/**
 * Plan before apply: what provisioning a draft would create, change or delete, against what the
 * targets hold now (observe.ts read them; nothing here writes). Per plan item it follows the
 * workflow's steps (lib/workflow/steps.ts) — ensureRole, ensureTrustPolicy, ensurePermissions,
 * ensureServiceAccount / ensureInstanceProfile — with their ownership rules (marks and the
 * inventory, read only), and the Plan step's claims: what a step would refuse is `left_alone`
 * with the reason the run would give, never a change. Deletes are the orphans a drift check of
 * the draft would report (diff.ts): this cloud's, no longer named, deleted only by a drift repair
 * with `delete_orphans: true` (provisioning itself deletes no identity) — `deferred` when the
 * draft does not set it. The one delete a run makes is a binding, not an identity: our pod
 * identity association in a namespace the draft no longer names (`by_provisioning`), as IRSA's
 * trust policy drops the namespace.
 */
import pMap from 'p-map';
import type { Json } from '../json.js';
import { normalisePolicy, policiesEqual } from '../policy-compare.js';
import type {
  ClaimRecord,
  ClusterIdentity,
  DriftFinding,
  InstanceProfileInfo,
  InventoryRecord,
  KubernetesPort,
  ObservedPolicy,
  PodIdentityAssociationSummary,
  PodIdentityPort,
  OwnershipStore,
  ResourceRef,
  RoleInfo,
  ServiceAccountInfo,
} from '../ports.js';
import {
  associationRef,
  instanceProfileRef,
  judgeOwnership,
  refusal,
  resourceKey,
  roleRef,
  serviceAccountRef,
  type Verdict,
} from '../provisioning/inventory.js';
import { isOwnedRole, isOwnedServiceAccount, ROLE_ARN_ANNOTATION } from '../provisioning/ownership.js';
import type { InstanceProfileItem, K8sIrsaItem, PlanItem } from '../provisioning/plan.js';
import type { PlannedVersion } from '../workflow/planning.js';
import { diffState, itemName, nsKey } from './diff.js';
import type { Observation } from './observe.js';
import { notOurs } from '../workflow/pod-identity-steps.js';
import { claimsOf, planTimeRefusal, type ItemRefusal, type RefusalLookups } from '../workflow/claims.js';

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
  /** A delete the provisioning run makes (an association of a namespace no longer named); other deletes are drift repairs. */
  by_provisioning?: true;
}

/** When a delete of an orphan the draft no longer names would happen (provisioning never deletes; drift's repair does with delete_orphans). */
export function orphanDeleteTiming(drift: { deleteOrphans: boolean; mode: string }): { deferred: boolean; when: string } {
  const deferred = !drift.deleteOrphans;
  const when = deferred
    ? 'no longer named: it stays in place (lingering) until a drift repair with provisioning.drift.delete_orphans: true removes it — provisioning itself never deletes'
    : `no longer named: the next drift repair removes it (delete_orphans: true${drift.mode === 'repair' ? '' : '; mode is not repair, so on POST …/drift-checks {"repair": true}'})`;
  return { deferred, when };
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
  /** EKS Pod Identity associations, read only (absent: a pod-identity item's associations are not planned). */
  podIdentity?: PodIdentityPort;
  /** The inventory and claims, read only (absent: ownership by marks alone). */
  ownership?: OwnershipStore;
  /** The deployment's permissions boundary (every managed role carries it). */
  permissionsBoundaryArn?: string;
  /** Items judged at once (each a few inventory / claim reads). Default 32. */
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

/** A statement-level diff of two policy documents, compared as IAM reads them (policy-compare.ts); one statement changed in place is diffed line by line. */
export function policyDiff(from: ObservedPolicy | null, to: ObservedPolicy | null): string {
  const before = from ? statementsOf(from) : [];
  const after = to ? statementsOf(to) : [];
  const beforeKeys = new Set(before.map((s) => JSON.stringify(s)));
  const afterKeys = new Set(after.map((s) => JSON.stringify(s)));
  const removed = before.filter((s) => !afterKeys.has(JSON.stringify(s)));
  const added = after.filter((s) => !beforeKeys.has(JSON.stringify(s)));
  const lines: string[] = [];
  for (const s of after) if (beforeKeys.has(JSON.stringify(s))) lines.push(...pretty(s, '  '));
  if (removed.length === 1 && added.length === 1) lines.push(...lineDiff(pretty(removed[0]!, ''), pretty(added[0]!, '')));
  else {
    for (const s of added) lines.push(...pretty(s, '+ '));
    for (const s of removed) lines.push(...pretty(s, '- '));
  }
  return lines.join('\n');
}

/** A line diff (longest common subsequence): `  ` kept, `- ` only in `a`, `+ ` only in `b`. */
export function lineDiff(a: readonly string[], b: readonly string[]): string[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push(`- ${a[i++]}`);
    else out.push(`+ ${b[j++]}`);
  }
  while (i < n) out.push(`- ${a[i++]}`);
  while (j < m) out.push(`+ ${b[j++]}`);
  return out;
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

/** An item the Plan step refuses (planTimeRefusal): left alone with the run's message, and nothing of it planned. */
export function refusedEntry(item: string, refused: ItemRefusal): LeftAlone {
  const first = refused.resources[0];
  return {
    kind: first?.kind ?? 'item',
    name: first ? (first.kind === 'service-account' && first.namespace !== undefined ? `${first.namespace}/${first.name}` : first.name) : item,
    item,
    ...(first?.cluster !== undefined ? { cluster: first.cluster } : {}),
    ...(first?.namespace !== undefined ? { namespace: first.namespace } : {}),
    reason: `${refused.message}. Provisioning fails item ${item} at plan time (${refused.error}), before any write`,
  };
}

export async function planChanges(deps: ChangeDeps, cloudId: string, planned: PlannedVersion, observed: Observation): Promise<PlannedChanges> {
  const changes: PlannedChange[] = [];
  const leftAlone: LeftAlone[] = [];
  const { plan, clusters, settings } = planned;
  // One paged list per cluster (lazily, only when the plan has a pod-identity item); Describe only for a planned pair.
  const listedAssociations = new Map<string, Promise<PodIdentityAssociationSummary[]>>();
  // Per item: a few DynamoDB GetItems (inventory, claims) and at most a namespace GET — cheap and independent.
  const limit = Math.max(1, deps.concurrency ?? 32);
  const namespaceChecks = new Map<string, Promise<boolean>>();
  const namespaceExists = (cluster: ClusterIdentity, namespace: string) => {
    const key = nsKey(cluster.name, namespace);
    let known = namespaceChecks.get(key);
    if (!known) namespaceChecks.set(key, (known = deps.kubernetes(cluster).namespaceExists(namespace)));
    return known;
  };
  const ownership = deps.ownership;

  // Inventory records of what exists and claims on what would be created, read in batches up front when the store can.
  let inventory: Map<string, InventoryRecord> | null = null;
  /** The keys that batch asked for: a key it did not is read on its own. */
  const batched = new Set<string>();
  let claims: Map<string, ClaimRecord> | null = null;
  const recordOf = async (ref: ResourceRef): Promise<InventoryRecord | null> => {
    const key = resourceKey(ref);
    return !ownership ? null : inventory && batched.has(key) ? (inventory.get(key) ?? null) : await ownership.getInventory(ref);
  };
  const verdictOf = async (ref: ResourceRef, marks: Record<string, string>, tokenSource: Record<string, string>, id: string | undefined): Promise<Verdict> => {
    const record = await recordOf(ref);
    if (!ownership) {
      // Marks alone: ours when they name this cloud.
      const owned = ref.kind === 'service-account' ? isOwnedServiceAccount(marks, cloudId) : isOwnedRole(marks, cloudId);
      if (owned) return { kind: 'ours', finalize: false };
    }
    return judgeOwnership({ kind: ref.kind, marks, tokenSource, id }, record, cloudId);
  };
  const refusalLookups: RefusalLookups = {
    claimHolder: async (ref) => {
      if (!ownership) return null;
      const claim = claims ? (claims.get(resourceKey(ref)) ?? null) : await ownership.getClaim(ref);
      return claim && claim.cloudId !== cloudId ? claim : null;
    },
    serviceAccount: async (cluster, namespace, name) => observed.serviceAccounts.get(nsKey(cluster.name, namespace))?.find((sa) => sa.name === name),
    inventory: recordOf,
  };

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
  const clusterByName = new Map([...observed.orphanClusters, ...clusters].map((cl) => [cl.name, cl] as const));
  /** The resource an orphan finding names, with what its ownership is judged by. */
  const orphanOf = (
    f: DriftFinding,
  ): { ref: ResourceRef; marks: Record<string, string>; tokenSource: Record<string, string>; id: string | undefined } | null => {
    if (f.kind === 'orphan-role') {
      const info = observed.detailByName.get(f.name.toLowerCase())?.role;
      return info ? { ref: roleRef(info.name), marks: info.tags, tokenSource: info.tags, id: info.id } : null;
    }
    if (f.kind === 'orphan-instance-profile') {
      const info = observed.listedInstanceProfiles.find((p) => p.name === f.name);
      return info ? { ref: instanceProfileRef(info.name), marks: info.tags, tokenSource: info.tags, id: info.id } : null;
    }
    if (f.kind === 'orphan-service-account' && f.cluster !== undefined && f.namespace) {
      const cluster = clusterByName.get(f.cluster);
      const saName = f.name.slice(f.namespace.length + 1);
      const info = observed.serviceAccounts.get(nsKey(f.cluster, f.namespace))?.find((sa) => sa.name === saName);
      return cluster && info ? { ref: serviceAccountRef(cluster, f.namespace, saName), marks: info.labels, tokenSource: info.annotations, id: info.uid } : null;
    }
    return null;
  };
  if (ownership?.getInventories || ownership?.getClaims) {
    const existing: ResourceRef[] = [];
    // The Plan step claims every name an item writes, existing or not (planTimeRefusal): those claims are read.
    const claimed = new Map<string, ResourceRef>();
    for (const item of plan.items) {
      for (const ref of claimsOf(item, clusters)) claimed.set(resourceKey(ref), ref);
      if (observed.detailByName.has(item.role.name.toLowerCase())) existing.push(roleRef(item.role.name));
      if (item.kind === 'instance-profile') {
        if (observed.instanceProfiles.get(item.instanceProfile.name)) existing.push(instanceProfileRef(item.instanceProfile.name));
      } else
        for (const cl of clusters)
          for (const ns of item.serviceAccount.namespaces) {
            if (observed.serviceAccounts.get(nsKey(cl.name, ns))?.some((sa) => sa.name === item.serviceAccount.name))
              existing.push(serviceAccountRef(cl, ns, item.serviceAccount.name));
            // Its association's record, whether or not one exists (a missing key reads as no record).
            if (item.mechanism === 'pod-identity') existing.push(associationRef(cl, ns, item.serviceAccount.name));
          }
    }
    const created = [...claimed.values()];
    for (const f of findings) {
      const o = orphanOf(f);
      if (o) existing.push(o.ref);
    }
    for (const ref of existing) batched.add(resourceKey(ref));
    [inventory, claims] = await Promise.all([
      ownership.getInventories && existing.length ? ownership.getInventories(existing) : Promise.resolve(null),
      ownership.getClaims && created.length ? ownership.getClaims(created) : Promise.resolve(null),
    ]);
  }

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
    // The Plan step's judgement (lib/workflow/claims.ts planTimeRefusal): the run fails such an item before any write.
    const refused = await planTimeRefusal(cloudId, name, item, clusters, refusalLookups);
    if (refused) {
      alone.push(refusedEntry(name, refused));
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
        boundary !== undefined && info.permissionsBoundaryArn !== boundary
          ? `- permissions boundary: ${info.permissionsBoundaryArn ?? '(none)'}\n+ permissions boundary: ${boundary}`
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
    // Pod Identity: no role annotation (one of ours is removed), an association per (cluster, namespace) instead.
    const wanted: Record<string, string> = arn !== undefined ? { [ROLE_ARN_ANNOTATION]: arn, ...item.labels } : { ...item.labels };
    if (item.mechanism === 'pod-identity') await associationChanges(item, c, alone);
    for (const cluster of clusters) {
      for (const namespace of item.serviceAccount.namespaces) {
        const base = { kind: 'service-account', name: `${namespace}/${sa}`, item: sa, ...(clusters.length > 1 ? { cluster: cluster.name } : {}), namespace };
        const listed = observed.serviceAccounts.get(nsKey(cluster.name, namespace)) ?? [];
        const found: ServiceAccountInfo | undefined = listed.find((s) => s.name === sa);
        if (!found) {
          if (!(await namespaceExists(cluster, namespace))) {
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

  async function associationChanges(item: K8sIrsaItem, c: PlannedChange[], alone: LeftAlone[]): Promise<void> {
    const port = deps.podIdentity;
    if (!port) return;
    const sa = item.serviceAccount.name;
    for (const cluster of clusters) {
      let listed = listedAssociations.get(cluster.name);
      if (!listed) listedAssociations.set(cluster.name, (listed = port.listAssociations(cluster)));
      const all = await listed;
      for (const namespace of item.serviceAccount.namespaces) {
        const base = {
          kind: 'pod-identity-association',
          name: `${namespace}/${sa}`,
          item: sa,
          ...(clusters.length > 1 ? { cluster: cluster.name } : {}),
          namespace,
        };
        const summary = all.find((a) => a.namespace === namespace && a.serviceAccount === sa);
        if (!summary) {
          c.push({ ...base, action: 'create', diff: `+ role: ${item.role.arn}` });
          continue;
        }
        const current = await port.describeAssociation(cluster, summary.associationId);
        const verdict = current && (await verdictOf(associationRef(cluster, namespace, sa), current.tags, current.tags, current.associationId));
        if (!current) {
          c.push({ ...base, action: 'create', diff: `+ role: ${item.role.arn}` });
        } else if (verdict && verdict.kind !== 'ours') {
          alone.push({
            ...base,
            reason: `association ${current.associationId} (→ ${current.roleArn}) ${notOurs(verdict)}: provisioning would leave it alone and fail this ServiceAccount`,
          });
        } else if (current.roleArn !== item.role.arn) {
          c.push({ ...base, action: 'update', diff: `- role: ${current.roleArn}\n+ role: ${item.role.arn}` });
        }
      }
      // Its associations in namespaces the draft no longer names (lib/workflow/pod-identity-steps.ts, revokeUnplanned).
      for (const summary of all) {
        if (summary.serviceAccount !== sa || item.serviceAccount.namespaces.includes(summary.namespace)) continue;
        const current = await port.describeAssociation(cluster, summary.associationId);
        if (!current) continue;
        const verdict = await verdictOf(associationRef(cluster, summary.namespace, sa), current.tags, current.tags, current.associationId);
        const base = {
          kind: 'pod-identity-association',
          name: `${summary.namespace}/${sa}`,
          item: sa,
          ...(clusters.length > 1 ? { cluster: cluster.name } : {}),
          namespace: summary.namespace,
        };
        if (verdict.kind === 'ours') {
          c.push({
            ...base,
            action: 'delete',
            diff: `- role: ${current.roleArn}`,
            reason: `namespace ${summary.namespace} is no longer in the config: the provisioning run deletes the association, and its pods lose the role (as IRSA's trust policy drops the namespace)`,
            by_provisioning: true,
          });
        } else if (current.roleArn === item.role.arn) {
          alone.push({
            ...base,
            reason: `association ${current.associationId} binds ${summary.namespace}/${sa}, a namespace the draft does not name, to this identity's role; it ${notOurs(verdict)}: provisioning would leave it alone`,
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

  const { deferred, when } = orphanDeleteTiming(settings.drift);
  await pMap(
    findings,
    async (f) => {
      if (f.kind === 'oidc-provider-missing') {
        leftAlone.push({ kind: 'oidc-provider', name: f.name, cluster: f.name, reason: f.message });
        return;
      }
      const orphan = orphanOf(f);
      if (!orphan && !f.kind.startsWith('orphan-')) return;
      const verdict = orphan ? await verdictOf(orphan.ref, orphan.marks, orphan.tokenSource, orphan.id) : null;
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
