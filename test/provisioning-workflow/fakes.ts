/** In-memory fakes of the workflow's non-IAM ports (config store, run store, clusters, Kubernetes) for unit tests. */
import type {
  ClaimRecord,
  InventoryRecord,
  OwnershipStore,
  ResourceRef,
  ClusterIdentity,
  ClusterPort,
  ConfigStore,
  ItemResult,
  KubernetesPort,
  ProvisioningRun,
  ProvisioningRunStore,
  PutVersionInput,
  RunPatch,
  RunStatus,
  ServiceAccountInfo,
  StoredConfigVersion,
  VersionMeta,
} from '../../lib/ports.js';
import { TargetError } from '../../lib/target-errors.js';
import type { PlanItemRef } from '../../lib/provisioning/plan.js';
import { resourceKey } from '../../lib/provisioning/inventory.js';

export const ACCOUNT = '123456789012';
export const ISSUER_HOST = 'oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';
export const OIDC_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER_HOST}`;

export class FakeConfigStore implements ConfigStore {
  readonly versions = new Map<string, StoredConfigVersion[]>();

  /** Stores `document` as the next version of its cloud; returns the version number. */
  add(cloudId: string, document: Record<string, unknown>): number {
    const list = this.versions.get(cloudId) ?? [];
    const version = list.length + 1;
    list.push({
      cloudId,
      version,
      etag: `${version}-x`,
      createdAt: new Date(0).toISOString(),
      createdBy: 'test@example.com',
      contentHash: 'x',
      ruleCount: 0,
      sizeBytes: 0,
      document: structuredClone(document),
    });
    this.versions.set(cloudId, list);
    return version;
  }

  async putVersion(input: PutVersionInput): Promise<VersionMeta> {
    const version = this.add(input.cloudId, input.document);
    const { document: _d, ...meta } = this.versions.get(input.cloudId)![version - 1]!;
    return meta;
  }
  async getLatestMeta(cloudId: string): Promise<VersionMeta | null> {
    const list = this.versions.get(cloudId) ?? [];
    const last = list.at(-1);
    if (!last) return null;
    const { document: _d, ...meta } = last;
    return meta;
  }
  async getVersion(cloudId: string, version?: number): Promise<StoredConfigVersion | null> {
    const list = this.versions.get(cloudId) ?? [];
    const found = version === undefined ? list.at(-1) : list.find((v) => v.version === version);
    return found ? structuredClone(found) : null;
  }
  async listVersions(cloudId: string): Promise<VersionMeta[]> {
    return (this.versions.get(cloudId) ?? []).map(({ document: _d, ...m }) => m).reverse();
  }
  async listClouds(): Promise<string[]> {
    return [...this.versions.keys()];
  }
}

export class FakeRunStore implements ProvisioningRunStore {
  readonly runs = new Map<string, ProvisioningRun>();
  readonly fences = new Map<string, number>();

  private key = (cloudId: string, version: number) => `${cloudId}#${version}`;

  async createRun(cloudId: string, version: number, init: { executionId?: string } = {}): Promise<void> {
    const k = this.key(cloudId, version);
    if (this.runs.has(k)) return;
    const at = new Date().toISOString();
    this.runs.set(k, { cloudId, configVersion: version, status: 'PENDING', createdAt: at, updatedAt: at, ...init, items: [] });
  }
  async updateRun(cloudId: string, version: number, patch: RunPatch, options: { onlyFrom?: RunStatus[] } = {}): Promise<boolean> {
    const run = this.runs.get(this.key(cloudId, version));
    if (!run) return false;
    if (options.onlyFrom && !options.onlyFrom.includes(run.status)) return false;
    Object.assign(run, patch, { updatedAt: new Date().toISOString() });
    return true;
  }
  async putItemResult(cloudId: string, version: number, result: ItemResult): Promise<void> {
    const run = this.runs.get(this.key(cloudId, version));
    if (!run) throw new Error(`no run ${cloudId} v${version}`);
    run.items = [...run.items.filter((i) => i.name !== result.name), structuredClone(result)];
  }
  async getRun(cloudId: string, version: number): Promise<ProvisioningRun | null> {
    const run = this.runs.get(this.key(cloudId, version));
    return run ? structuredClone(run) : null;
  }
  async claim(cloudId: string, version: number): Promise<boolean> {
    const current = this.fences.get(cloudId);
    if (current !== undefined && current > version) return false;
    this.fences.set(cloudId, version);
    return true;
  }
  async claimedVersion(cloudId: string): Promise<number | null> {
    return this.fences.get(cloudId) ?? null;
  }
  readonly planPages = new Map<string, PlanItemRef[]>();
  async putPlanPage(cloudId: string, version: number, planId: string, page: number, refs: PlanItemRef[]): Promise<void> {
    this.planPages.set(`${cloudId}#${version}#${planId}#${page}`, structuredClone(refs));
  }
  async getPlanPage(cloudId: string, version: number, planId: string, page: number): Promise<PlanItemRef[] | null> {
    const refs = this.planPages.get(`${cloudId}#${version}#${planId}#${page}`);
    return refs ? structuredClone(refs) : null;
  }
}

export class FakeClusters implements ClusterPort {
  describeCalls = 0;
  async describeCluster(name: string): Promise<ClusterIdentity> {
    this.describeCalls += 1;
    return { name, issuerHost: ISSUER_HOST, oidcProviderArn: OIDC_ARN, accountId: ACCOUNT };
  }
  async accountId(): Promise<string> {
    return ACCOUNT;
  }
}

/** Kubernetes ServiceAccounts and Namespaces in memory; counts writes; resourceVersion conflicts → ConflictError. */
export class FakeKubernetes implements KubernetesPort {
  readonly namespaces = new Set<string>(['default', 'anyscale-operator']);
  readonly accounts = new Map<string, ServiceAccountInfo>();
  writes = 0;
  private rv = 1;

  private k = (ns: string, name: string) => `${ns}/${name}`;

  put(sa: Omit<ServiceAccountInfo, 'resourceVersion'>): ServiceAccountInfo {
    const uid = sa.uid ?? this.accounts.get(this.k(sa.namespace, sa.name))?.uid ?? `uid-${sa.namespace}-${sa.name}-${this.rv}`;
    const stored = { ...structuredClone(sa), uid, resourceVersion: String(++this.rv) };
    this.accounts.set(this.k(sa.namespace, sa.name), stored);
    return structuredClone(stored);
  }
  async getServiceAccount(namespace: string, name: string): Promise<ServiceAccountInfo | null> {
    const sa = this.accounts.get(this.k(namespace, name));
    return sa ? structuredClone(sa) : null;
  }
  async listServiceAccounts(namespace: string): Promise<ServiceAccountInfo[]> {
    return [...this.accounts.values()].filter((s) => s.namespace === namespace).map((s) => structuredClone(s));
  }
  async createServiceAccount(input: {
    namespace: string;
    name: string;
    annotations: Record<string, string>;
    labels: Record<string, string>;
  }): Promise<ServiceAccountInfo> {
    if (!this.namespaces.has(input.namespace)) throw new TargetError('InvalidInputError', `namespace ${input.namespace} not found`);
    if (this.accounts.has(this.k(input.namespace, input.name))) throw new TargetError('AlreadyExistsError', 'exists');
    this.writes += 1;
    this.accounts.delete(this.k(input.namespace, input.name));
    return this.put(input);
  }
  async patchServiceAccountMetadata(input: {
    namespace: string;
    name: string;
    resourceVersion: string;
    annotations?: Record<string, string | null>;
    labels?: Record<string, string | null>;
  }): Promise<ServiceAccountInfo> {
    const sa = this.accounts.get(this.k(input.namespace, input.name));
    if (!sa || sa.resourceVersion !== input.resourceVersion) throw new TargetError('ConflictError', 'conflict');
    this.writes += 1;
    const merge = (base: Record<string, string>, patch: Record<string, string | null> | undefined) => {
      const out = { ...base };
      for (const [k, v] of Object.entries(patch ?? {})) {
        if (v === null) delete out[k];
        else out[k] = v;
      }
      return out;
    };
    return this.put({ namespace: sa.namespace, name: sa.name, annotations: merge(sa.annotations, input.annotations), labels: merge(sa.labels, input.labels) });
  }
  async deleteServiceAccount(namespace: string, name: string): Promise<void> {
    this.writes += 1;
    this.accounts.delete(this.k(namespace, name));
  }
  async namespaceExists(namespace: string): Promise<boolean> {
    return this.namespaces.has(namespace);
  }
}

/** The ownership inventory and claims in memory, with the DynamoDB adapter's conditions. */
export class FakeOwnershipStore implements OwnershipStore {
  readonly inventory = new Map<string, InventoryRecord>();
  readonly claims = new Map<string, ClaimRecord>();

  async getInventory(ref: ResourceRef): Promise<InventoryRecord | null> {
    const r = this.inventory.get(resourceKey(ref));
    return r ? structuredClone(r) : null;
  }
  async putInventory(record: InventoryRecord, options: { staleId?: string | null } = {}): Promise<{ stored: boolean; current: InventoryRecord | null }> {
    const key = resourceKey(record);
    const prior = this.inventory.get(key);
    if (prior && prior.cloudId !== record.cloudId && !(options.staleId != null && prior.id === options.staleId))
      return { stored: false, current: structuredClone(prior) };
    this.inventory.set(key, structuredClone(record));
    return { stored: true, current: record };
  }
  async deleteInventory(ref: ResourceRef, cloudId: string): Promise<void> {
    const key = resourceKey(ref);
    if (this.inventory.get(key)?.cloudId === cloudId) this.inventory.delete(key);
  }
  async claim(claim: ClaimRecord): Promise<ClaimRecord> {
    const key = resourceKey(claim);
    const prior = this.claims.get(key);
    if (prior && prior.cloudId !== claim.cloudId) return structuredClone(prior);
    this.claims.set(key, structuredClone(claim));
    return claim;
  }
  async getClaim(ref: ResourceRef): Promise<ClaimRecord | null> {
    return this.claims.get(resourceKey(ref)) ?? null;
  }
  async listClaims(cloudId: string): Promise<ClaimRecord[]> {
    return [...this.claims.values()].filter((c) => c.cloudId === cloudId).map((c) => structuredClone(c));
  }
  async releaseClaim(ref: ResourceRef, cloudId: string): Promise<void> {
    const key = resourceKey(ref);
    if (this.claims.get(key)?.cloudId === cloudId) this.claims.delete(key);
  }
}
