/**
 * The plan of a config version, as every step of a run sees it: rebuilt from the stored
 * (immutable) version and the clusters' OIDC identities, cached per process by version, and
 * checked against the item digest the plan step handed out — so a Map iteration never acts on
 * an item that changed since planning, and nothing large travels through Step Functions state.
 */
import type { MappingConfig } from '../config/schema.js';
import { AppError } from '../errors.js';
import type { ClusterIdentity, ClusterPort, ConfigStore, GcpPort } from '../ports.js';
import { PromiseCache } from '../promise-cache.js';
import { nextTurn } from '../steps.js';
import { parseStoredConfig, type StoredMappingConfig } from '../stored.js';
import { buildPlan, type ProvisioningPlan } from '../provisioning/plan.js';
import { parseProvisioningSettings, type ResolvedSettings, type SettingsDefaults } from '../provisioning/settings.js';

export interface PlannedVersion {
  config: StoredMappingConfig;
  settings: ResolvedSettings;
  plan: ProvisioningPlan;
  clusters: ClusterIdentity[];
}

/** Rule values and the default value, distinct, in first-appearance order. */
export function valuesOf(config: Pick<StoredMappingConfig, 'dataplane_iam_mapping'>): string[] {
  const values = config.dataplane_iam_mapping.rules.map((r) => r.value);
  if (config.dataplane_iam_mapping.default_value) values.push(config.dataplane_iam_mapping.default_value);
  return [...new Set(values)];
}

export class PlanCache {
  private readonly entries: PromiseCache<string, PlannedVersion>;

  constructor(
    private readonly configs: ConfigStore,
    private readonly clusters: ClusterPort,
    private readonly defaults: SettingsDefaults,
    capacity = 16,
    /** GKE clusters of GCP clouds are described here (their ServiceAccounts' identity). */
    private readonly gcp?: Pick<GcpPort, 'describeGkeCluster'>,
  ) {
    this.entries = new PromiseCache(capacity);
  }

  get(cloudId: string, version: number): Promise<PlannedVersion> {
    return this.entries.get(`${cloudId}#${version}`, () => this.build(cloudId, version));
  }

  private async build(cloudId: string, version: number): Promise<PlannedVersion> {
    const stored = await this.configs.getVersion(cloudId, version);
    if (!stored) throw new AppError('NOT_FOUND', `cloud ${cloudId} has no config version ${version}`);
    const config = parseStoredConfig(stored);
    const settings = parseProvisioningSettings(config.provisioning, this.defaults);
    const isAws = config.cloud_provider === 'AWS';
    const gke = !isAws && config.compute_stack === 'K8S' && this.gcp && settings.gcp?.project ? { gcp: this.gcp, project: settings.gcp.project } : null;
    const clusters: ClusterIdentity[] =
      isAws && config.compute_stack === 'K8S'
        ? await Promise.all(settings.clusters.map((c) => this.clusters.describeCluster(c.name, c.region ?? undefined)))
        : gke
          ? await Promise.all((settings.gcp?.clusters ?? []).map((c) => gke.gcp.describeGkeCluster(gke.project, c.location, c.name)))
          : [];
    const accountId = isAws ? await this.clusters.accountId() : '000000000000';
    await nextTurn(); // the stored document's parse and the plan (each tens of ms for 25,000 rules) in separate turns
    return { config, settings, plan: planOf(cloudId, version, config, settings, clusters, accountId), clusters };
  }
}

/** The plan of one config version, given its settings, described clusters and account (as the run and the plan route build it). */
export function planOf(
  cloudId: string,
  version: number,
  config: MappingConfig,
  settings: ResolvedSettings,
  clusters: readonly ClusterIdentity[],
  accountId: string,
): ProvisioningPlan {
  return buildPlan({
    cloudId,
    configVersion: version,
    provider: config.cloud_provider,
    computeStack: config.compute_stack,
    values: valuesOf(config),
    settings,
    clusters: clusters.map((c) => ({ name: c.name, oidcProviderArn: c.oidcProviderArn, issuerHost: c.issuerHost, ...(c.arn ? { arn: c.arn } : {}) })),
    accountId,
  });
}
