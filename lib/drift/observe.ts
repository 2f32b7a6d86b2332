/**
 * What the targets hold now for a plan, read cheaply and read-only (the observe half of a drift
 * check, also used by the plan-before-apply route): IAM in bulk — GetAccountAuthorizationDetails
 * (≤ 1 call per 1,000 roles) filtered to the role path, this cloud's ownership tags and the planned
 * names, plus one ListOpenIDConnectProviders; Kubernetes: one paged LIST per (cluster, namespace)
 * of the plan, plus one cluster-wide LIST of this cloud's labelled ServiceAccounts per cluster
 * (orphans of any namespace or stack); GetInstanceProfile only for a planned profile no role holds.
 */
import pMap from 'p-map';
import type { ClusterIdentity, ClusterPort, IamPort, InstanceProfileInfo, KubernetesPort, RoleDetail, RoleInfo, ServiceAccountInfo } from '../ports.js';
import { CLOUD_LABEL, cloudLabelValue, isOwnedRole } from '../provisioning/ownership.js';
import type { ResolvedSettings } from '../provisioning/settings.js';
import type { PlannedVersion } from '../workflow/planning.js';
import { itemName, nsKey, type ObservedRole } from './diff.js';

export interface ObserveDeps {
  iam: IamPort;
  clusters: ClusterPort;
  kubernetes(cluster: ClusterIdentity): KubernetesPort;
}

export interface ObserveOptions {
  /** Parallel reads. Default 8. */
  concurrency?: number;
  /** An unreachable cluster's cluster-wide LIST counts as empty (a GCP cloud's check does not fail on it). */
  tolerateUnreachableClusters?: boolean;
  /** This cloud's labelled ServiceAccounts carrying this annotation are not AWS orphans (a GCP cloud's GKE identities). */
  notOrphansAnnotated?: string;
}

export interface Observation {
  /** Every role IAM returned, by lower-case name. */
  detailByName: Map<string, RoleDetail>;
  /** By planned role name: what exists (null: missing). */
  roles: Map<string, ObservedRole | null>;
  /** Roles under the service's path, carrying this cloud's marks, or planned. */
  listedRoles: RoleInfo[];
  /** ServiceAccounts by nsKey(cluster, namespace). */
  serviceAccounts: Map<string, ServiceAccountInfo[]>;
  /** Planned instance profiles by name (null: missing). */
  instanceProfiles: Map<string, InstanceProfileInfo | null>;
  /** Every instance profile holding a listed role. */
  listedInstanceProfiles: InstanceProfileInfo[];
  /** ARNs of the account's OIDC providers. */
  oidcProviderArns: string[];
  /** The planned namespaces, listed in full in every planned cluster. */
  namespaces: string[];
  /** The clusters searched for this cloud's ServiceAccounts elsewhere. */
  orphanClusters: ClusterIdentity[];
}

export async function observe(deps: ObserveDeps, cloudId: string, planned: PlannedVersion, options: ObserveOptions = {}): Promise<Observation> {
  const limit = Math.max(1, options.concurrency ?? 8);
  const { plan, settings, clusters } = planned;
  const [details, providers, orphanClusters] = await Promise.all([
    deps.iam.listRoleDetails(),
    clusters.length > 0 ? deps.iam.listOpenIdConnectProviders() : Promise.resolve([] as string[]),
    clusters.length > 0 ? Promise.resolve(clusters) : clustersOfAnyStack(deps, settings),
  ]);
  const detailByName = new Map(details.map((d) => [d.role.name.toLowerCase(), d] as const));
  // What drift looks at: roles under the service's path or carrying this cloud's marks (any path), and planned roles.
  const plannedRoleNames = new Set(plan.items.map((i) => i.role.name.toLowerCase()));
  const relevant = details.filter(
    (d) => d.role.path.startsWith(settings.rolePath) || isOwnedRole(d.role.tags, cloudId) || plannedRoleNames.has(d.role.name.toLowerCase()),
  );
  const listed = relevant.map((d) => d.role);
  const observedRoles = new Map<string, ObservedRole | null>();
  for (const item of plan.items) {
    const detail = detailByName.get(item.role.name.toLowerCase());
    if (!detail) {
      observedRoles.set(item.role.name, null);
      continue;
    }
    const wanted = item.role.permissionPolicy.name.toLowerCase();
    const inlinePolicyNames = Object.keys(detail.inlinePolicies);
    const actualName = inlinePolicyNames.find((n) => n.toLowerCase() === wanted);
    observedRoles.set(item.role.name, {
      info: detail.role,
      inlinePolicyNames,
      inlinePolicy: actualName !== undefined ? (detail.inlinePolicies[actualName] ?? null) : null,
      attachedPolicyArns: detail.attachedPolicyArns,
    });
  }

  const namespaces = [...new Set(plan.items.flatMap((i) => (i.kind === 'k8s-irsa' ? i.serviceAccount.namespaces : [])))];
  const pairs = clusters.flatMap((cluster) => namespaces.map((namespace) => ({ cluster, namespace })));
  const serviceAccounts = new Map<string, ServiceAccountInfo[]>();
  await pMap(
    pairs,
    async ({ cluster, namespace }) => {
      serviceAccounts.set(nsKey(cluster.name, namespace), await deps.kubernetes(cluster).listServiceAccounts(namespace));
    },
    { concurrency: limit },
  );
  // This cloud's ServiceAccounts outside the planned namespaces (a namespace or the stack changed).
  const ownedSelector = `${CLOUD_LABEL}=${cloudLabelValue(cloudId)}`;
  await pMap(
    orphanClusters,
    async (cluster) => {
      const k8s = deps.kubernetes(cluster);
      if (!k8s.listServiceAccountsInAllNamespaces) return;
      const listedInFull = clusters.some((c) => c.name === cluster.name) ? namespaces : [];
      const owned = await k8s.listServiceAccountsInAllNamespaces(ownedSelector, { excludeNamespaces: listedInFull }).catch((e: unknown) => {
        if (options.tolerateUnreachableClusters) return [];
        throw e;
      });
      for (const sa of owned) {
        if (options.notOrphansAnnotated !== undefined && Object.hasOwn(sa.annotations, options.notOrphansAnnotated)) continue;
        const key = nsKey(cluster.name, sa.namespace);
        if (listedInFull.includes(sa.namespace)) continue; // listed in full above
        const list = serviceAccounts.get(key) ?? [];
        list.push(sa);
        serviceAccounts.set(key, list);
      }
    },
    { concurrency: limit },
  );

  // Instance profiles come with their roles; one GetInstanceProfile only for a planned profile no role lists.
  const profilesByName = new Map<string, InstanceProfileInfo>();
  for (const d of relevant) for (const p of d.instanceProfiles) profilesByName.set(p.name.toLowerCase(), p);
  const instanceProfiles = new Map<string, InstanceProfileInfo | null>();
  const vmItems = plan.items.filter((i) => i.kind === 'instance-profile');
  await pMap(
    vmItems,
    async (item) => {
      const name = itemName(item);
      instanceProfiles.set(name, profilesByName.get(name.toLowerCase()) ?? (await deps.iam.getInstanceProfile(name)));
    },
    { concurrency: limit },
  );

  return {
    detailByName,
    roles: observedRoles,
    listedRoles: listed,
    serviceAccounts,
    instanceProfiles,
    listedInstanceProfiles: [...profilesByName.values()],
    oidcProviderArns: providers,
    namespaces,
    orphanClusters,
  };
}

/**
 * The clusters a config without K8S clusters (VM stack) may have left ServiceAccounts in: those its
 * settings name (by default the deployment's cluster). A cluster that cannot be described holds none
 * we could reach.
 */
export async function clustersOfAnyStack(deps: Pick<ObserveDeps, 'clusters'>, settings: ResolvedSettings): Promise<ClusterIdentity[]> {
  const found = await Promise.all(settings.clusters.map((c) => deps.clusters.describeCluster(c.name, c.region ?? undefined).catch(() => null)));
  return found.filter((c): c is ClusterIdentity => c !== null);
}
