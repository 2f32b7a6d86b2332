/**
 * Conflicts across clouds, found in the Plan step before any role is created. Every plan item
 * claims the names it will write — its IAM role (lowercased: IAM names ignore case), its instance
 * profile, and each (cluster, namespace, ServiceAccount) — with a conditional put (first cloud
 * wins). An item whose claim another cloud holds, or whose ServiceAccount exists carrying another
 * cloud's marks (or is in another cloud's inventory), fails here naming that cloud, and the Map
 * never runs it: no role is ever made trusting another cloud's ServiceAccount.
 *
 * A full run also settles what the version no longer wants: a claim with no inventory record of
 * this cloud (nothing was made) is released; one whose resource still exists is kept and the
 * resource reported as lingering (drift reports it as an orphan; delete_orphans removes it, which
 * releases the claim).
 */
import pMap from 'p-map';
import type {
  ClaimRecord,
  ClusterIdentity,
  GcpPort,
  GkeCluster,
  ItemResult,
  KubernetesPort,
  OwnershipStore,
  ResourceRef,
  ResourceResult,
  IamPort,
  ServiceAccountInfo,
} from '../ports.js';
import type { AnyPlanItem as PlanItem, PlanItemRef } from '../provisioning/plan.js';
import { describeRef, gcpAccountRef, instanceProfileRef, judgeOwnership, resourceKey, roleRef, serviceAccountRef } from '../provisioning/inventory.js';
import { cloudLabelValue, CLOUD_LABEL } from '../provisioning/ownership.js';
import { parseGkeIssuer } from '../provisioning/gcp-settings.js';
import { PromiseCache } from '../promise-cache.js';
import { forgetOwned } from './ownership-checks.js';

export interface ClaimDeps {
  ownership: OwnershipStore;
  iam: IamPort;
  /** Google service accounts and GKE ServiceAccounts a cloud claimed (whether one still exists, its cluster configured or not). */
  gcp?: Pick<GcpPort, 'getServiceAccount' | 'describeGkeCluster' | 'kubernetes'>;
  kubernetes(cluster: ClusterIdentity): KubernetesPort;
}

export interface ClaimOutcome {
  /** Items refused at plan time, by item name, as recorded in the run. */
  refused: Map<string, ItemResult>;
  /** Identities this cloud made that this version no longer wants (full runs only). */
  lingering: ResourceResult[];
}

const CONCURRENCY = 8;

/** The names an item writes. */
export function claimsOf(item: PlanItem, clusters: readonly ClusterIdentity[]): ResourceRef[] {
  if (item.kind === 'gcp-vm') return []; // the account is the config's, not made here (unless created: its inventory record guards it)
  if (item.kind === 'gcp-gke') {
    const refs: ResourceRef[] = [gcpAccountRef(item.account.email)];
    for (const cluster of clusters) for (const ns of item.serviceAccount.namespaces) refs.push(serviceAccountRef(cluster, ns, item.serviceAccount.name));
    return refs;
  }
  if (item.kind === 'instance-profile') return [roleRef(item.role.name), instanceProfileRef(item.instanceProfile.name)];
  const refs: ResourceRef[] = [roleRef(item.role.name)];
  for (const cluster of clusters) for (const ns of item.serviceAccount.namespaces) refs.push(serviceAccountRef(cluster, ns, item.serviceAccount.name));
  return refs;
}

const resourceOf = (ref: ResourceRef, action: ResourceResult['action'], detail: string): ResourceResult => ({
  kind: ref.kind,
  name: ref.name,
  ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}),
  ...(ref.cluster !== undefined ? { cluster: ref.cluster } : {}),
  action,
  detail,
});

export async function settleClaims(
  deps: ClaimDeps,
  input: {
    cloudId: string;
    version: number;
    items: Array<{ ref: PlanItemRef; item: PlanItem }>;
    clusters: readonly ClusterIdentity[];
    /** All items of the version are being run (not a partial repair): unwanted claims are settled too. */
    full: boolean;
    now: string;
  },
): Promise<ClaimOutcome> {
  const { cloudId, version, now } = input;
  const held = new Map((await deps.ownership.listClaims(cloudId)).map((c) => [resourceKey(c), c]));
  const refused = new Map<string, ItemResult>();
  const refuse = (ref: PlanItemRef, resource: ResourceResult, message: string) => {
    const prior = refused.get(ref.name);
    if (prior) {
      prior.resources.push(resource);
      return;
    }
    refused.set(ref.name, {
      name: ref.name,
      kind: ref.kind,
      status: 'FAILED',
      resources: [resource],
      error: { name: 'OwnershipConflict', message },
      finishedAt: now,
    });
  };

  // 1. Claims: first cloud wins. Already-held claims cost nothing (one Query above).
  const wanted = new Set<string>();
  const work: Array<{ ref: PlanItemRef; claim: ResourceRef }> = [];
  for (const { ref, item } of input.items) {
    for (const claim of claimsOf(item, input.clusters)) {
      const key = resourceKey(claim);
      wanted.add(key);
      if (!held.has(key)) work.push({ ref, claim });
    }
  }
  await pMap(
    work,
    async ({ ref, claim }) => {
      const holder = await deps.ownership.claim({ ...claim, cloudId, configVersion: version, claimedAt: now });
      if (holder.cloudId === cloudId) return;
      refuse(
        ref,
        resourceOf(claim, 'failed', `claimed by cloud ${holder.cloudId} (its config version ${holder.configVersion})`),
        `${describeRef(claim)} is already wanted by cloud ${holder.cloudId} (its config version ${holder.configVersion}); names are never shared between clouds, so nothing was created for ${ref.name}. ` +
          `Choose another ${claim.kind === 'service-account' ? 'ServiceAccount name or namespace' : claim.kind === 'iam-role' ? 'role_name (or role_name_prefix)' : 'instance-profile name'}`,
      );
    },
    { concurrency: CONCURRENCY },
  );

  // 2. ServiceAccounts that exist already and belong to another cloud (by its labels or the inventory).
  await checkExistingServiceAccounts(deps, input, refuse, refused);

  // 3. What this version no longer wants.
  const lingering: ResourceResult[] = [];
  if (input.full) {
    const unwanted = [...held.entries()].filter(([key]) => !wanted.has(key)).map(([, c]) => c);
    // GKE clusters this version does not name, described once per issuer (null: not describable).
    const gkeClusters = new PromiseCache<string, GkeCluster | null>();
    await pMap(
      unwanted,
      async (claim) => {
        const still = await stillExists(deps, claim, cloudId, input.clusters, gkeClusters);
        if (still === false) {
          await forgetOwned(deps.ownership, claim, cloudId);
          return;
        }
        lingering.push(
          resourceOf(
            claim,
            'left-alone',
            `made by this cloud (claimed at config version ${claim.configVersion}) but not wanted by version ${version}${still === null ? '; could not be checked (its cluster is not configured or not reachable)' : ''}: ` +
              'drift reports it as an orphan, and provisioning.drift.delete_orphans: true removes it',
          ),
        );
      },
      { concurrency: CONCURRENCY },
    );
    lingering.sort((a, b) => `${a.kind}#${a.name}#${a.namespace ?? ''}`.localeCompare(`${b.kind}#${b.name}#${b.namespace ?? ''}`));
  }
  return { refused, lingering };
}

async function checkExistingServiceAccounts(
  deps: ClaimDeps,
  input: { cloudId: string; items: Array<{ ref: PlanItemRef; item: PlanItem }>; clusters: readonly ClusterIdentity[] },
  refuse: (ref: PlanItemRef, resource: ResourceResult, message: string) => void,
  refused: ReadonlyMap<string, ItemResult>,
): Promise<void> {
  const byNamespace = new Map<string, { cluster: ClusterIdentity; namespace: string; items: Array<{ ref: PlanItemRef; name: string }> }>();
  for (const { ref, item } of input.items) {
    if ((item.kind !== 'k8s-irsa' && item.kind !== 'gcp-gke') || refused.has(ref.name)) continue;
    for (const cluster of input.clusters) {
      for (const namespace of item.serviceAccount.namespaces) {
        const k = `${cluster.issuerHost}#${namespace}`;
        let entry = byNamespace.get(k);
        if (!entry) byNamespace.set(k, (entry = { cluster, namespace, items: [] }));
        entry.items.push({ ref, name: item.serviceAccount.name });
      }
    }
  }
  const ours = cloudLabelValue(input.cloudId);
  await pMap(
    [...byNamespace.values()],
    async ({ cluster, namespace, items }) => {
      const existing = new Map<string, ServiceAccountInfo>();
      // One paged LIST per (cluster, namespace); a namespace that does not exist has none.
      for (const sa of await deps.kubernetes(cluster).listServiceAccounts(namespace)) existing.set(sa.name, sa);
      for (const { ref, name } of items) {
        const sa = existing.get(name);
        if (!sa || sa.labels[CLOUD_LABEL] === ours) continue; // ours or unverified: the ServiceAccount step decides
        const saRef = serviceAccountRef(cluster, namespace, name);
        const record = await deps.ownership.getInventory(saRef);
        const verdict = judgeOwnership({ kind: 'service-account', marks: sa.labels, tokenSource: sa.annotations, id: sa.uid }, record, input.cloudId);
        if (verdict.kind !== 'other-cloud') continue;
        refuse(
          ref,
          resourceOf(saRef, 'failed', `belongs to cloud ${verdict.owner}`),
          `${describeRef(saRef)} belongs to cloud ${verdict.owner} (${verdict.by === 'inventory' ? "the service's inventory" : 'its ownership labels'}); ` +
            `it is never adopted, changed or trusted for another cloud, so nothing was created for ${ref.name}. Choose another ServiceAccount name or namespace`,
        );
      }
    },
    { concurrency: CONCURRENCY },
  );
}

/** true: the resource is there and still this cloud's record; false: gone (or not recorded); null: cannot tell. */
async function stillExists(
  deps: ClaimDeps,
  claim: ClaimRecord,
  cloudId: string,
  clusters: readonly ClusterIdentity[],
  gkeClusters: PromiseCache<string, GkeCluster | null>,
): Promise<boolean | null> {
  const record = await deps.ownership.getInventory(claim);
  if (!record || record.cloudId !== cloudId) return false;
  if (claim.kind === 'iam-role') return (await deps.iam.getRole(claim.name)) !== null;
  if (claim.kind === 'instance-profile') return (await deps.iam.getInstanceProfile(claim.name)) !== null;
  if (claim.kind === 'gcp-service-account') return deps.gcp ? (await deps.gcp.getServiceAccount('-', claim.name)) !== null : null;
  if (claim.namespace === undefined || claim.clusterIssuer === undefined) return null;
  const cluster = clusters.find((c) => c.issuerHost === claim.clusterIssuer);
  if (cluster) return (await deps.kubernetes(cluster).getServiceAccount(claim.namespace, claim.name)) !== null;
  // A GKE cluster this version does not name (a move to AWS, a cluster dropped from the settings): reached through Google.
  const gcp = deps.gcp;
  const gke = parseGkeIssuer(claim.clusterIssuer);
  if (!gke || !gcp) return null;
  const described = await gkeClusters.get(claim.clusterIssuer, () => gcp.describeGkeCluster(gke.project, gke.location, gke.name).catch(() => null));
  if (!described) return null; // cannot tell (the cluster is gone, or not readable): the claim stays
  try {
    return (await gcp.kubernetes(described).getServiceAccount(claim.namespace, claim.name)) !== null;
  } catch {
    return null;
  }
}
