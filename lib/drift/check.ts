/**
 * One drift check of a cloud: find the desired state (the plan of the newest config version whose
 * provisioning SUCCEEDED), read what the targets hold — cheaply — compare (diff.ts), optionally
 * repair, and store the report.
 *
 * Reads per check: IAM ListRoles once under the role path (the adapter adds one ListRoleTags per
 * listed role: ListRoles returns no tags), and per planned role ListRolePolicies +
 * ListAttachedRolePolicies + GetRolePolicy (only when the planned policy exists), read by name in
 * parallel with the listing; GetRole only for a planned role the listing lacks (missing, or
 * adopted from another path). Kubernetes: one paginated list of ServiceAccounts per (cluster,
 * namespace). Nothing is read twice, nothing per namespace per item.
 *
 * Repair (mode `repair`, or `{repair: true}`): one partial workflow run (`only`) over the items
 * with repairable findings — the workflow itself never touches what lacks our ownership marks —
 * and, with `delete_orphans: true`, deletion of owned orphans (re-checked right before).
 */
import { AppError } from '../errors.js';
import type {
  ClusterIdentity,
  ClusterPort,
  ConfigStore,
  DriftFinding,
  DriftRepair,
  DriftReport,
  DriftReportStore,
  IamPort,
  InstanceProfileInfo,
  KubernetesPort,
  OwnershipStore,
  ProvisioningRun,
  ProvisioningRunStore,
  RoleInfo,
  ServiceAccountInfo,
  WorkflowStarter,
} from '../ports.js';
import type { MappingConfig } from '../config/schema.js';
import { isOwnedRole, isOwnedServiceAccount } from '../provisioning/ownership.js';
import { resolveSettings, type DriftMode, type ResolvedSettings, type SettingsDefaults } from '../provisioning/settings.js';
import { PlanCache, type PlannedVersion } from '../workflow/planning.js';
import { refusal, roleRef, serviceAccountRef } from '../provisioning/inventory.js';
import { forgetOwned, judgeRole, judgeServiceAccount } from '../workflow/ownership-checks.js';
import { diffState, itemName, nsKey, saKey, summarise, type ObservedRole } from './diff.js';

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
  defaults: SettingsDefaults;
  /** Shared plan cache (else one per deps object). */
  plans?: PlanCache;
  now?: () => Date;
  /** Parallel per-role / per-namespace reads (each up to 2 calls in flight). Default 8. */
  concurrency?: number;
}

export interface DriftCheckOptions {
  /** true: repair even in mode `report`; false: never; undefined: as the config's drift mode says. */
  repair?: boolean;
  /** Store the report (default true). */
  store?: boolean;
  trigger?: 'api' | 'schedule';
}

/** How many older versions to look through for one whose run SUCCEEDED. */
const VERSION_LOOKBACK = 50;

const planCaches = new WeakMap<DriftDeps, PlanCache>();
function plansOf(deps: DriftDeps): PlanCache {
  if (deps.plans) return deps.plans;
  let cache = planCaches.get(deps);
  if (!cache) planCaches.set(deps, (cache = new PlanCache(deps.configs, deps.clusters, deps.defaults)));
  return cache;
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}

const inProgress = (run: ProvisioningRun | null) => run === null || run.status === 'PENDING' || run.status === 'RUNNING';

/** The drift mode a cloud's latest config asks for (default `report`); null when it has no config. */
export async function driftSettingsOf(deps: Pick<DriftDeps, 'configs' | 'defaults'>, cloudId: string, version?: number): Promise<ResolvedSettings['drift'] | null> {
  const stored = await deps.configs.getVersion(cloudId, version);
  if (!stored) return null;
  try {
    return resolveSettings((stored.document as unknown as MappingConfig).provisioning as never, deps.defaults).drift;
  } catch {
    return { mode: 'report', deleteOrphans: false };
  }
}

export async function runDriftCheck(deps: DriftDeps, cloudId: string, options: DriftCheckOptions = {}): Promise<DriftReport> {
  const now = deps.now ?? (() => new Date());
  const started = Date.now();
  const checkedAt = now().toISOString();
  const limit = deps.concurrency ?? 8;
  const plans = plansOf(deps);

  const latest = await deps.configs.getLatestMeta(cloudId);
  if (!latest) throw new AppError('NOT_FOUND', `cloud ${cloudId} has no IAM mapping config`);
  const latestRun = await deps.runs.getRun(cloudId, latest.version);
  if (inProgress(latestRun)) {
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

  const finishReport = async (report: DriftReport): Promise<DriftReport> => {
    report.duration_ms = Date.now() - started;
    if (options.store !== false) await deps.reports.putReport(cloudId, report);
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
    return nothing(`no config version of ${cloudId} has been provisioned successfully yet (latest: version ${latest.version}, ${latestRun?.status ?? 'no run'})`, null);
  }
  const desiredVersion = desiredRun.configVersion;
  const planned: PlannedVersion = await plans.get(cloudId, desiredVersion);
  if (planned.plan.provider === 'GCP') return nothing(planned.plan.reason ?? 'nothing is provisioned for this cloud', desiredVersion);

  // Items of a newer, unfinished version are not orphans.
  let keep: { roles: Set<string>; serviceAccounts: Set<string> } | undefined;
  let caveat: string | undefined;
  if (desiredVersion !== latest.version) {
    caveat = `compared against config version ${desiredVersion}, the newest whose provisioning SUCCEEDED; version ${latest.version} is ${latestRun?.status}`;
    keep = { roles: new Set(), serviceAccounts: new Set() };
    try {
      const newer = await plans.get(cloudId, latest.version);
      for (const item of newer.plan.items) {
        keep.roles.add(item.role.name.toLowerCase());
        if (item.kind === 'k8s-irsa') {
          for (const c of newer.clusters) for (const ns of item.serviceAccount.namespaces) keep.serviceAccounts.add(saKey(c.name, ns, item.serviceAccount.name));
        }
      }
    } catch {
      // The newer version does not plan (that is why it failed): it created nothing to keep.
    }
  }

  // ---- observe. The role listing (ListRoles + a ListRoleTags per role) and the per-role policy
  // reads go in parallel: a planned role's policies are read by name, whether or not it is listed.
  const { plan, settings, clusters } = planned;
  const listing = deps.iam.listRoles(settings.rolePath);
  listing.catch(() => undefined);
  const policyReads = mapLimit(plan.items, limit, async (item) => {
    try {
      const [inlineNames, attached] = await Promise.all([deps.iam.listInlinePolicies(item.role.name), deps.iam.listAttachedPolicies(item.role.name)]);
      const wanted = item.role.permissionPolicy.name.toLowerCase();
      const actualName = inlineNames.find((n) => n.toLowerCase() === wanted);
      const inlinePolicy = actualName !== undefined ? await deps.iam.getInlinePolicy(item.role.name, actualName) : null;
      return { inlineNames, attached, inlinePolicy };
    } catch (e) {
      if ((e as { name?: unknown }).name === 'NotFoundError') return null; // the role is missing
      throw e;
    }
  });
  const [listed, policies] = await Promise.all([listing, policyReads]);
  const byName = new Map(listed.map((r) => [r.name.toLowerCase(), r] as const));
  const extraRoles: RoleInfo[] = [];
  const observedRoles = new Map<string, ObservedRole | null>();
  await mapLimit(plan.items, limit, async (item, i) => {
    const name = item.role.name;
    let info = byName.get(name.toLowerCase()) ?? null;
    if (!info) {
      // Not under the role path: missing, or adopted from another path.
      info = await deps.iam.getRole(name);
      if (info) extraRoles.push(info);
    }
    const read = policies[i];
    if (!info || !read) {
      observedRoles.set(name, null);
      return;
    }
    observedRoles.set(name, { info, inlinePolicyNames: read.inlineNames, inlinePolicy: read.inlinePolicy, attachedPolicyArns: read.attached });
  });

  const namespaces = [...new Set(plan.items.flatMap((i) => (i.kind === 'k8s-irsa' ? i.serviceAccount.namespaces : [])))];
  const pairs = clusters.flatMap((cluster) => namespaces.map((namespace) => ({ cluster, namespace })));
  const serviceAccounts = new Map<string, ServiceAccountInfo[]>();
  await mapLimit(pairs, limit, async ({ cluster, namespace }) => {
    serviceAccounts.set(nsKey(cluster.name, namespace), await deps.kubernetes(cluster).listServiceAccounts(namespace));
  });

  const instanceProfiles = new Map<string, InstanceProfileInfo | null>();
  const vmItems = plan.items.filter((i) => i.kind === 'instance-profile');
  await mapLimit(vmItems, limit, async (item) => {
    instanceProfiles.set(itemName(item), await deps.iam.getInstanceProfile(itemName(item)));
  });

  const leftAlone = new Set<string>();
  for (const item of desiredRun.items) {
    for (const r of item.resources) {
      if (r.kind === 'service-account' && r.action === 'left-alone' && r.cluster && r.namespace) leftAlone.add(saKey(r.cluster, r.namespace, r.name));
    }
  }

  const findings = diffState(
    { cloudId, plan, clusters: clusters.map((c) => ({ name: c.name, issuerHost: c.issuerHost, oidcProviderArn: c.oidcProviderArn })), leftAlone, ...(keep ? { keep } : {}) },
    { roles: observedRoles, listedRoles: listed, serviceAccounts, instanceProfiles },
  );

  const report: DriftReport = {
    ...base,
    status: findings.length > 0 ? 'drifted' : 'clean',
    drifted: findings.length > 0,
    config_version: desiredVersion,
    ...(caveat ? { reason: caveat } : {}),
    findings,
    summary: summarise(findings),
    observed: {
      roles: listed.length + extraRoles.length,
      service_accounts: [...serviceAccounts.values()].reduce((n, l) => n + l.length, 0),
      namespaces: namespaces.length,
      clusters: clusters.length,
    },
    duration_ms: 0,
  };

  // ---- repair
  const repairWanted = options.repair ?? latestDrift.mode === 'repair';
  if (repairWanted && findings.length > 0) {
    report.repair = await repair(deps, cloudId, { desiredVersion, latestVersion: latest.version, deleteOrphans: latestDrift.deleteOrphans, findings });
  }
  return finishReport(report);
}

async function repair(
  deps: DriftDeps,
  cloudId: string,
  input: { desiredVersion: number; latestVersion: number; deleteOrphans: boolean; findings: DriftFinding[] },
): Promise<DriftRepair> {
  const result: DriftRepair = { items: [], deleted: [], errors: [], skipped: 0 };
  const orphans = input.findings.filter((f) => f.kind === 'orphan-role' || f.kind === 'orphan-service-account');
  result.skipped = input.findings.filter((f) => !f.repairable && !(input.deleteOrphans && orphans.includes(f))).length;
  if (input.desiredVersion !== input.latestVersion) {
    result.errors.push(
      `not repaired: config version ${input.latestVersion} did not provision successfully, and repairs re-apply the latest version only — fix it (or store the config again)`,
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
        const done = f.kind === 'orphan-role' ? await deleteOrphanRole(deps, cloudId, f.name) : await deleteOrphanServiceAccount(deps, cloudId, f);
        if (done === true) result.deleted.push(`${f.resource} ${f.cluster && f.kind === 'orphan-service-account' ? `${f.cluster}:` : ''}${f.name}`);
        else if (done) result.errors.push(done);
      } catch (e) {
        result.errors.push(`${f.resource} ${f.name} not deleted: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  return result;
}

/** Deletes an orphan role that still carries our marks: inline policies, managed attachments, the role. */
async function deleteOrphanRole(deps: DriftDeps, cloudId: string, name: string): Promise<true | string | null> {
  const iam = deps.iam;
  const role = await iam.getRole(name);
  if (!role) return null;
  if (!isOwnedRole(role.tags, cloudId)) return `iam-role ${name} not deleted: it no longer carries the ownership tags`;
  // Marks are not enough (tags can be copied onto a hand-made role): the inventory must agree.
  if (deps.ownership) {
    const { verdict } = await judgeRole(deps.ownership, role, cloudId);
    if (verdict.kind !== 'ours') return `iam-role ${name} not deleted: ${refusal(roleRef(name), verdict, name, 'adopt_role')}`;
  }
  for (const policy of await iam.listInlinePolicies(name)) await iam.deleteInlinePolicy(name, policy);
  for (const arn of await iam.listAttachedPolicies(name)) await iam.detachPolicy(name, arn);
  await iam.deleteRole(name);
  if (deps.ownership) await forgetOwned(deps.ownership, roleRef(name), cloudId);
  return true;
}

async function deleteOrphanServiceAccount(deps: DriftDeps, cloudId: string, f: DriftFinding): Promise<true | string | null> {
  const planned = await plansOf(deps).get(cloudId, (await deps.configs.getLatestMeta(cloudId))?.version ?? 0);
  const cluster = planned.clusters.find((c) => c.name === f.cluster);
  if (!cluster || !f.namespace) return `service-account ${f.name} not deleted: cluster ${f.cluster} is not configured`;
  const k8s = deps.kubernetes(cluster);
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
  return true;
}
