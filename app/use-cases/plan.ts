/**
 * Plan before apply: a draft config is parsed, validated and linted exactly as PUT does it, planned
 * as provisioning would plan it, and compared with what IAM and Kubernetes hold now (read only:
 * the bulk reads of a drift check, the inventory and claims in DynamoDB). Nothing is stored and no
 * run starts. The answer lists what provisioning would create, change or delete (lib/drift/changes.ts),
 * what it would leave alone (and why), and which sample launches would change identity
 * (lib/resolution/samples.ts): the current version's answer (or a pinned cluster's kept one)
 * against the draft's.
 */
import type { MappingConfig } from '../../lib/config/schema.js';
import { checkStackChange, type Stack } from '../../lib/config/stack-change.js';
import pMap from 'p-map';
import { planChanges, refusedEntry, type LeftAlone } from '../../lib/drift/changes.js';
import { gcpChangesOf } from '../../lib/drift/gcp-changes.js';
import { claimedGoogleIdentities, googleDriftFindings } from '../../lib/drift/gcp.js';
import { GKE_SA_ANNOTATION } from '../../lib/provisioning/gcp-settings.js';
import { serviceAccountRef } from '../../lib/provisioning/inventory.js';
import { judgeServiceAccount } from '../../lib/workflow/ownership-checks.js';
import { gcpAccountRefusal, readGcpAccountVerdict } from '../../lib/workflow/gcp-steps.js';
import { planTimeRefusal, type RefusalLookups } from '../../lib/workflow/claims.js';
import { PromiseCache } from '../../lib/promise-cache.js';
import { observe, type Observation } from '../../lib/drift/observe.js';
import { AppError, DependencyUnavailableError } from '../../lib/errors.js';
import type { ClusterIdentity, GkeCluster, ServiceAccountInfo } from '../../lib/ports.js';
import { parseProvisioningSettings } from '../../lib/provisioning/settings.js';
import { compileConfig } from '../../lib/resolution/compile.js';
import { changedLaunches, sampleSources, type ChangedLaunch } from '../../lib/resolution/samples.js';
import { parseSelector } from '../../lib/selector/index.js';
import { parseStoredConfig } from '../../lib/stored.js';
import { TargetError } from '../../lib/target-errors.js';
import { planOf, type PlannedVersion } from '../../lib/workflow/planning.js';
import type { App } from '../app.js';
import { parseAndValidate, pinnedWarnings, type PutConfigInput } from './config.js';

/** At most this many changed launches are listed (`launches_truncated` counts the rest). */
export const MAX_LISTED_LAUNCHES = 200;

export interface PlanDraftInput {
  cloudId: string;
  body: PutConfigInput['body'];
}

type PlanApp = Pick<App, 'config' | 'stores' | 'targets' | 'driftDeps'>;

/** A target failure in words: retryable → 503, anything else → 500 naming it. */
function targetFailure(cloudId: string, e: unknown): never {
  if (e instanceof TargetError) {
    if (e.retryable) throw new DependencyUnavailableError('a provisioning target (IAM, EKS or Kubernetes)', e, 5);
    throw new AppError('INTERNAL', `plan of ${cloudId} failed reading the targets: ${e.name}: ${e.message}`);
  }
  throw e;
}

/** The draft planned as a provisioning run of it would plan it (lib/workflow/planning.ts), clusters described read-only. */
async function planDraftConfig(app: PlanApp, cloudId: string, config: MappingConfig, version: number): Promise<PlannedVersion> {
  const settings = parseProvisioningSettings(config.provisioning, app.config.defaults);
  const isAws = config.cloud_provider === 'AWS';
  const { clusters: port } = app.targets;
  let clusters: ClusterIdentity[] = [];
  if (isAws && config.compute_stack === 'K8S') {
    clusters = await Promise.all(
      settings.clusters.map((c, i) =>
        port.describeCluster(c.name, c.region ?? undefined).catch((e: unknown) => {
          if (e instanceof TargetError && e.name === 'InvalidInputError') {
            const path = config.provisioning?.clusters ? `provisioning.clusters[${i}]` : 'provisioning.clusters';
            throw new AppError('INVALID_CONFIG', `provisioning would fail: ${e.message}`, [{ path, message: e.message }]);
          }
          return targetFailure(cloudId, e);
        }),
      ),
    );
  }
  // GKE: the clusters whose ServiceAccounts get the Google identity, described as provisioning describes them.
  const gcp = app.driftDeps.gcp;
  if (!isAws && config.compute_stack === 'K8S' && gcp && settings.gcp?.project) {
    const project = settings.gcp.project;
    clusters = await Promise.all(
      (settings.gcp.clusters ?? []).map((c) => gcp.describeGkeCluster(project, c.location, c.name).catch((e: unknown) => targetFailure(cloudId, e))),
    );
  }
  const accountId = isAws ? await port.accountId().catch((e: unknown) => targetFailure(cloudId, e)) : '000000000000';
  let plan;
  try {
    plan = planOf(cloudId, version, config, settings, clusters, accountId);
  } catch (e) {
    // Valid but not provisionable (a trust policy over its quota, ...): the run would fail at plan time.
    if (e instanceof AppError && e.code === 'INVALID_CONFIG')
      throw new AppError('INVALID_CONFIG', `provisioning would fail at plan time: ${e.message}`, e.details);
    throw e;
  }
  return { config, settings, plan, clusters };
}

/**
 * The Google Cloud items a run of the draft refuses before any write, as the run judges them: the
 * Plan step's planTimeRefusal (claims, another cloud's or an unmarked ServiceAccount), then
 * GcpEnsureAccount's gcpAccountRefusal (another cloud's account, ...). Read only.
 */
async function gcpRefusals(app: PlanApp, cloudId: string, planned: PlannedVersion): Promise<Map<string, LeftAlone>> {
  const gcp = app.driftDeps.gcp;
  const out = new Map<string, LeftAlone>();
  if (!gcp) return out;
  const ownership = app.stores.ownership;
  const listed = new PromiseCache<string, ServiceAccountInfo[]>();
  const lookups: RefusalLookups = {
    claimHolder: async (ref) => {
      const claim = await ownership.getClaim(ref);
      return claim && claim.cloudId !== cloudId ? claim : null;
    },
    serviceAccount: async (cluster, namespace, name) =>
      (await listed.get(`${cluster.issuerHost}#${namespace}`, () => gcp.kubernetes(cluster as GkeCluster).listServiceAccounts(namespace))).find(
        (sa) => sa.name === name,
      ),
    inventory: (ref) => ownership.getInventory(ref),
  };
  await pMap(
    planned.plan.gcpItems ?? [],
    async (item) => {
      const name = item.kind === 'gcp-gke' ? item.serviceAccount.name : item.account.email;
      const refused = await planTimeRefusal(cloudId, name, item, planned.clusters, lookups);
      if (refused) {
        out.set(name, refusedEntry(name, refused));
        return;
      }
      const found = await readGcpAccountVerdict(gcp, ownership, item.account.project, item.account.email, cloudId);
      const message = found ? gcpAccountRefusal(item, found.verdict, name) : null;
      if (message)
        out.set(name, {
          kind: 'gcp-service-account',
          name: item.account.email,
          item: name,
          reason: `${message}. Provisioning fails item ${name}, before any write`,
        });
    },
    { concurrency: app.config.driftConcurrency ?? 8 },
  );
  return out;
}

export async function planDraft(app: PlanApp, input: PlanDraftInput) {
  const { cloudId } = input;
  const { body, result } = await parseAndValidate(app, cloudId, input.body);
  const draft = result.config;
  const current = await app.stores.configs.getVersion(cloudId);
  const draftVersion = (current?.version ?? 0) + 1;

  // The warnings a PUT of the draft would answer with (the stack change as if confirmed).
  const stackChange = checkStackChange(cloudId, current ? (current.document as unknown as Stack) : null, draft, true);
  const notes = body.notes.map((message) => ({ code: 'UNINDENTED_YAML' as const, path: '', message }));
  const warnings = [...(stackChange ? [stackChange] : []), ...notes, ...result.warnings, ...(await pinnedWarnings(app, cloudId, draft, draftVersion))];

  const planned = await planDraftConfig(app, cloudId, draft, draftVersion);
  const isGcp = planned.plan.provider === 'GCP';
  const gcpItems = planned.plan.gcpItems ?? [];
  // Only a GCP draft that provisions nothing carries a reason (e.g. no Google Cloud targets configured).
  const gcpReason = isGcp && (gcpItems.length === 0 || !app.driftDeps.gcp) ? (planned.plan.reason ?? 'nothing is provisioned for this cloud') : undefined;
  const concurrency = app.config.driftConcurrency ?? 8;
  const targets = app.targets;
  // A GCP plan's clusters are GKE's (compared by lib/drift/gcp.ts); AWS is read only for this cloud's leftovers.
  const awsPlanned = isGcp ? { ...planned, clusters: [] } : planned;
  let observation: Observation | null = null;
  try {
    observation = await observe(targets, cloudId, awsPlanned, {
      concurrency,
      tolerateUnreachableClusters: isGcp,
      ...(isGcp ? { notOrphansAnnotated: GKE_SA_ANNOTATION } : {}),
    });
  } catch (e) {
    // A GCP draft wants nothing of AWS; when AWS cannot be read there are no leftovers to list either.
    if (!isGcp) targetFailure(cloudId, e);
  }
  const aws = observation
    ? await planChanges(
        {
          kubernetes: (cluster) => targets.kubernetes(cluster),
          ...(targets.podIdentity ? { podIdentity: targets.podIdentity } : {}),
          ownership: app.stores.ownership,
          ...(app.config.defaults.permissionsBoundaryArn !== undefined ? { permissionsBoundaryArn: app.config.defaults.permissionsBoundaryArn } : {}),
          concurrency: Math.max(32, concurrency),
        },
        cloudId,
        awsPlanned,
        observation,
      ).catch((e: unknown) => targetFailure(cloudId, e))
    : { changes: [], left_alone: [] };
  // Google Cloud: the draft's GCP drift against what Google and GKE hold now, as creates and updates (read only).
  // Google identities the cloud still claims are looked for too — accounts in their projects,
  // ServiceAccounts in their GKE clusters: after a move to AWS they are the old stack's, deletes
  // like any other orphan (lib/drift/gcp.ts, googleDriftFindings).
  const gcp = app.driftDeps.gcp;
  const gcpPart =
    gcp && (!isGcp || gcpItems.length > 0)
      ? await googleDriftFindings({ gcp, ownership: app.stores.ownership, concurrency }, cloudId, planned, {
          claims: await claimedGoogleIdentities(app.stores.ownership, cloudId),
        }).catch((e: unknown) => targetFailure(cloudId, e))
      : null;
  const google =
    gcp && gcpPart
      ? await gcpChangesOf(
          gcpItems,
          gcpPart.findings,
          {
            drift: planned.settings.drift,
            isOurs: async (f) => {
              if (f.kind === 'gcp-account-orphan')
                return (await readGcpAccountVerdict(gcp, app.stores.ownership, '-', f.name, cloudId))?.verdict.kind === 'ours';
              const cluster = f.cluster === undefined ? undefined : gcpPart.gkeClusters.get(f.cluster);
              if (!cluster || !f.namespace) return false;
              const name = f.name.slice(f.namespace.length + 1);
              const sa = await gcp.kubernetes(cluster).getServiceAccount(f.namespace, name);
              if (!sa) return false;
              const { verdict } = await judgeServiceAccount(app.stores.ownership, serviceAccountRef(cluster, f.namespace, name), sa, cloudId);
              return verdict.kind === 'ours';
            },
          },
          await gcpRefusals(app, cloudId, planned).catch((e: unknown) => targetFailure(cloudId, e)),
        )
      : { changes: [], left_alone: [] };
  const changes = [...google.changes, ...aws.changes];
  const left_alone = [...google.left_alone, ...aws.left_alone];

  // Sample launches: one per rule of either version, and each pinned cluster's.
  const draftCompiled = compileConfig(draft, { version: draftVersion, etag: 'draft' }, result.selectors);
  let currentCompiled = null;
  let currentSelectors: ReturnType<typeof parseSelector>[] = [];
  if (current) {
    const stored = parseStoredConfig(current);
    currentSelectors = stored.dataplane_iam_mapping.rules.map((r) => parseSelector(r.selector));
    currentCompiled = compileConfig(stored, { version: current.version, etag: current.etag }, currentSelectors);
  }
  const pins = (await app.stores.sticky.listSticky(cloudId)).map(({ clusterId, resolution: r }) => ({
    clusterId,
    launch: { workload_type: r.workload_type, project: r.project, user: r.user },
    outcome: { value: r.value, source: r.source, rule_index: r.rule_index },
  }));
  const sources = sampleSources(
    { selectors: result.selectors },
    current ? { version: current.version, selectors: currentSelectors } : null,
    pins.sort((a, b) => (a.clusterId < b.clusterId ? -1 : a.clusterId > b.clusterId ? 1 : 0)),
  );
  const changed: ChangedLaunch[] = changedLaunches(sources, currentCompiled, draftCompiled);

  const count = (action: string) => changes.filter((c) => c.action === action).length;
  return {
    cloud_deployment_id: cloudId,
    current_version: current?.version ?? null,
    changes,
    left_alone,
    summary: { create: count('create'), update: count('update'), delete: count('delete'), left_alone: left_alone.length },
    launches: changed.slice(0, MAX_LISTED_LAUNCHES),
    launches_checked: current ? sources.length : 0,
    ...(changed.length > MAX_LISTED_LAUNCHES ? { launches_truncated: changed.length - MAX_LISTED_LAUNCHES } : {}),
    ...(gcpReason ? { reason: observation ? gcpReason : `${gcpReason}; AWS could not be read, so no leftovers of an earlier provider are listed` } : {}),
    ...(isGcp && !gcpReason && !observation ? { reason: 'AWS could not be read, so no leftovers of an earlier provider are listed' } : {}),
    warnings,
  };
}
