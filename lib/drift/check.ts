/**
 * One drift check of a cloud: find the desired state (the plan of the newest config version whose
 * provisioning SUCCEEDED), read what the targets hold — cheaply — compare (diff.ts), optionally
 * repair, and store the report.
 *
 * Reads per check: IAM in bulk — GetAccountAuthorizationDetails (Filter=Role, pages of 1,000 roles
 * with tags, trust, inline documents, attached policies and instance profiles), filtered here to the
 * role path, this cloud's ownership tags and the planned names — plus one ListOpenIDConnectProviders
 * (each cluster's provider must exist), and GetInstanceProfile only for a planned profile no role
 * holds. Kubernetes: one paginated list of ServiceAccounts per (cluster, namespace) of the plan and
 * one cluster-wide list per cluster of this cloud's labelled ones elsewhere (orphans of any stack:
 * for a VM or GCP plan, the clusters the settings name). Nothing is read twice, nothing per role.
 *
 * Repair (mode `repair`, or `{repair: true}`): one partial workflow run (`only`) over the items
 * with repairable findings — the workflow itself never touches what lacks our ownership marks —
 * and, with `delete_orphans: true`, deletion of owned orphans (re-checked right before).
 */
import { runOutlived } from '../workflow/run-ended.js';
import { AppError } from '../errors.js';
import type {
  ClusterIdentity,
  ClusterPort,
  ConfigStore,
  ClaimRecord,
  DriftFinding,
  DriftRepair,
  DriftReport,
  DriftReportStore,
  GkeCluster,
  IamPort,
  InstanceProfileInfo,
  KubernetesPort,
  OwnershipStore,
  PodIdentityPort,
  ProvisioningRun,
  ProvisioningRunStore,
  RoleDetail,
  WorkflowStarter,
} from '../ports.js';
import { isOwnedRole, isOwnedServiceAccount } from '../provisioning/ownership.js';
import { parseProvisioningSettings, type DriftMode, type ResolvedSettings, type SettingsDefaults } from '../provisioning/settings.js';
import { parseStoredConfig } from '../stored.js';
import { PlanCache, type PlannedVersion } from '../workflow/planning.js';
import { associationRef, gcpAccountRef, refusal, roleRef, serviceAccountRef } from '../provisioning/inventory.js';
import { forgetOwned, judgeAssociation, judgeRole, judgeServiceAccount } from '../workflow/ownership-checks.js';
import { compareFindings, diffState, ORPHAN_DELETE_NOTE, orphanDeleteNote, saKey, summarise } from './diff.js';
import { observe, type Observation } from './observe.js';
import { checkPassRole, passRoleFindings, passRoleInputOf } from '../provisioning/pass-role.js';
import { podIdentityFindings } from './pod-identity.js';
import { claimedGoogleIdentities, googleDriftFindings, type GcpDriftDeps } from './gcp.js';
import { gcpAccountMarks } from '../provisioning/gcp-plan.js';
import { judgeGcpAccount, removeOwnBucketGrants } from '../workflow/gcp-steps.js';
import { GKE_SA_ANNOTATION } from '../provisioning/gcp-settings.js';

export interface DriftDeps {
  configs: ConfigStore;
  runs: ProvisioningRunStore;
  reports: DriftReportStore;
  /** The ownership inventory: an orphan is deleted only when it agrees (lib/provisioning/inventory.ts). */
  ownership?: OwnershipStore;
  workflow: WorkflowStarter;
  iam: IamPort;
  clusters: ClusterPort;
  kubernetes(cluster: ClusterIdentity): KubernetesPort;
  /** EKS Pod Identity (plans with pod-identity items); absent where no target offers it. */
  podIdentity?: PodIdentityPort;
  defaults: SettingsDefaults;
  /** Shared plan cache (else one per deps object). */
  plans?: PlanCache;
  now?: () => Date;
  /** Parallel per-role / per-namespace reads (each up to 2 calls in flight). Default 8. */
  concurrency?: number;
  /** Google Cloud IAM and Storage (GCP clouds; lib/drift/gcp.ts). */
  gcp?: GcpDriftDeps['gcp'];
}

export interface DriftCheckOptions {
  /** true: repair even in mode `report`; false: never; undefined: as the config's drift mode says. */
  repair?: boolean;
  /** Store the report (default true). */
  store?: boolean;
  trigger?: 'api' | 'schedule';
  /**
   * Lets another party withdraw the check (the on-demand check hands one that outlasts its
   * deadline to another worker, a stopping server withdraws its background checks). The check
   * stops at its next phase boundary, or just before its first write, once `withdrawn` is set,
   * with nothing written (it throws DriftCheckWithdrawn); it sets `writing` when it passes that
   * point, after which it can no longer be withdrawn.
   */
  control?: DriftCheckControl;
}

/** See DriftCheckOptions.control. */
export interface DriftCheckControl {
  withdrawn: boolean;
  writing: boolean;
}

/** A check withdrawn before its first write (DriftCheckOptions.control). */
export class DriftCheckWithdrawn extends Error {
  override readonly name = 'DriftCheckWithdrawn';
  constructor(cloudId: string) {
    super(`the drift check of ${cloudId} was withdrawn before writing anything (handed to another worker, or its worker is stopping)`);
  }
}

/** How many older versions to look through for one whose run SUCCEEDED. */
const VERSION_LOOKBACK = 50;

const planCaches = new WeakMap<DriftDeps, PlanCache>();
function plansOf(deps: DriftDeps): PlanCache {
  if (deps.plans) return deps.plans;
  let cache = planCaches.get(deps);
  if (!cache) planCaches.set(deps, (cache = new PlanCache(deps.configs, deps.clusters, deps.defaults, undefined, deps.gcp)));
  return cache;
}

/** Still provisioning — but a RUNNING run older than the execution timeout cannot be, and is not waited on. */
const inProgress = (run: ProvisioningRun | null, now: Date) => run === null || run.status === 'PENDING' || (run.status === 'RUNNING' && !runOutlived(run, now));

/** The drift mode a cloud's latest config asks for (default `report`); null when it has no config. */
export async function driftSettingsOf(
  deps: Pick<DriftDeps, 'configs' | 'defaults'>,
  cloudId: string,
  version?: number,
): Promise<ResolvedSettings['drift'] | null> {
  const stored = await deps.configs.getVersion(cloudId, version);
  if (!stored) return null;
  try {
    return parseProvisioningSettings(parseStoredConfig(stored).provisioning, deps.defaults).drift;
  } catch {
    return { mode: 'report', deleteOrphans: false };
  }
}

export async function runDriftCheck(deps: DriftDeps, cloudId: string, options: DriftCheckOptions = {}): Promise<DriftReport> {
  const now = deps.now ?? (() => new Date());
  const started = Date.now();
  const checkedAt = now().toISOString();
  const limit = Math.max(1, deps.concurrency ?? 8);
  const plans = plansOf(deps);

  const latest = await deps.configs.getLatestMeta(cloudId);
  if (!latest) throw new AppError('NOT_FOUND', `cloud ${cloudId} has no IAM mapping config`);
  const latestRun = await deps.runs.getRun(cloudId, latest.version);
  if (inProgress(latestRun, now())) {
    throw new AppError(
      'CONFLICT',
      `provisioning of config version ${latest.version} is ${latestRun?.status ?? 'not started'}; a drift check compares against finished provisioning — try again when it is done`,
      [{ path: 'provisioning.status', message: latestRun?.status ?? 'PENDING' }],
    );
  }

  // The desired state: the newest version whose run SUCCEEDED.
  let desiredRun: ProvisioningRun | null = latestRun?.status === 'SUCCEEDED' ? latestRun : null;
  if (!desiredRun) {
    const older = await deps.configs.listVersions(cloudId, { limit: VERSION_LOOKBACK, beforeVersion: latest.version });
    for (const meta of older) {
      const run = await deps.runs.getRun(cloudId, meta.version);
      if (run?.status === 'SUCCEEDED') {
        desiredRun = run;
        break;
      }
    }
  }

  const latestDrift = (await driftSettingsOf(deps, cloudId, latest.version)) ?? { mode: 'report' as DriftMode, deleteOrphans: false };
  const base = {
    cloud_deployment_id: cloudId,
    checked_at: checkedAt,
    latest_version: latest.version,
    mode: latestDrift.mode,
    trigger: options.trigger ?? 'api',
  } as const;

  const control = options.control ?? { withdrawn: false, writing: false };
  /** A phase boundary: a withdrawn check reads no further. */
  const stillWanted = () => {
    if (control.withdrawn && !control.writing) throw new DriftCheckWithdrawn(cloudId);
  };
  const beforeFirstWrite = () => {
    stillWanted();
    control.writing = true;
  };
  const finishReport = async (report: DriftReport): Promise<DriftReport> => {
    report.duration_ms = Date.now() - started;
    if (options.store !== false) {
      beforeFirstWrite();
      await deps.reports.putReport(cloudId, report);
    }
    return report;
  };
  const nothing = (reason: string, version: number | null): Promise<DriftReport> =>
    finishReport({
      ...base,
      status: 'nothing-to-compare',
      drifted: false,
      config_version: version,
      reason,
      findings: [],
      summary: summarise([]),
      observed: { roles: 0, service_accounts: 0, namespaces: 0, clusters: 0 },
      duration_ms: 0,
    });

  if (!desiredRun) {
    return nothing(
      `no config version of ${cloudId} has been provisioned successfully yet (latest: version ${latest.version}, ${latestRun?.status ?? 'no run'})`,
      null,
    );
  }
  const desiredVersion = desiredRun.configVersion;
  stillWanted();
  const planned: PlannedVersion = await plans.get(cloudId, desiredVersion);
  // Items of a newer, unfinished version are not orphans.
  let keep:
    { roles: Set<string>; serviceAccounts: Set<string>; instanceProfiles: Set<string>; gcpAccounts: Set<string>; gkeServiceAccounts: Set<string> } | undefined;
  let caveat: string | undefined;
  if (desiredVersion !== latest.version) {
    caveat = `compared against config version ${desiredVersion}, the newest whose provisioning SUCCEEDED; version ${latest.version} is ${latestRun?.status}`;
    keep = { roles: new Set(), serviceAccounts: new Set(), instanceProfiles: new Set(), gcpAccounts: new Set(), gkeServiceAccounts: new Set() };
    try {
      const newer = await plans.get(cloudId, latest.version);
      for (const item of newer.plan.gcpItems ?? []) {
        keep.gcpAccounts.add(item.account.email.toLowerCase());
        if (item.kind !== 'gcp-gke' || newer.plan.provider !== 'GCP') continue;
        for (const c of newer.clusters)
          for (const ns of item.serviceAccount.namespaces) keep.gkeServiceAccounts.add(saKey(c.name, ns, item.serviceAccount.name));
      }
      for (const item of newer.plan.items) {
        keep.roles.add(item.role.name.toLowerCase());
        if (item.kind === 'instance-profile') keep.instanceProfiles.add(item.instanceProfile.name.toLowerCase());
        if (item.kind === 'k8s-irsa') {
          for (const c of newer.clusters)
            for (const ns of item.serviceAccount.namespaces) keep.serviceAccounts.add(saKey(c.name, ns, item.serviceAccount.name));
        }
      }
    } catch {
      // The newer version does not plan (that is why it failed): it created nothing to keep.
    }
  }

  // GCP: nothing of AWS is wanted, but AWS identities this cloud made under an earlier provider are
  // still its own — reported as orphans when there are any (and when AWS can be read at all).
  // With Google Cloud targets, its identities are compared too (lib/drift/gcp.ts), and AWS is only looked at for those orphans.
  // Google identities this cloud still claims are looked for too, whatever the provider now — its
  // accounts in their projects, its ServiceAccounts in their GKE clusters: after a move to AWS no
  // plan names those (lib/drift/gcp.ts, googleDriftFindings).
  const gcpClaims = deps.gcp && deps.ownership ? await claimedGoogleIdentities(deps.ownership, cloudId) : [];
  const gcpPart = deps.gcp
    ? await googleDriftFindings({ ...deps, gcp: deps.gcp }, cloudId, planned, {
        ...(keep ? { keepAccounts: keep.gcpAccounts, keepServiceAccounts: keep.gkeServiceAccounts } : {}),
        claims: gcpClaims,
      })
    : null;
  const gcpReason = planned.plan.provider === 'GCP' && !gcpPart ? (planned.plan.reason ?? 'nothing is provisioned for this cloud') : undefined;
  const isGcp = planned.plan.provider === 'GCP';

  // ---- observe (lib/drift/observe.ts): bulk IAM reads, one LIST per (cluster, namespace), this cloud's labelled ServiceAccounts elsewhere.
  // A GCP plan's clusters are GKE's (lib/drift/gcp.ts compares them); AWS looks only for orphans, in the EKS clusters of the settings.
  const { plan } = planned;
  const clusters = isGcp ? [] : planned.clusters;
  let observed: Observation;
  stillWanted();
  try {
    observed = await observe(
      deps,
      cloudId,
      { ...planned, clusters },
      {
        concurrency: limit,
        tolerateUnreachableClusters: isGcp,
        ...(isGcp ? { notOrphansAnnotated: GKE_SA_ANNOTATION } : {}),
      },
    );
  } catch (e) {
    if (gcpReason) return nothing(gcpReason, desiredVersion);
    if (!isGcp || !gcpPart) throw e;
    // AWS unreachable from a GCP cloud's check: no AWS orphans to report.
    observed = {
      detailByName: new Map(),
      roles: new Map(),
      listedRoles: [],
      serviceAccounts: new Map(),
      instanceProfiles: new Map(),
      listedInstanceProfiles: [],
      oidcProviderArns: [],
      namespaces: [],
      orphanClusters: [],
    };
  }
  const {
    detailByName,
    roles: observedRoles,
    listedRoles: listed,
    serviceAccounts,
    instanceProfiles,
    listedInstanceProfiles: listedProfiles,
    oidcProviderArns: providers,
    namespaces,
    orphanClusters,
  } = observed;

  const leftAlone = new Set<string>();
  for (const item of desiredRun.items) {
    for (const r of item.resources) {
      if (r.kind === 'service-account' && r.action === 'left-alone' && r.cluster && r.namespace) leftAlone.add(saKey(r.cluster, r.namespace, r.name));
    }
  }

  const findings = diffState(
    {
      cloudId,
      plan,
      clusters: clusters.map((c) => ({ name: c.name, issuerHost: c.issuerHost, oidcProviderArn: c.oidcProviderArn })),
      leftAlone,
      ...(deps.defaults.permissionsBoundaryArn !== undefined ? { permissionsBoundaryArn: deps.defaults.permissionsBoundaryArn } : {}),
      ...(keep ? { keep } : {}),
    },
    {
      roles: observedRoles,
      listedRoles: listed,
      serviceAccounts,
      instanceProfiles,
      listedInstanceProfiles: listedProfiles,
      oidcProviderArns: new Set(providers),
    },
  );

  // AWS VM: may the control plane pass each instance-profile role to EC2 (SimulatePrincipalPolicy, batched)?
  const passRole = passRoleInputOf(plan, planned.settings);
  if (passRole) {
    findings.push(...passRoleFindings(await checkPassRole(deps.iam, passRole)));
    findings.sort(compareFindings);
  }
  // EKS Pod Identity: associations and the agent add-on (lib/drift/pod-identity.ts).
  stillWanted();
  const podIdentity = await podIdentityFindings({
    port: deps.podIdentity,
    ...(deps.ownership ? { ownership: deps.ownership } : {}),
    cloudId,
    plan,
    clusters,
    concurrency: limit,
  });
  if (podIdentity.findings.length > 0) {
    findings.push(...podIdentity.findings);
    findings.sort(compareFindings);
  }

  if (gcpReason && findings.length === 0) return nothing(gcpReason, desiredVersion);
  if (gcpReason) caveat = [`${gcpReason}; AWS identities this cloud made under an earlier provider are left over`, caveat].filter(Boolean).join('; ');
  else if (isGcp && gcpPart && findings.length > 0)
    caveat = ['GCP cloud: AWS identities this cloud made under an earlier provider are left over', caveat].filter(Boolean).join('; ');
  if (gcpPart?.unlisted.length) {
    caveat = [caveat, `the Google service accounts of ${gcpPart.unlisted.join('; ')} could not be listed: orphans there are not reported`]
      .filter(Boolean)
      .join('; ');
  }
  if (gcpPart) findings.push(...gcpPart.findings);
  // An orphan's message says what this cloud's settings do with it.
  const deleteNote = orphanDeleteNote(latestDrift);
  if (deleteNote !== ORPHAN_DELETE_NOTE)
    for (const f of findings) if (f.message.endsWith(ORPHAN_DELETE_NOTE)) f.message = f.message.slice(0, -ORPHAN_DELETE_NOTE.length) + deleteNote;
  const report: DriftReport = {
    ...base,
    status: findings.length > 0 ? 'drifted' : 'clean',
    drifted: findings.length > 0,
    config_version: desiredVersion,
    ...(caveat ? { reason: caveat } : {}),
    findings,
    summary: summarise(findings),
    observed: {
      roles: listed.length + (gcpPart?.observed.roles ?? 0),
      service_accounts: [...serviceAccounts.values()].reduce((n, l) => n + l.length, 0) + (gcpPart?.observed.service_accounts ?? 0),
      namespaces: namespaces.length + (gcpPart?.observed.namespaces ?? 0),
      clusters: clusters.length + (gcpPart?.observed.clusters ?? 0),
    },
    duration_ms: 0,
  };

  // ---- repair
  const repairWanted = options.repair ?? latestDrift.mode === 'repair';
  if (repairWanted && findings.length > 0) {
    beforeFirstWrite();
    report.repair = await repair(deps, cloudId, {
      desiredVersion,
      latestVersion: latest.version,
      deleteOrphans: latestDrift.deleteOrphans,
      findings,
      clusters: new Map([...orphanClusters, ...clusters].map((c) => [c.name, c] as const)),
      details: detailByName,
      gcpBuckets: await orphanAccountBuckets(plans, cloudId, findings, isGcp ? planned.settings.defaultBucket : null, gcpClaims),
      gkeClusters: gcpPart?.gkeClusters ?? new Map(),
    });
  }
  return finishReport(report);
}

async function repair(
  deps: DriftDeps,
  cloudId: string,
  input: {
    desiredVersion: number;
    latestVersion: number;
    deleteOrphans: boolean;
    findings: DriftFinding[];
    /** The clusters the check listed ServiceAccounts in, by name. */
    clusters: ReadonlyMap<string, ClusterIdentity>;
    /** What the check read, by lower-case role name (instance profiles of orphan roles). */
    details: ReadonlyMap<string, RoleDetail>;
    /** A GCP cloud's default bucket: an orphan Google account's grants there are removed with it. */
    gcpBuckets: ReadonlyMap<string, readonly string[]>;
    /** GKE clusters by name — a GCP plan's and those of claimed ServiceAccounts (their orphans are reached through Google). */
    gkeClusters: ReadonlyMap<string, GkeCluster>;
  },
): Promise<DriftRepair> {
  const result: DriftRepair = { items: [], deleted: [], errors: [], skipped: 0 };
  // Instance profiles before roles: a role held by a profile cannot be deleted.
  const orphanOrder = { 'orphan-instance-profile': 0, 'orphan-role': 1, 'orphan-service-account': 2, 'gcp-account-orphan': 3 } as Record<string, number>;
  const orphans = input.findings.filter((f) => orphanOrder[f.kind] !== undefined).sort((a, b) => (orphanOrder[a.kind] ?? 0) - (orphanOrder[b.kind] ?? 0));
  result.skipped = input.findings.filter((f) => !f.repairable && !(input.deleteOrphans && orphans.includes(f))).length;
  if (input.desiredVersion !== input.latestVersion) {
    result.errors.push(
      `not repaired: config version ${input.latestVersion} did not provision successfully, and repairs re-apply the latest version only; ` +
        `nothing re-runs a stored version (storing the same document again is unchanged and starts no run): fix what its run's errors name (GET …/iam-mapping/provisioning) and store a corrected config as a new version`,
    );
    result.skipped = input.findings.length;
    return result;
  }
  const items = [...new Set(input.findings.filter((f) => f.repairable && f.item !== undefined).map((f) => f.item as string))].sort();
  if (items.length > 0) {
    result.items = items;
    try {
      const { executionId } = await deps.workflow.start({ cloudId, version: input.desiredVersion, only: items });
      result.execution_id = executionId;
    } catch (e) {
      result.errors.push(`the provisioning workflow could not be started: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (input.deleteOrphans && orphans.length > 0) {
    // A config stored meanwhile may name these again: delete nothing then.
    const current = await deps.configs.getLatestMeta(cloudId);
    if (current?.version !== input.latestVersion) {
      result.errors.push(`orphans not deleted: config version ${current?.version} was stored during the check`);
      return result;
    }
    for (const f of orphans) {
      try {
        const done =
          f.kind === 'orphan-role'
            ? await deleteOrphanRole(deps, cloudId, f.name, input.details.get(f.name.toLowerCase())?.instanceProfiles ?? [])
            : f.kind === 'orphan-instance-profile'
              ? await deleteOrphanInstanceProfile(deps.iam, cloudId, f.name)
              : f.kind === 'gcp-account-orphan'
                ? await deleteOrphanGcpAccount(deps, cloudId, f.name, input.gcpBuckets.get(f.name.toLowerCase()) ?? [])
                : await deleteOrphanServiceAccount(deps, cloudId, f, input.clusters, input.gkeClusters, result.deleted);
        if (done === true) result.deleted.push(`${f.resource} ${f.cluster && f.kind === 'orphan-service-account' ? `${f.cluster}:` : ''}${f.name}`);
        else if (done) result.errors.push(done);
      } catch (e) {
        result.errors.push(`${f.resource} ${f.name} not deleted: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  return result;
}

/** Deletes an orphan role that still carries our marks: out of our instance profiles, inline policies, managed attachments, the role. */
async function deleteOrphanRole(deps: DriftDeps, cloudId: string, name: string, profiles: readonly InstanceProfileInfo[]): Promise<true | string | null> {
  const iam = deps.iam;
  const role = await iam.getRole(name);
  if (!role) return null;
  if (!isOwnedRole(role.tags, cloudId)) return `iam-role ${name} not deleted: it no longer carries the ownership tags`;
  // Marks are not enough (tags can be copied onto a hand-made role): the inventory must agree.
  if (deps.ownership) {
    const { verdict } = await judgeRole(deps.ownership, role, cloudId);
    if (verdict.kind !== 'ours') return `iam-role ${name} not deleted: ${refusal(roleRef(name), verdict, name, 'adopt_role')}`;
  }
  const foreign = profiles.filter((p) => !isOwnedRole(p.tags, cloudId));
  if (foreign.length > 0) return `iam-role ${name} not deleted: instance profile ${foreign.map((p) => p.name).join(', ')} (not ours) holds it`;
  for (const profile of profiles) await iam.removeRoleFromInstanceProfile(profile.name, name);
  for (const policy of await iam.listInlinePolicies(name)) await iam.deleteInlinePolicy(name, policy);
  for (const arn of await iam.listAttachedPolicies(name)) await iam.detachPolicy(name, arn);
  await iam.deleteRole(name);
  if (deps.ownership) await forgetOwned(deps.ownership, roleRef(name), cloudId);
  return true;
}

/** Deletes an orphan instance profile that still carries our marks (its role is taken out first; the role itself is an orphan finding of its own). */
async function deleteOrphanInstanceProfile(iam: IamPort, cloudId: string, name: string): Promise<true | string | null> {
  const profile = await iam.getInstanceProfile(name);
  if (!profile) return null;
  if (!isOwnedRole(profile.tags, cloudId)) return `instance-profile ${name} not deleted: it no longer carries the ownership tags`;
  for (const roleName of profile.roleNames) await iam.removeRoleFromInstanceProfile(name, roleName);
  await iam.deleteInstanceProfile(name);
  return true;
}

async function deleteOrphanServiceAccount(
  deps: DriftDeps,
  cloudId: string,
  f: DriftFinding,
  clusters: ReadonlyMap<string, ClusterIdentity>,
  gkeClusters: ReadonlyMap<string, GkeCluster>,
  deleted: string[],
): Promise<true | string | null> {
  // A GCP cloud's orphans are in its GKE clusters (reached through Google); otherwise in EKS clusters.
  const gke = f.cluster === undefined ? undefined : gkeClusters.get(f.cluster);
  const cluster = gke ?? (f.cluster === undefined ? undefined : clusters.get(f.cluster));
  if (!cluster || !f.namespace) return `service-account ${f.name} not deleted: cluster ${f.cluster} is not configured`;
  let k8s: KubernetesPort;
  if (!gke) k8s = deps.kubernetes(cluster);
  else if (deps.gcp) k8s = deps.gcp.kubernetes(gke);
  else return `service-account ${f.name} not deleted: this deployment has no Google Cloud targets configured`;
  const saName = f.name.slice(f.namespace.length + 1);
  const sa = await k8s.getServiceAccount(f.namespace, saName);
  if (!sa) return null;
  if (!isOwnedServiceAccount(sa.labels, cloudId)) return `service-account ${f.name} not deleted: it no longer carries the ownership labels`;
  const ref = serviceAccountRef(cluster, f.namespace, saName);
  if (deps.ownership) {
    const { verdict } = await judgeServiceAccount(deps.ownership, ref, sa, cloudId);
    if (verdict.kind !== 'ours') return `service-account ${f.name} not deleted: ${refusal(ref, verdict, saName, 'adopt_service_account')}`;
  }
  await k8s.deleteServiceAccount(f.namespace, saName);
  if (deps.ownership) await forgetOwned(deps.ownership, ref, cloudId);
  if (!gke && (await deleteOrphanAssociation(deps, cloudId, cluster, f.namespace, saName))) deleted.push(`pod-identity-association ${cluster.name}:${f.name}`);
  return true;
}

/**
 * The pod identity association of a deleted orphan ServiceAccount goes with it when it is ours
 * (tags and inventory): left, it would bind whatever role of that name exists next.
 */
async function deleteOrphanAssociation(deps: DriftDeps, cloudId: string, cluster: ClusterIdentity, namespace: string, sa: string): Promise<boolean> {
  const port = deps.podIdentity;
  if (!port) return false;
  const [summary] = await port.listAssociations(cluster, { namespace, serviceAccount: sa });
  const current = summary ? await port.describeAssociation(cluster, summary.associationId) : null;
  if (!current) return false;
  const ref = associationRef(cluster, namespace, sa);
  if ((await judgeAssociation(deps.ownership, ref, current, cloudId)).verdict.kind !== 'ours') return false;
  await port.deleteAssociation(cluster, current.associationId);
  await deps.ownership?.deleteInventory(ref, cloudId);
  return true;
}

/**
 * Deletes an orphan Google service account that still carries this cloud's marks and that the
 * inventory agrees is ours: first the default bucket's grants the service recorded adding for it
 * (Google would keep them as `deleted:serviceAccount:…` members), then the account.
 */
async function deleteOrphanGcpAccount(deps: DriftDeps, cloudId: string, email: string, buckets: readonly string[]): Promise<true | string | null> {
  const gcp = deps.gcp;
  if (!gcp) return `gcp-service-account ${email} not deleted: this deployment has no Google Cloud targets configured`;
  const account = await gcp.getServiceAccount('-', email);
  if (!account) return null;
  if (!isOwnedServiceAccount(gcpAccountMarks(account.description), cloudId)) {
    return `gcp-service-account ${email} not deleted: its description no longer carries the ownership marks`;
  }
  const ref = gcpAccountRef(email);
  if (deps.ownership) {
    const verdict = judgeGcpAccount(account, await deps.ownership.getInventory(ref), cloudId);
    if (verdict.kind !== 'ours') return `gcp-service-account ${email} not deleted: ${refusal(ref, verdict, email, 'adopt_account')}`;
    for (const bucket of buckets) await removeOwnBucketGrants(gcp, deps.ownership, { bucket, member: `serviceAccount:${account.email}`, cloudId });
  }
  await gcp.deleteServiceAccount(account.projectId || '-', account.email);
  if (deps.ownership) await forgetOwned(deps.ownership, ref, cloudId);
  return true;
}

/**
 * The default buckets whose grants an orphan Google account may hold, by lower-case e-mail: the
 * compared version's (a GCP plan) and that of the version that claimed the account (after a move
 * to AWS, or a change of bucket, the only place its grants are named). Only grants the inventory
 * records the service adding are ever removed (removeOwnBucketGrants), so looking at both is safe.
 */
async function orphanAccountBuckets(
  plans: PlanCache,
  cloudId: string,
  findings: readonly DriftFinding[],
  current: string | null,
  claimed: readonly ClaimRecord[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const orphans = findings.filter((f) => f.kind === 'gcp-account-orphan');
  if (orphans.length === 0) return out;
  const claims = new Map(claimed.map((c) => [c.name.toLowerCase(), c] as const));
  const bucketOf = new Map<number, Promise<string | null>>();
  for (const f of orphans) {
    const email = f.name.toLowerCase();
    const buckets = current ? [current] : [];
    const claim = claims.get(email);
    if (claim) {
      let pending = bucketOf.get(claim.configVersion);
      if (!pending) {
        pending = plans.get(cloudId, claim.configVersion).then(
          (p) => (p.plan.provider === 'GCP' ? p.settings.defaultBucket : null),
          () => null, // that version no longer plans: its bucket is unknown, the grants stay (Google shows them as deleted members)
        );
        bucketOf.set(claim.configVersion, pending);
      }
      const bucket = await pending;
      if (bucket && !buckets.includes(bucket)) buckets.push(bucket);
    }
    out.set(email, buckets);
  }
  return out;
}
