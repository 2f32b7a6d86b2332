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
  InventoryRecord,
  ServiceAccountInfo,
} from '../ports.js';
import type { AnyPlanItem as PlanItem, PlanItemRef } from '../provisioning/plan.js';
import { describeRef, gcpAccountRef, instanceProfileRef, judgeOwnership, resourceKey, roleRef, serviceAccountRef } from '../provisioning/inventory.js';
import { cloudLabelValue, CLOUD_LABEL, ROLE_ARN_ANNOTATION } from '../provisioning/ownership.js';
import { GKE_SA_ANNOTATION, parseGkeIssuer } from '../provisioning/gcp-settings.js';
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

  // 1. Claims: first cloud wins. Already-held claims cost nothing (one Query above).
  const wanted = new Set<string>();
  const work: ResourceRef[] = [];
  for (const { item } of input.items) {
    for (const claim of claimsOf(item, input.clusters)) {
      const key = resourceKey(claim);
      if (!wanted.has(key) && !held.has(key)) work.push(claim);
      wanted.add(key);
    }
  }
  const holders = new Map<string, ClaimRecord>();
  await pMap(
    work,
    async (claim) => {
      const holder = await deps.ownership.claim({ ...claim, cloudId, configVersion: version, claimedAt: now });
      if (holder.cloudId !== cloudId) holders.set(resourceKey(claim), holder);
    },
    { concurrency: CONCURRENCY },
  );

  // 2. The items refused before any write (lib/workflow/claims.ts planTimeRefusal, as the plan route judges them):
  // another cloud's claim, a ServiceAccount of another cloud (labels or inventory), one without marks the config does not adopt.
  const listed = new PromiseCache<string, Map<string, ServiceAccountInfo>>();
  const lookups: RefusalLookups = {
    claimHolder: async (ref) => holders.get(resourceKey(ref)) ?? null,
    serviceAccount: async (cluster, namespace, name) =>
      (
        await listed.get(`${cluster.issuerHost}#${namespace}`, async () => {
          // One paged LIST per (cluster, namespace); a namespace that does not exist has none.
          const byName = new Map<string, ServiceAccountInfo>();
          for (const sa of await deps.kubernetes(cluster).listServiceAccounts(namespace)) byName.set(sa.name, sa);
          return byName;
        })
      ).get(name),
    inventory: (ref) => deps.ownership.getInventory(ref),
  };
  await pMap(
    input.items,
    async ({ ref, item }) => {
      const refusal = await planTimeRefusal(cloudId, ref.name, item, input.clusters, lookups);
      if (!refusal) return;
      refused.set(ref.name, {
        name: ref.name,
        kind: ref.kind,
        status: 'FAILED',
        resources: refusal.resources,
        error: { name: refusal.error, message: refusal.message },
        finishedAt: now,
      });
    },
    { concurrency: CONCURRENCY },
  );

  // 3. What this version no longer wants.
  const lingering: ResourceResult[] = [];
  if (input.full) {
    const unwanted = [...held.entries()].filter(([key]) => !wanted.has(key)).map(([, c]) => c);
    // GKE clusters this version does not name, described once per issuer (null: not describable).
    const gkeClusters = new PromiseCache<string, GkeCluster | null>();
    await pMap(
      unwanted,
      async (claim) => {
        const adopted = (await deps.ownership.getInventory(claim))?.adopted === true;
        const still = await stillExists(deps, claim, cloudId, input.clusters, gkeClusters);
        if (still === false) {
          await forgetOwned(deps.ownership, claim, cloudId);
          return;
        }
        lingering.push(
          resourceOf(
            claim,
            'left-alone',
            `${adopted ? 'adopted' : 'made'} by this cloud (its name claimed at config version ${claim.configVersion}) but not wanted by version ${version}${still === null ? '; could not be checked (its cluster is not configured or not reachable)' : ''}: ` +
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

/** What the item's plan-time judgement reads: the run answers from its claim puts and LISTs, the plan route from its reads. */
export interface RefusalLookups {
  /** Another cloud's claim on `ref` (null: free, or this cloud's). The run asks with its conditional put (first cloud wins); the plan route reads the claim. */
  claimHolder(ref: ResourceRef): Promise<Pick<ClaimRecord, 'cloudId' | 'configVersion'> | null>;
  /** The ServiceAccount `name` as listed in (cluster, namespace); undefined: none. */
  serviceAccount(cluster: ClusterIdentity, namespace: string, name: string): Promise<ServiceAccountInfo | undefined>;
  inventory(ref: ResourceRef): Promise<InventoryRecord | null>;
}

export interface ItemRefusal {
  /** The error the run records for the item (it never reaches the Map). */
  error: Extract<PlanRefusalError, 'OwnershipConflict'>;
  message: string;
  /** Each resource refused, `failed` with why. */
  resources: ResourceResult[];
}

/** The error names of items refused in the Plan step (recorded there, never run). */
export const PLAN_REFUSAL_ERRORS = ['OwnershipConflict', 'OidcProviderMissing'] as const;
export type PlanRefusalError = (typeof PLAN_REFUSAL_ERRORS)[number];
export const isPlanRefusal = (name: string | undefined): name is PlanRefusalError => (PLAN_REFUSAL_ERRORS as readonly string[]).includes(name ?? '');

/**
 * Whether the Plan step refuses an item before any write, and with what message: the one
 * judgement the run (settleClaims) and the plan route (lib/drift/changes.ts, app/use-cases/plan.ts)
 * both make, so they cannot disagree. Refused: a name another cloud claims; an existing
 * ServiceAccount another cloud owns (its labels or the inventory); an existing ServiceAccount
 * without ownership marks that the config does not adopt and whose annotation is not already the
 * planned one (the item would otherwise make its role and then fail on it).
 */
export async function planTimeRefusal(
  cloudId: string,
  itemName: string,
  item: PlanItem,
  clusters: readonly ClusterIdentity[],
  look: RefusalLookups,
): Promise<ItemRefusal | null> {
  let message: string | null = null;
  const resources: ResourceResult[] = [];
  for (const claim of claimsOf(item, clusters)) {
    const holder = await look.claimHolder(claim);
    if (!holder || holder.cloudId === cloudId) continue;
    resources.push(resourceOf(claim, 'failed', `claimed by cloud ${holder.cloudId} (its config version ${holder.configVersion})`));
    message ??=
      `${describeRef(claim)} is already wanted by cloud ${holder.cloudId} (its config version ${holder.configVersion}); names are never shared between clouds, so nothing was created for ${itemName}. ` +
      `Choose another ${claim.kind === 'service-account' ? 'ServiceAccount name or namespace' : claim.kind === 'iam-role' ? 'role_name (or role_name_prefix)' : claim.kind === 'gcp-service-account' ? 'account_id' : 'instance-profile name'}`;
  }
  if (message) return { error: 'OwnershipConflict', message, resources };
  if (item.kind !== 'k8s-irsa' && item.kind !== 'gcp-gke') return null;
  const ours = cloudLabelValue(cloudId);
  const name = item.serviceAccount.name;
  const annotation = item.kind === 'gcp-gke' ? GKE_SA_ANNOTATION : ROLE_ARN_ANNOTATION;
  // The item's identity (role, Google account) already this cloud's: its steps still run and repair it, and the
  // ServiceAccount step fails only that ServiceAccount. Not yet made: nothing is, rather than an identity left behind.
  const identityRef = item.kind === 'gcp-gke' ? gcpAccountRef(item.account.email) : roleRef(item.role.name);
  const identityIsOurs = async () => (await look.inventory(identityRef))?.cloudId === cloudId;
  for (const cluster of clusters) {
    for (const namespace of item.serviceAccount.namespaces) {
      const sa = await look.serviceAccount(cluster, namespace, name);
      if (!sa || sa.labels[CLOUD_LABEL] === ours) continue; // ours or unverified: the ServiceAccount step decides
      const saRef = serviceAccountRef(cluster, namespace, name);
      const record = await look.inventory(saRef);
      const verdict = judgeOwnership({ kind: 'service-account', marks: sa.labels, tokenSource: sa.annotations, id: sa.uid }, record, cloudId);
      if (verdict.kind === 'other-cloud') {
        resources.push(resourceOf(saRef, 'failed', `belongs to cloud ${verdict.owner}`));
        message ??=
          `${describeRef(saRef)} belongs to cloud ${verdict.owner} (${verdict.by === 'inventory' ? "the service's inventory" : 'its ownership labels'}); ` +
          `it is never adopted, changed or trusted for another cloud, so nothing was created for ${itemName}. Choose another ServiceAccount name or namespace`;
      } else if (
        verdict.kind === 'unmarked' &&
        !item.adopt.serviceAccount &&
        sa.annotations[annotation] !== (item.annotations as Readonly<Record<string, string | undefined>>)[annotation] &&
        !(await identityIsOurs())
      ) {
        const found = sa.annotations[annotation];
        resources.push(resourceOf(saRef, 'failed', `exists without the ownership label (annotation: ${found ?? 'none'}); left alone`));
        message ??=
          `${describeRef(saRef)} exists without the ownership label of this service (annotation ${annotation}: ${found ?? 'none'}); it was left alone, and nothing was created for ${itemName} (its ${item.kind === 'gcp-gke' ? 'Google account' : 'IAM role'} would be made for a ServiceAccount the service may not annotate). ` +
          `Set provisioning.service_accounts.${name}.adopt_service_account: true to adopt it, or choose another ServiceAccount name or namespace`;
      }
    }
  }
  return message ? { error: 'OwnershipConflict', message, resources } : null;
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
