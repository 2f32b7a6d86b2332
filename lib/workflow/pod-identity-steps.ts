/**
 * The workflow's EKS Pod Identity parts (lib/workflow/steps.ts calls them):
 *
 * - EnsureAssociation (pod-identity items): every cluster has the `eks-pod-identity-agent` add-on
 *   (DescribeAddon; a cluster without it is a failed resource naming the cluster), and one
 *   association per (cluster, namespace) binds the ServiceAccount to the planned role — created
 *   (tagged with the ownership marks and an inventory token, its associationId recorded in the
 *   inventory), or, when it is ours and names another role, updated. Ours means the tags AND the
 *   inventory's record of that associationId (lib/provisioning/inventory.ts): an association
 *   without our marks, another cloud's, or one with our tags copied onto it by hand is never
 *   touched: a failed resource naming it. Any failure blocks the item (`blocked: true`), so its
 *   ServiceAccount keeps what it has.
 * - Migration with no gap, both ways. EnsureTrustPolicy keeps the statements of the other
 *   mechanism that the role still has (`transitionalTrust`; output `migrating: true`), so the old
 *   binding keeps working while the new one is made; FinishMigration removes the old binding only
 *   after the new one is in place:
 *     irsa → pod-identity: trust + pods statement, association, annotation removed, then the OIDC
 *       statements go;
 *     pod-identity → irsa: trust + OIDC statements, annotation, then our associations are deleted
 *       and the pods statement goes.
 *   At every moment the ServiceAccount has a working identity (test/provisioning-workflow/pod-identity.test.ts).
 */
import type { PolicyDocument } from '../provisioning/policies.js';
import { policiesEqual } from '../policy-compare.js';
import type { ClusterIdentity, OwnershipStore, PodIdentityAssociationInfo, PodIdentityPort, ResourceResult } from '../ports.js';
import type { K8sIrsaItem } from '../provisioning/plan.js';
import { associationRef, INVENTORY_TOKEN_KEY, type Verdict } from '../provisioning/inventory.js';
import { isIrsaStatement, isPodIdentityStatement, POD_IDENTITY_AGENT_ADDON, statementsOf } from '../provisioning/pod-identity.js';
import { invalidInput, isTargetError, notReady } from '../target-errors.js';
import { judgeAssociation, recordOwned, reserveCreate } from './ownership-checks.js';

/** What the ServiceAccount step and RecordItem see of EnsureAssociation. */
export interface AssociationOutput {
  resources: ResourceResult[];
  /** Something failed (add-on missing, a foreign association): the ServiceAccount step is skipped. */
  blocked: boolean;
}

const ADDON_OK = new Set(['ACTIVE', 'DEGRADED', 'UPDATING']);

export const isPodIdentityItem = (item: { kind: string; mechanism?: string }): boolean => item.kind === 'k8s-irsa' && item.mechanism === 'pod-identity';

/**
 * The trust policy to write now: the planned one, plus the statements of the other mechanism the
 * role still has (a migration in progress). `retained` counts those; 0 means no migration.
 */
export function transitionalTrust(
  item: K8sIrsaItem,
  current: object | null | undefined,
  clusters: readonly ClusterIdentity[],
): { document: PolicyDocument; retained: number } {
  const planned = item.role.trustPolicy;
  if (!current) return { document: planned, retained: 0 };
  const providers = new Set(clusters.map((c) => c.oidcProviderArn));
  const keep = statementsOf(current).filter((st) => (isPodIdentityItem(item) ? isIrsaStatement(st, providers) : isPodIdentityStatement(st)));
  // Already planned statements (e.g. the same pods statement) are not "retained".
  const extra = keep.filter((st) => !planned.Statement.some((p) => policiesEqual({ Statement: [p] }, { Statement: [st] })));
  if (extra.length === 0) return { document: planned, retained: 0 };
  return { document: { ...planned, Statement: [...planned.Statement, ...(extra as PolicyDocument['Statement'])] }, retained: extra.length };
}

/** Whether `actual` has every statement of `planned` (a transitional trust still lets the planned principals in). */
export function trustCovers(actual: object, planned: PolicyDocument): boolean {
  const have = statementsOf(actual);
  return planned.Statement.every((p) => have.some((st) => policiesEqual({ Statement: [p] }, { Statement: [st] })));
}

const tagMap = (tags: ReadonlyArray<{ Key: string; Value: string }>) => Object.fromEntries(tags.map((t) => [t.Key, t.Value]));

/**
 * Why an association that is not this cloud's is not, after `association X (→ role) `: its tags
 * or the inventory name another cloud, it has no marks of this service, or it carries this cloud's
 * tags without the inventory's record of creating it (copied onto a hand-made association).
 */
export function notOurs(verdict: Exclude<Verdict, { kind: 'ours' }>): string {
  if (verdict.kind === 'other-cloud') return `belongs to cloud ${verdict.owner}`;
  if (verdict.kind === 'unmarked') return 'was not made by this service';
  return `carries this cloud's tags but ${verdict.reason}`;
}

const needPort = (port: PodIdentityPort | undefined): PodIdentityPort => {
  if (!port) throw invalidInput('EKS Pod Identity is not available from these provisioning targets');
  return port;
};

/** The planned clusters an item associates in, with their identities (for the adapter's region). */
function clustersOf(item: K8sIrsaItem, clusters: readonly ClusterIdentity[]): ClusterIdentity[] {
  const names = new Set((item.podIdentity?.clusters ?? []).map((c) => c.name));
  return clusters.filter((c) => names.has(c.name));
}

export async function ensureAssociations(
  port: PodIdentityPort | undefined,
  ownership: OwnershipStore,
  item: K8sIrsaItem,
  clusters: readonly ClusterIdentity[],
  cloudId: string,
  now: () => string,
): Promise<AssociationOutput> {
  const eks = needPort(port);
  const sa = item.serviceAccount.name;
  const want = item.role.arn;
  const tags = tagMap(item.podIdentity?.tags ?? []);
  const resources: ResourceResult[] = [];
  let blocked = false;
  for (const cluster of clustersOf(item, clusters)) {
    const status = await eks.addonStatus(cluster, POD_IDENTITY_AGENT_ADDON);
    if (status === null || !ADDON_OK.has(status)) {
      blocked = true;
      resources.push({
        kind: 'eks-addon',
        name: POD_IDENTITY_AGENT_ADDON,
        cluster: cluster.name,
        action: 'failed',
        detail:
          `cluster ${cluster.name} ${status === null ? 'does not have' : `has ${status}`} the ${POD_IDENTITY_AGENT_ADDON} add-on, which EKS Pod Identity needs; ` +
          `install it (aws eks create-addon --cluster-name ${cluster.name} --addon-name ${POD_IDENTITY_AGENT_ADDON}) or use mechanism irsa`,
      });
      continue;
    }
    // One paged list per cluster (all namespaces of this service account), Describe only for the existing ones.
    const existing = new Map((await eks.listAssociations(cluster, { serviceAccount: sa })).map((a) => [a.namespace, a] as const));
    for (const namespace of item.serviceAccount.namespaces) {
      const base = { kind: 'pod-identity-association', name: `${namespace}/${sa}`, namespace, cluster: cluster.name };
      const ref = associationRef(cluster, namespace, sa);
      const summary = existing.get(namespace);
      if (!summary) {
        // The inventory record (id unknown, a fresh token) before the create; the token goes on the association as a tag.
        const reserved = await reserveCreate(ownership, ref, cloudId, now());
        if ('owner' in reserved) {
          blocked = true;
          resources.push({
            ...base,
            action: 'failed',
            detail: `the inventory records this association for cloud ${reserved.owner}; it is never shared between clouds`,
          });
          continue;
        }
        try {
          const made = await eks.createAssociation(cluster, {
            namespace,
            serviceAccount: sa,
            roleArn: want,
            tags: { ...tags, [INVENTORY_TOKEN_KEY]: reserved.record.token! },
          });
          await recordOwned(ownership, ref, cloudId, made.associationId, now(), null);
          resources.push({ ...base, action: 'created', detail: `${made.associationId} → ${want}` });
        } catch (e) {
          // Made meanwhile (or by our own attempt whose answer was lost): re-read on the retry.
          if (isTargetError(e, 'AlreadyExistsError'))
            throw notReady(`pod identity association ${namespace}/${sa} in ${cluster.name} was created concurrently; re-reading`);
          throw e;
        }
        continue;
      }
      const current = await eks.describeAssociation(cluster, summary.associationId);
      if (!current) throw notReady(`pod identity association ${summary.associationId} in ${cluster.name} disappeared; re-reading`);
      const { verdict } = await judgeAssociation(ownership, ref, current, cloudId);
      if (verdict.kind !== 'ours') {
        blocked = true;
        resources.push({ ...base, action: 'failed', detail: leftAloneDetail(current, verdict, cluster, namespace, sa) });
        continue;
      }
      // Made by a create whose answer was lost (its token is on it): recorded now.
      if (verdict.finalize) await recordOwned(ownership, ref, cloudId, current.associationId, now(), null);
      if (current.roleArn === want) {
        resources.push({ ...base, action: 'unchanged', detail: `${current.associationId} → ${want}` });
        continue;
      }
      await eks.updateAssociation(cluster, current.associationId, want);
      resources.push({ ...base, action: 'updated', detail: `${current.associationId} → ${want} (was ${current.roleArn})` });
    }
    resources.push(...(await revokeUnplanned(eks, ownership, item, cluster, existing, cloudId)));
  }
  return { resources, blocked };
}

/**
 * The associations of this ServiceAccount name in namespaces the item no longer lists. The role's
 * trust names the ServiceAccount and the cluster, not the namespace (that is what lets one role
 * serve hundreds of namespaces), so the association is the binding: ours are deleted, as IRSA's
 * trust policy drops a removed namespace at once. One that is not ours but binds this item's role
 * is left alone and said (drift reports it, `association-unplanned`); another cloud's binding its
 * own role is none of this item's business.
 */
async function revokeUnplanned(
  eks: PodIdentityPort,
  ownership: OwnershipStore,
  item: K8sIrsaItem,
  cluster: ClusterIdentity,
  existing: ReadonlyMap<string, { associationId: string }>,
  cloudId: string,
): Promise<ResourceResult[]> {
  const sa = item.serviceAccount.name;
  const resources: ResourceResult[] = [];
  for (const [namespace, summary] of existing) {
    if (item.serviceAccount.namespaces.includes(namespace)) continue;
    const current = await eks.describeAssociation(cluster, summary.associationId);
    if (!current) continue;
    const base = { kind: 'pod-identity-association', name: `${namespace}/${sa}`, namespace, cluster: cluster.name };
    const ref = associationRef(cluster, namespace, sa);
    const { verdict } = await judgeAssociation(ownership, ref, current, cloudId);
    if (verdict.kind === 'ours') {
      await eks.deleteAssociation(cluster, current.associationId);
      await ownership.deleteInventory(ref, cloudId);
      resources.push({
        ...base,
        action: 'deleted',
        detail: `${current.associationId} (→ ${current.roleArn}): namespace ${namespace} is no longer in the config`,
      });
    } else if (current.roleArn === item.role.arn) {
      resources.push({
        ...base,
        action: 'left-alone',
        detail:
          `association ${current.associationId} binds ${namespace}/${sa}, a namespace the config does not name, to this identity's role; it ${notOurs(verdict)} and was left alone: ` +
          `delete it (aws eks delete-pod-identity-association --cluster-name ${cluster.name} --association-id ${current.associationId})`,
      });
    }
  }
  return resources;
}

/** The failed resource's detail for an association that is not this cloud's: never changed, never deleted. */
function leftAloneDetail(
  current: PodIdentityAssociationInfo,
  verdict: Exclude<Verdict, { kind: 'ours' }>,
  cluster: ClusterIdentity,
  namespace: string,
  sa: string,
): string {
  const what = `association ${current.associationId} (→ ${current.roleArn}) ${notOurs(verdict)}`;
  if (verdict.kind === 'other-cloud') return `${what}; it is never shared between clouds and was left alone`;
  return (
    `${what} and was left alone; ` +
    `delete it (aws eks delete-pod-identity-association --cluster-name ${cluster.name} --association-id ${current.associationId}) for the service to bind ${namespace}/${sa}`
  );
}

/** The resources of the ServiceAccount step that say (cluster, namespace) has what the plan wants. */
function serviceAccountsDone(target: { resources?: ResourceResult[] } | undefined): Set<string> {
  const done = new Set<string>();
  for (const r of target?.resources ?? []) {
    if (r.kind === 'service-account' && r.action !== 'failed' && r.cluster && r.namespace) done.add(`${r.cluster}\u0000${r.namespace}`);
  }
  return done;
}

/**
 * The old binding goes once the new one is in place: for IRSA, our associations of the
 * ServiceAccount (only where the ServiceAccount step put the annotation on); then, when nothing of
 * the old mechanism is left that a ServiceAccount still relies on, the trust policy becomes exactly
 * the planned one.
 */
export async function finishMigration(input: {
  port: PodIdentityPort | undefined;
  ownership: OwnershipStore;
  item: K8sIrsaItem;
  clusters: readonly ClusterIdentity[];
  cloudId: string;
  results: { target?: { resources?: ResourceResult[] }; association?: AssociationOutput } | undefined;
  currentTrust: object | null;
  updateTrust: (doc: PolicyDocument) => Promise<void>;
}): Promise<{ resources: ResourceResult[] }> {
  const { item, clusters, cloudId } = input;
  const sa = item.serviceAccount.name;
  const done = serviceAccountsDone(input.results?.target);
  const resources: ResourceResult[] = [];
  let complete = item.serviceAccount.namespaces.every((ns) => clusters.every((c) => done.has(`${c.name}\u0000${ns}`)));
  if (isPodIdentityItem(item)) {
    if (input.results?.association?.blocked) complete = false;
  } else if (input.port) {
    // Back to IRSA: delete our associations of this ServiceAccount where it is annotated again.
    for (const cluster of clusters) {
      const listed = await input.port.listAssociations(cluster, { serviceAccount: sa });
      for (const summary of listed) {
        if (!item.serviceAccount.namespaces.includes(summary.namespace)) continue;
        const base = { kind: 'pod-identity-association', name: `${summary.namespace}/${sa}`, namespace: summary.namespace, cluster: cluster.name };
        if (!done.has(`${cluster.name}\u0000${summary.namespace}`)) {
          complete = false;
          resources.push({ ...base, action: 'left-alone', detail: `${summary.associationId} kept: the ServiceAccount is not annotated yet` });
          continue;
        }
        const current = await input.port.describeAssociation(cluster, summary.associationId);
        if (!current) continue;
        const ref = associationRef(cluster, summary.namespace, sa);
        const { verdict } = await judgeAssociation(input.ownership, ref, current, cloudId);
        if (verdict.kind !== 'ours') {
          resources.push({ ...base, action: 'left-alone', detail: `${current.associationId} (→ ${current.roleArn}) ${notOurs(verdict)}; not deleted` });
          continue;
        }
        await input.port.deleteAssociation(cluster, current.associationId);
        await input.ownership.deleteInventory(ref, cloudId);
        resources.push({ ...base, action: 'deleted', detail: `${current.associationId}: moved from pod-identity to irsa` });
      }
    }
  }
  const from = isPodIdentityItem(item) ? 'irsa' : 'pod-identity';
  const to = isPodIdentityItem(item) ? 'pod-identity' : 'irsa';
  if (!complete) {
    resources.push({
      kind: 'trust-policy',
      name: item.role.name,
      action: 'left-alone',
      detail: `still trusts ${from} too: not every ServiceAccount has moved to ${to} yet`,
    });
    return { resources };
  }
  if (input.currentTrust && policiesEqual(input.currentTrust, item.role.trustPolicy)) {
    resources.push({ kind: 'trust-policy', name: item.role.name, action: 'unchanged', detail: `moved from ${from} to ${to}` });
  } else {
    await input.updateTrust(item.role.trustPolicy);
    resources.push({
      kind: 'trust-policy',
      name: item.role.name,
      action: 'updated',
      detail: `moved from ${from} to ${to}: the ${from} statements were removed`,
    });
  }
  return { resources };
}
