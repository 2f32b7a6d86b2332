/**
 * Drift of a Google Cloud cloud: what the plan of the provisioned version wants (the Google
 * service accounts, their IAM bindings, the default bucket's grants and, for GKE, the annotated
 * Kubernetes ServiceAccounts) against what Google and the clusters hold now.
 *
 * Reads per check: per item one GetServiceAccount and one getIamPolicy of the account; one
 * getIamPolicy of the default bucket (shared by every item); one paged list of accounts per
 * project (orphans, below); for GKE one paged LIST of ServiceAccounts per (cluster, namespace) and
 * one cluster-wide LIST per cluster (orphans), and per claimed GKE cluster the plan does not name
 * one GKE describe and one cluster-wide LIST. Findings (lib/drift/kinds.ts): `gcp-account-missing`,
 * `gcp-workload-identity-widened` (critical: a member the config does not name can act as the
 * account), `gcp-workload-identity-removed`, `gcp-service-account-user-removed`,
 * `gcp-bucket-access-removed`, `gcp-annotation-changed`, `service-account-missing`,
 * `ownership-label-removed`. A repair re-runs the items (the workflow restores what the service
 * owns; a member someone else added is never removed by it — the finding says how to remove it).
 *
 * Orphans, neither named by this plan nor kept (`keep*`: a newer, unfinished version's):
 * - `orphan-service-account`: per GKE cluster — the plan's, and those of ServiceAccounts the cloud
 *   still claims that the plan does not name (claimedGkeClusters: after a move to AWS the old
 *   stack's) — one cluster-wide LIST of this cloud's labelled ServiceAccounts, those with the GKE
 *   annotation (without it they are AWS identities, which the AWS part of the check reports);
 * - `gcp-account-orphan`: one paged list of service accounts per project of the plan (the
 *   settings' project and every item's account's) and of the accounts the cloud still claims
 *   (claimedGoogleIdentities: after a move to AWS the old stack's), those whose description carries
 *   this cloud's ownership marks.
 * Deleting them is drift's repair with `delete_orphans` (check.ts), after marks and inventory agree again.
 */
import pMap from 'p-map';
import type { ClaimRecord, DriftFinding, GcpPort, GkeCluster, GoogleIamPolicy, GoogleServiceAccount, OwnershipStore, ServiceAccountInfo } from '../ports.js';
import { anyMembersOf } from '../provisioning/gcp-policy.js';
import type { GcpPlanItem } from '../provisioning/gcp-plan.js';
import { GKE_SA_ANNOTATION, parseGkeIssuer } from '../provisioning/gcp-settings.js';
import { gcpAccountMarks, projectOfEmail } from '../provisioning/gcp-plan.js';
import { gcpAccountRef } from '../provisioning/inventory.js';
import { CLOUD_LABEL, cloudLabelValue, IDENTITY_TAG, isOwnedServiceAccount } from '../provisioning/ownership.js';
import type { PlannedVersion } from '../workflow/planning.js';
import { judgeGcpAccount } from '../workflow/gcp-steps.js';
import { ORPHAN_DELETE_NOTE, saKey } from './diff.js';
import { DRIFT_KINDS } from './kinds.js';

export interface GcpDriftDeps {
  gcp: GcpPort;
  ownership?: OwnershipStore;
  concurrency?: number;
}

type Draft = Omit<DriftFinding, 'severity'>;
const finish = (d: Draft): DriftFinding => ({ ...d, severity: DRIFT_KINDS[d.kind].severity });

export async function gcpDriftFindings(
  deps: GcpDriftDeps,
  cloudId: string,
  planned: PlannedVersion,
  options: {
    /** Google accounts (lower-case e-mail) of a newer, unfinished version: not orphans. */
    keepAccounts?: ReadonlySet<string>;
    /** GKE ServiceAccounts (diff.ts' saKey) of a newer, unfinished version: not orphans. */
    keepServiceAccounts?: ReadonlySet<string>;
    /** Projects of the Google accounts this cloud still claims (googleDriftFindings): listed for orphans too. */
    claimedProjects?: readonly string[];
  } = {},
): Promise<{
  findings: DriftFinding[];
  /** Projects whose accounts could not be listed (with the error): no orphans of theirs are reported. */
  unlisted: string[];
  observed: { roles: number; service_accounts: number; namespaces: number; clusters: number };
}> {
  const items: GcpPlanItem[] = planned.plan.gcpItems ?? [];
  const limit = Math.max(1, deps.concurrency ?? 8);
  const out: Draft[] = [];
  const buckets = new Map<string, Promise<GoogleIamPolicy | null>>();
  const bucketPolicy = (name: string) => {
    let p = buckets.get(name);
    if (!p) buckets.set(name, (p = deps.gcp.getBucketPolicy(name)));
    return p;
  };
  let accounts = 0;

  await pMap(
    items,
    async (item) => {
      const name = item.kind === 'gcp-gke' ? item.serviceAccount.name : item.account.email;
      const { email, project } = item.account;
      const account = await deps.gcp.getServiceAccount(project, email);
      if (!account) {
        out.push({
          kind: 'gcp-account-missing',
          name: email,
          resource: 'gcp-service-account',
          item: name,
          expected: email,
          actual: null,
          message: `Google service account ${email} of ${name} no longer exists: its workloads get no Google credentials`,
          repairable: item.kind === 'gcp-gke' || item.account.create,
        });
        return;
      }
      accounts++;
      const record = deps.ownership ? await deps.ownership.getInventory(gcpAccountRef(email)) : null;
      const verdict = judgeGcpAccount(account, record, cloudId);
      const managed = verdict.kind === 'ours' || (verdict.kind === 'unmarked' && item.adopt.account);
      if (item.kind === 'gcp-gke' && !managed) {
        out.push({
          kind: 'ownership-label-removed',
          name: email,
          resource: 'gcp-service-account',
          item: name,
          expected: 'the ownership marks in its description',
          actual: account.description ?? '',
          message:
            verdict.kind === 'other-cloud'
              ? `Google service account ${email} is marked (or recorded) for cloud ${verdict.owner}: the service no longer changes it, and never adopts another cloud's account; ` +
                `if its description was tampered with, restore this cloud's marks (${CLOUD_LABEL}=${cloudLabelValue(cloudId)}); if it is cloud ${verdict.owner}'s, remove it from that cloud's config or name another account here`
              : `Google service account ${email} lost its ownership marks: the service no longer changes it; set provisioning.gcp.accounts.${name}.adopt_account: true to manage it again`,
          repairable: false,
        });
      }
      const policy = await deps.gcp.getServiceAccountPolicy(project, email);
      const role = item.accountBinding.role;
      const members = anyMembersOf(policy, role);
      const want = item.accountBinding.members;
      const missing = want.filter((m) => !members.includes(m));
      if (missing.length > 0) {
        out.push({
          kind: item.kind === 'gcp-gke' ? 'gcp-workload-identity-removed' : 'gcp-service-account-user-removed',
          name: email,
          resource: 'gcp-iam-binding',
          item: name,
          expected: want,
          actual: members,
          message: `${role} on ${email} no longer has ${missing.join(', ')}`,
          repairable: item.kind === 'gcp-vm' || managed,
        });
      }
      const extra = members.filter((m) => !want.includes(m));
      if (item.kind === 'gcp-gke' && extra.length > 0) {
        out.push({
          kind: 'gcp-workload-identity-widened',
          name: email,
          resource: 'gcp-iam-binding',
          item: name,
          expected: want,
          actual: members,
          message:
            `${role} on ${email} also lets ${extra.join(', ')} act as it (the config names only ${want.join(', ')}); ` +
            `the service never removes a member it did not add: remove ${extra.length === 1 ? 'it' : 'them'} with ` +
            extra.map((m) => `gcloud iam service-accounts remove-iam-policy-binding ${email} --role=${role} --member=${m}`).join('; '),
          repairable: false,
        });
      }
      const bucket = await bucketPolicy(item.bucket.bucket);
      for (const r of item.bucket.roles) {
        if (bucket && anyMembersOf(bucket, r).includes(item.bucket.member)) continue;
        out.push({
          kind: 'gcp-bucket-access-removed',
          name: item.bucket.bucket,
          resource: 'gcs-bucket-binding',
          item: name,
          expected: `${r} for ${item.bucket.member}`,
          actual: bucket ? anyMembersOf(bucket, r) : 'the bucket does not exist',
          message: bucket ? `bucket ${item.bucket.bucket} no longer grants ${r} to ${email}` : `bucket ${item.bucket.bucket} does not exist`,
          repairable: bucket !== null,
        });
      }
    },
    { concurrency: limit },
  );

  // GKE: the annotated ServiceAccounts, one LIST per (cluster, namespace).
  const gke = items.filter((i) => i.kind === 'gcp-gke');
  const namespaces = [...new Set(gke.flatMap((i) => i.serviceAccount.namespaces))];
  const clusters = planned.clusters as GkeCluster[];
  let seen = 0;
  await pMap(
    clusters.flatMap((cluster) => namespaces.map((namespace) => ({ cluster, namespace }))),
    async ({ cluster, namespace }) => {
      const listed: ServiceAccountInfo[] = await deps.gcp.kubernetes(cluster).listServiceAccounts(namespace);
      seen += listed.length;
      const byName = new Map(listed.map((sa) => [sa.name, sa] as const));
      for (const item of gke) {
        if (!item.serviceAccount.namespaces.includes(namespace)) continue;
        const ksa = item.serviceAccount.name;
        const sa = byName.get(ksa);
        const where = { cluster: cluster.name, namespace, item: ksa, name: `${namespace}/${ksa}`, resource: 'service-account' };
        const email = item.annotations[GKE_SA_ANNOTATION];
        if (!sa) {
          out.push({
            ...where,
            kind: 'service-account-missing',
            expected: email,
            actual: null,
            message: `ServiceAccount ${namespace}/${ksa} in cluster ${cluster.name} no longer exists`,
            repairable: true,
          });
          continue;
        }
        const owned = isOwnedServiceAccount(sa.labels, cloudId);
        const actual = sa.annotations[GKE_SA_ANNOTATION] ?? null;
        if (actual !== email) {
          out.push({
            ...where,
            kind: 'gcp-annotation-changed',
            expected: email,
            actual,
            message: `ServiceAccount ${namespace}/${ksa} in cluster ${cluster.name} ${actual ? `now names ${actual}` : 'lost its annotation'} in ${GKE_SA_ANNOTATION} (was ${email})`,
            repairable: owned || item.adopt.serviceAccount,
          });
        }
      }
    },
    { concurrency: limit },
  );
  // GKE orphans: one cluster-wide LIST per cluster of this cloud's labelled ServiceAccounts; those no item names (in any namespace).
  const plannedKsas = new Set(gke.flatMap((i) => clusters.flatMap((c) => i.serviceAccount.namespaces.map((ns) => saKey(c.name, ns, i.serviceAccount.name)))));
  out.push(...(await gkeServiceAccountOrphans(deps, cloudId, planned.plan.configVersion, clusters, plannedKsas, options.keepServiceAccounts)));

  // Orphans: this cloud's accounts (by the marks in their description) that no item names any more,
  // in the plan's projects and in those of accounts the cloud still claims (an earlier version's).
  // `-` (an account named by an e-mail outside `*.iam.gserviceaccount.com`) is no project to list.
  const orphans = await gcpAccountOrphans(deps, cloudId, planned.plan.configVersion, {
    projects: [planned.settings.gcp?.project, ...items.map((i) => i.account.project), ...(options.claimedProjects ?? [])],
    named: new Set(items.map((i) => i.account.email.toLowerCase())),
    ...(options.keepAccounts ? { keep: options.keepAccounts } : {}),
  });
  return {
    findings: [...out.map(finish), ...orphans.findings],
    unlisted: orphans.unlisted,
    observed: { roles: accounts, service_accounts: seen, namespaces: namespaces.length, clusters: clusters.length },
  };
}

/**
 * In each cluster one cluster-wide LIST of this cloud's labelled ServiceAccounts: those with the
 * GKE annotation that neither `planned` nor `keep` names (saKey) are `orphan-service-account`.
 * Without the annotation a labelled one is an AWS identity of this cloud, which the AWS part of
 * the check reports (observe.ts' notOrphansAnnotated).
 */
async function gkeServiceAccountOrphans(
  deps: GcpDriftDeps,
  cloudId: string,
  configVersion: number,
  clusters: readonly GkeCluster[],
  planned: ReadonlySet<string>,
  keep: ReadonlySet<string> = new Set(),
): Promise<Draft[]> {
  const out: Draft[] = [];
  await pMap(
    clusters,
    async (cluster) => {
      const k8s = deps.gcp.kubernetes(cluster);
      if (!k8s.listServiceAccountsInAllNamespaces) return;
      for (const sa of await k8s.listServiceAccountsInAllNamespaces(`${CLOUD_LABEL}=${cloudLabelValue(cloudId)}`)) {
        const key = saKey(cluster.name, sa.namespace, sa.name);
        if (planned.has(key) || keep.has(key) || !isOwnedServiceAccount(sa.labels, cloudId)) continue;
        if (!Object.hasOwn(sa.annotations, GKE_SA_ANNOTATION)) continue;
        out.push({
          kind: 'orphan-service-account',
          name: `${sa.namespace}/${sa.name}`,
          resource: 'service-account',
          cluster: cluster.name,
          namespace: sa.namespace,
          expected: 'absent',
          actual: sa.annotations[GKE_SA_ANNOTATION],
          message: `ServiceAccount ${sa.namespace}/${sa.name} in GKE cluster ${cluster.name} carries this cloud's ownership marks, but config version ${configVersion} no longer names it there; ${ORPHAN_DELETE_NOTE}`,
          repairable: false,
        });
      }
    },
    { concurrency: Math.max(1, deps.concurrency ?? 8) },
  );
  return out;
}

/**
 * The Google identities this cloud still claims: its Google accounts, and its ServiceAccounts in
 * GKE clusters (a claim records the cluster's issuer, which names its project, location and
 * name). A claim outlives the version that made it while its resource exists (lib/workflow/claims.ts),
 * so after a move to AWS, a change of project or a GKE cluster dropped from the settings, they
 * say where the old stack's identities are — though no current plan names them.
 */
export async function claimedGoogleIdentities(ownership: Pick<OwnershipStore, 'listClaims'>, cloudId: string): Promise<ClaimRecord[]> {
  return (await ownership.listClaims(cloudId)).filter(
    (c) => c.kind === 'gcp-service-account' || (c.kind === 'service-account' && c.clusterIssuer !== undefined && parseGkeIssuer(c.clusterIssuer) !== null),
  );
}

/**
 * The GKE clusters of the claimed ServiceAccounts that `planned` does not name (by issuer), each
 * described through Google (its API endpoint); one that cannot be described is `unlisted`.
 */
async function claimedGkeClusters(
  gcp: GcpDriftDeps['gcp'],
  claims: readonly ClaimRecord[],
  planned: readonly GkeCluster[],
): Promise<{ clusters: GkeCluster[]; unlisted: string[] }> {
  const known = new Set(planned.map((c) => c.issuerHost));
  const issuers = [...new Set(claims.map((c) => c.clusterIssuer).filter((i): i is string => i !== undefined && !known.has(i)))].sort();
  const clusters: GkeCluster[] = [];
  const unlisted: string[] = [];
  await pMap(
    issuers,
    async (issuer) => {
      const where = parseGkeIssuer(issuer);
      if (!where) return;
      try {
        clusters.push(await gcp.describeGkeCluster(where.project, where.location, where.name));
      } catch (e) {
        unlisted.push(`GKE cluster ${where.name} of project ${where.project} (${e instanceof Error ? e.message : String(e)})`);
      }
    },
    { concurrency: 4 },
  );
  clusters.sort((a, b) => a.name.localeCompare(b.name));
  return { clusters, unlisted };
}

/**
 * The Google part of a drift check or a plan: the whole comparison for a GCP plan; for any other
 * plan only the orphans among what the cloud still claims (null when it claims nothing of Google).
 * Either way the claimed accounts' projects are listed for orphan accounts, and the GKE clusters
 * of claimed ServiceAccounts that the plan does not name for orphan ServiceAccounts
 * (`gkeClusters`: every GKE cluster looked at, by name, the plan's winning over a claimed one of the
 * same name — where the plan route and a repair reach those ServiceAccounts).
 */
export async function googleDriftFindings(
  deps: GcpDriftDeps,
  cloudId: string,
  planned: PlannedVersion,
  options: { keepAccounts?: ReadonlySet<string>; keepServiceAccounts?: ReadonlySet<string>; claims: readonly ClaimRecord[] },
): Promise<(Awaited<ReturnType<typeof gcpDriftFindings>> & { gkeClusters: ReadonlyMap<string, GkeCluster> }) | null> {
  const { claims, ...keep } = options;
  const accountClaims = claims.filter((c) => c.kind === 'gcp-service-account');
  const claimedProjects = [...new Set(accountClaims.map((c) => projectOfEmail(c.name)).filter((p): p is string => p !== null))].sort();
  const isGcp = planned.plan.provider === 'GCP';
  const gke = await claimedGkeClusters(
    deps.gcp,
    claims.filter((c) => c.kind === 'service-account'),
    isGcp ? (planned.clusters as GkeCluster[]) : [],
  );
  // A claimed cluster named like one of the plan's is reached as the plan's: the inventory, keyed by issuer, refuses a delete through the wrong one.
  const gkeClusters = new Map([...gke.clusters, ...(isGcp ? (planned.clusters as GkeCluster[]) : [])].map((c) => [c.name, c] as const));
  const claimedOrphans = async () =>
    (await gkeServiceAccountOrphans(deps, cloudId, planned.plan.configVersion, gke.clusters, new Set(), keep.keepServiceAccounts)).map(finish);
  if (isGcp) {
    const part = await gcpDriftFindings(deps, cloudId, planned, { ...keep, claimedProjects });
    return {
      ...part,
      findings: [...part.findings, ...(await claimedOrphans())],
      unlisted: [...part.unlisted, ...gke.unlisted].sort(),
      observed: { ...part.observed, clusters: part.observed.clusters + gke.clusters.length },
      gkeClusters,
    };
  }
  if (claimedProjects.length === 0 && gke.clusters.length === 0 && gke.unlisted.length === 0) return null;
  const orphans = await gcpAccountOrphans(deps, cloudId, planned.plan.configVersion, {
    projects: claimedProjects,
    named: new Set((planned.plan.gcpItems ?? []).map((i) => i.account.email.toLowerCase())),
    ...(keep.keepAccounts ? { keep: keep.keepAccounts } : {}),
  });
  return {
    findings: [...(await claimedOrphans()), ...orphans.findings],
    unlisted: [...orphans.unlisted, ...gke.unlisted].sort(),
    observed: { roles: 0, service_accounts: 0, namespaces: 0, clusters: gke.clusters.length },
    gkeClusters,
  };
}

/**
 * `gcp-account-orphan` findings: one paged list of service accounts per project, and every account
 * whose description carries this cloud's ownership marks that is neither `named` (by the compared
 * version) nor kept (a newer, unfinished version's). A project that cannot be listed is
 * `unlisted` (with the error) and the rest stands.
 */
export async function gcpAccountOrphans(
  deps: GcpDriftDeps,
  cloudId: string,
  configVersion: number,
  input: { projects: ReadonlyArray<string | null | undefined>; named: ReadonlySet<string>; keep?: ReadonlySet<string> },
): Promise<{ findings: DriftFinding[]; unlisted: string[] }> {
  const projects = [...new Set(input.projects)].filter((p): p is string => typeof p === 'string' && p !== '' && p !== '-');
  const keep = input.keep ?? new Set<string>();
  const out: Draft[] = [];
  const unlisted: string[] = [];
  await pMap(
    projects,
    async (project) => {
      let all: GoogleServiceAccount[];
      try {
        all = await deps.gcp.listServiceAccounts(project);
      } catch (e) {
        // The rest of the check stands; the report says where orphans could not be looked for.
        unlisted.push(`${project} (${e instanceof Error ? e.message : String(e)})`);
        return;
      }
      for (const account of all) {
        const email = account.email.toLowerCase();
        if (input.named.has(email) || keep.has(email)) continue;
        const marks = gcpAccountMarks(account.description);
        if (!isOwnedServiceAccount(marks, cloudId)) continue;
        const identity = marks[IDENTITY_TAG];
        out.push({
          kind: 'gcp-account-orphan',
          name: account.email,
          resource: 'gcp-service-account',
          expected: 'absent',
          actual: account.email,
          message: `Google service account ${account.email}${identity ? ` (made for ${identity})` : ''} carries this cloud's ownership marks, but config version ${configVersion} no longer names it; ${ORPHAN_DELETE_NOTE}`,
          repairable: false,
        });
      }
    },
    { concurrency: Math.max(1, deps.concurrency ?? 8) },
  );
  out.sort((a, b) => a.name.localeCompare(b.name));
  return { findings: out.map(finish), unlisted: unlisted.sort() };
}
