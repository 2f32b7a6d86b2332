/**
 * Ports: the small interfaces the domain core needs from the outside world. Each outside system
 * has exactly one adapter per environment (real AWS, or the local sandbox), chosen by
 * configuration in one composition root — never by `if` in domain logic.
 */
import type { PlanItemRef } from './provisioning/plan.js';

import type { DriftKind } from './drift/kinds.js';
import type { PolicyDocument, PolicyStatement } from './provisioning/policies.js';

/** Metadata of one immutable mapping-config version (the audit record of a change). */
export interface VersionMeta {
  cloudId: string;
  version: number;
  /** Opaque entity tag, unique per version: `<version>-<content hash prefix>`. */
  etag: string;
  /** ISO-8601 timestamp of the commit. */
  createdAt: string;
  /** Subject (e-mail) of the caller who stored it. */
  createdBy: string;
  /** Cloud scope of the caller's token (`['*']` = every cloud); absent on versions stored before scopes existed. */
  createdScope?: string[];
  /** sha256 hex of the canonical JSON of the stored document. */
  contentHash: string;
  ruleCount: number;
  /** Size in bytes of the canonical JSON document. */
  sizeBytes: number;
}

/**
 * A stored version with its document (the config exactly as accepted, without `version`); the
 * core reads the document through `parseStoredConfig` (lib/stored.ts).
 */
export interface StoredConfigVersion extends VersionMeta {
  document: Record<string, unknown>;
}

/** A parsed `If-Match`: any existing version, or one of these etags (parsed at the HTTP edge). */
export type IfMatch = { kind: 'any' } | { kind: 'etags'; etags: readonly string[] };

export interface PutVersionInput {
  cloudId: string;
  document: Record<string, unknown>;
  createdBy: string;
  /** Cloud scope of the caller's token, kept in the audit record. */
  createdScope?: string[];
  /** When set, the write succeeds only if the latest version's etag is one of these, or any version exists for `any` (else PRECONDITION_FAILED). */
  ifMatch?: IfMatch;
  ruleCount: number;
  now?: Date;
}

/** What putVersion did: the committed version, or (`unchanged`) the latest one when the document equals it by content hash. */
export type PutVersionResult = VersionMeta & { unchanged?: boolean };

export interface ConfigStore {
  /**
   * Commits a new version N+1 atomically (single-item conditional write). Throws AppError PRECONDITION_FAILED on a stale If-Match.
   * A document whose canonical content hash equals the latest version's stores nothing: that version, `unchanged: true`.
   */
  putVersion(input: PutVersionInput): Promise<PutVersionResult>;
  /** Latest committed version's metadata (strongly consistent), or null. */
  getLatestMeta(cloudId: string): Promise<VersionMeta | null>;
  /** One version with its document (latest when `version` is omitted), or null. */
  getVersion(cloudId: string, version?: number): Promise<StoredConfigVersion | null>;
  /** Version history, newest first. */
  listVersions(cloudId: string, options?: { limit?: number; beforeVersion?: number }): Promise<VersionMeta[]>;
  /** Every cloud that has at least one config version. */
  listClouds(): Promise<string[]>;
}

/** The answer kept for a cluster on its first resolution (sticky per cluster_id). */
export interface StickyResolution {
  value: string | null;
  source: 'RULE' | 'CLOUD_DEFAULT';
  rule_index: number | null;
  config_version: number;
  resolved_at: string;
  workload_type: string;
  project: string;
  user: string;
}

export interface StickyStore {
  getSticky(cloudId: string, clusterId: string): Promise<StickyResolution | null>;
  /** Stores `resolution` unless one exists; returns whichever is stored (first writer wins). */
  putStickyIfAbsent(cloudId: string, clusterId: string, resolution: StickyResolution): Promise<StickyResolution>;
  /** Every cluster of a cloud with a kept answer, by cluster id. */
  listSticky(cloudId: string): Promise<Array<{ clusterId: string; resolution: StickyResolution }>>;
  /** Forgets a cluster's kept answer; false when there was none. */
  deleteSticky(cloudId: string, clusterId: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Provisioning targets. Adapters translate the outside system's errors into the TargetErrors of
// lib/target-errors.ts (TARGET_ERRORS: each name and whether the state machine retries it), so
// the workflow retries what is transient and reports what is not. A read of something missing
// answers null (or []), not an error; a write naming something missing is NotFoundError.
// ---------------------------------------------------------------------------------------------

/**
 * A policy document as IAM returns it: any JSON object an operator may have written (compare it
 * with lib/policy-compare.ts). What the service writes is a PolicyDocument (lib/provisioning/policies.ts).
 */
export type ObservedPolicy = object;

export interface RoleInfo {
  name: string;
  arn: string;
  path: string;
  /** Decoded trust policy. */
  trustPolicy: ObservedPolicy;
  tags: Record<string, string>;
  createdAt?: string;
  /** ARN of the role's permissions boundary (GetRole shows it; list calls do not). */
  permissionsBoundaryArn?: string;
  /** IAM's RoleId (`AROA…`): unique per role ever created, so a re-created role has another. */
  id?: string;
}

export interface InstanceProfileInfo {
  name: string;
  arn: string;
  roleNames: string[];
  tags: Record<string, string>;
  /** IAM's InstanceProfileId (`AIPA…`). */
  id?: string;
}

/** One role as IAM's bulk read (GetAccountAuthorizationDetails) returns it: everything drift compares. */
export interface RoleDetail {
  /** With its tags and decoded trust policy. */
  role: RoleInfo;
  /** Inline policies: name → decoded document. */
  inlinePolicies: Record<string, ObservedPolicy>;
  attachedPolicyArns: string[];
  /** The instance profiles holding this role (with their tags). */
  instanceProfiles: InstanceProfileInfo[];
}

export interface IamPort {
  getRole(name: string): Promise<RoleInfo | null>;
  /**
   * Every role of the account with its inline policies, attached managed policies, tags, trust policy
   * and instance profiles — IAM's bulk read (GetAccountAuthorizationDetails, Filter=Role, pages of up
   * to 1,000 roles). Callers filter (path, ownership tags) themselves: the API has no path filter.
   */
  listRoleDetails(): Promise<RoleDetail[]>;
  /** ARNs of the account's IAM OIDC identity providers (one call). */
  listOpenIdConnectProviders(): Promise<string[]>;
  /** Roles under a path prefix (paginated internally), with their tags. */
  listRoles(pathPrefix: string): Promise<RoleInfo[]>;
  /** `permissionsBoundaryArn`: the deployment's boundary (the deployed role may create roles only with it). */
  createRole(input: CreateRoleInput): Promise<RoleInfo>;
  /** Sets the role's permissions boundary (puts a removed one back). */
  putRolePermissionsBoundary(roleName: string, boundaryArn: string): Promise<void>;
  updateTrustPolicy(roleName: string, trustPolicy: PolicyDocument): Promise<void>;
  tagRole(roleName: string, tags: Record<string, string>): Promise<void>;
  deleteRole(roleName: string): Promise<void>;
  listInlinePolicies(roleName: string): Promise<string[]>;
  getInlinePolicy(roleName: string, policyName: string): Promise<ObservedPolicy | null>;
  putInlinePolicy(roleName: string, policyName: string, document: PolicyDocument): Promise<void>;
  deleteInlinePolicy(roleName: string, policyName: string): Promise<void>;
  listAttachedPolicies(roleName: string): Promise<string[]>;
  attachPolicy(roleName: string, policyArn: string): Promise<void>;
  detachPolicy(roleName: string, policyArn: string): Promise<void>;
  getInstanceProfile(name: string): Promise<InstanceProfileInfo | null>;
  createInstanceProfile(input: { name: string; path: string; tags: Record<string, string> }): Promise<InstanceProfileInfo>;
  addRoleToInstanceProfile(profileName: string, roleName: string): Promise<void>;
  removeRoleFromInstanceProfile(profileName: string, roleName: string): Promise<void>;
  /** Deletes an instance profile (it must hold no role); a missing one is not an error. */
  deleteInstanceProfile(name: string): Promise<void>;
  /**
   * IAM's policy simulator over a principal's own policies (SimulatePrincipalPolicy): one result per
   * action × resource, ResourceArns sent in batches and every page read. Optional: an adapter
   * without it cannot answer, and callers report the check as not done.
   */
  simulatePrincipalPolicy?(input: PolicySimulationInput): Promise<PolicySimulationResult[]>;
}

/** A CreateRole request (IamPort.createRole). */
export interface CreateRoleInput {
  name: string;
  path: string;
  trustPolicy: PolicyDocument;
  tags: Record<string, string>;
  description?: string;
  permissionsBoundaryArn?: string;
}

/** A SimulatePrincipalPolicy request: the principal (a role ARN), actions, resources and context keys. */
export interface PolicySimulationInput {
  policySourceArn: string;
  actionNames: string[];
  resourceArns: string[];
  contextEntries?: Array<{ key: string; type: 'string' | 'stringList'; values: string[] }>;
}

export type PolicyEvalDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';

/** One EvaluationResult of the simulator. */
export interface PolicySimulationResult {
  action: string;
  resource: string;
  decision: PolicyEvalDecision;
  /** The statements that decided it (the Allow ones, or the Deny ones), by policy. */
  matchedStatements: Array<{ sourcePolicyId: string; sourcePolicyType: string }>;
  /** False when the principal's permissions boundary does not allow it (absent when it has none). */
  allowedByPermissionsBoundary?: boolean;
}

export interface ClusterIdentity {
  name: string;
  /** Issuer URL without `https://`, e.g. `oidc.eks.us-east-1.amazonaws.com/id/ABC…`. */
  issuerHost: string;
  /** `arn:aws:iam::<account>:oidc-provider/<issuerHost>`. */
  oidcProviderArn: string;
  accountId: string;
  /** The cluster's ARN and region (DescribeCluster), when known: EKS Pod Identity names them. */
  arn?: string;
  region?: string;
}

export interface ClusterPort {
  /** The OIDC identity of an EKS cluster (DescribeCluster; account from STS). */
  describeCluster(name: string, region?: string): Promise<ClusterIdentity>;
  accountId(): Promise<string>;
}

export interface ServiceAccountInfo {
  namespace: string;
  name: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  resourceVersion: string;
  /** metadata.uid: unique per object ever created. */
  uid?: string;
}

export interface KubernetesPort {
  getServiceAccount(namespace: string, name: string): Promise<ServiceAccountInfo | null>;
  /** Every ServiceAccount of a namespace (paginated internally), optionally by label selector. */
  listServiceAccounts(namespace: string, labelSelector?: string): Promise<ServiceAccountInfo[]>;
  /**
   * ServiceAccounts of every namespace matching a label selector (one paginated cluster-wide LIST);
   * `excludeNamespaces` may be left out server-side (a field selector) — callers still filter.
   */
  listServiceAccountsInAllNamespaces?(labelSelector: string, options?: { excludeNamespaces?: readonly string[] }): Promise<ServiceAccountInfo[]>;
  createServiceAccount(input: {
    namespace: string;
    name: string;
    annotations: Record<string, string>;
    labels: Record<string, string>;
  }): Promise<ServiceAccountInfo>;
  /** JSON merge patch of metadata; `null` removes a key. Fails with ConflictError when resourceVersion is stale. */
  patchServiceAccountMetadata(input: {
    namespace: string;
    name: string;
    resourceVersion: string;
    annotations?: Record<string, string | null>;
    labels?: Record<string, string | null>;
  }): Promise<ServiceAccountInfo>;
  deleteServiceAccount(namespace: string, name: string): Promise<void>;
  namespaceExists(namespace: string): Promise<boolean>;
}

/** One EKS Pod Identity association as Describe/Create/Update return it. */
export interface PodIdentityAssociationInfo {
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  associationId: string;
  associationArn: string;
  tags: Record<string, string>;
}

/** One association as ListPodIdentityAssociations returns it (no role, no tags). */
export type PodIdentityAssociationSummary = Pick<
  PodIdentityAssociationInfo,
  'clusterName' | 'namespace' | 'serviceAccount' | 'associationId' | 'associationArn'
>;

/** EKS Pod Identity associations and the add-on that serves them (adapters/aws/pod-identity.ts). */
export interface PodIdentityPort {
  /** Every association of a cluster (paginated internally), optionally only those of one namespace / service account. */
  listAssociations(cluster: ClusterIdentity, filter?: { namespace?: string; serviceAccount?: string }): Promise<PodIdentityAssociationSummary[]>;
  /** null when it does not exist (any more). */
  describeAssociation(cluster: ClusterIdentity, associationId: string): Promise<PodIdentityAssociationInfo | null>;
  /** AlreadyExistsError when the (namespace, service account) has one already. */
  createAssociation(
    cluster: ClusterIdentity,
    input: { namespace: string; serviceAccount: string; roleArn: string; tags: Record<string, string> },
  ): Promise<PodIdentityAssociationInfo>;
  updateAssociation(cluster: ClusterIdentity, associationId: string, roleArn: string): Promise<PodIdentityAssociationInfo>;
  /** A missing one is not an error. */
  deleteAssociation(cluster: ClusterIdentity, associationId: string): Promise<void>;
  /** The add-on's status (`ACTIVE`, `DEGRADED`, …; DescribeAddon), or null when the cluster does not have it. */
  addonStatus(cluster: ClusterIdentity, addonName: string): Promise<string | null>;
}

// ---------------------------------------------------------------------------------------------
// Provisioning runs: one per config version, with one result per plan item.
// ---------------------------------------------------------------------------------------------

export type RunStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'SUPERSEDED';
export type ResourceAction = 'created' | 'updated' | 'unchanged' | 'adopted' | 'left-alone' | 'deleted' | 'failed';

export interface ResourceResult {
  /** `iam-role`, `trust-policy`, `permission-policy`, `managed-policy`, `instance-profile`, `service-account`. */
  kind: string;
  name: string;
  namespace?: string;
  cluster?: string;
  action: ResourceAction;
  detail?: string;
}

export interface RunError {
  name: string;
  message: string;
}

export interface ItemResult {
  /** The plan item: a service-account or instance-profile name. */
  name: string;
  kind: string;
  status: 'SUCCEEDED' | 'FAILED' | 'SUPERSEDED';
  resources: ResourceResult[];
  error?: RunError;
  finishedAt: string;
}

export interface ProvisioningRun {
  cloudId: string;
  configVersion: number;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  executionId?: string;
  planDigest?: string;
  itemCount?: number;
  /** Why nothing was provisioned (e.g. GCP), when that is the case. */
  reason?: string;
  error?: RunError;
  /** Identities this cloud made that the version no longer wants (e.g. after a stack change), still in place. */
  lingering?: ResourceResult[];
  /** What works but needs an operator outside the service (e.g. the control plane may not pass a role), checked at the end of the run. */
  warnings?: RunWarning[];
  items: ItemResult[];
}

/** A finding of the run that does not fail it: `code`, the operator's words, and the statement to add when there is one. */
export interface RunWarning {
  code: string;
  message: string;
  /** The resources it is about (e.g. role ARNs). */
  resources?: string[];
  /** A ready-to-paste IAM policy statement that fixes it. */
  statement?: PolicyStatement;
}

export type RunPatch = Partial<
  Pick<ProvisioningRun, 'status' | 'startedAt' | 'finishedAt' | 'executionId' | 'planDigest' | 'itemCount' | 'reason' | 'error' | 'lingering' | 'warnings'>
>;

export interface ProvisioningRunStore {
  /** Records a PENDING run for a version (no-op when it exists). */
  createRun(cloudId: string, version: number, init?: { executionId?: string }): Promise<void>;
  /** Applies `patch`; with `onlyFrom`, only while the run's status is one of those (false otherwise). */
  updateRun(cloudId: string, version: number, patch: RunPatch, options?: { onlyFrom?: RunStatus[] }): Promise<boolean>;
  putItemResult(cloudId: string, version: number, result: ItemResult): Promise<void>;
  getRun(cloudId: string, version: number): Promise<ProvisioningRun | null>;
  /**
   * Fencing token: records `version` as the newest version being provisioned, unless a newer one
   * already is. Returns false when `version` is superseded; its steps then stop without writing.
   */
  claim(cloudId: string, version: number): Promise<boolean>;
  claimedVersion(cloudId: string): Promise<number | null>;
  /**
   * The item refs of one page of a run's plan (the state machine carries only page numbers, each
   * Distributed Map child reads its page by number). `planId` tells apart two plans of the same
   * version (a restarted or partial run).
   */
  putPlanPage(cloudId: string, version: number, planId: string, page: number, refs: PlanItemRef[]): Promise<void>;
  getPlanPage(cloudId: string, version: number, planId: string, page: number): Promise<PlanItemRef[] | null>;
}

// ---------------------------------------------------------------------------------------------
// Ownership across clouds: what the service created (the inventory, keyed by the resource and
// holding its IAM id / Kubernetes uid), and which cloud wants which name (claims, taken at plan
// time). Both are single-item conditional writes (first cloud wins).
// ---------------------------------------------------------------------------------------------

export type OwnedKind = 'iam-role' | 'instance-profile' | 'service-account' | 'pod-identity-association' | 'gcp-service-account' | 'gcp-iam-member';

/** Where an owned resource is: IAM names (compared ignoring case) or a ServiceAccount in a cluster. */
export interface ResourceRef {
  kind: OwnedKind;
  name: string;
  /** Service accounts and pod identity associations: the cluster's name (for messages) and its OIDC issuer host (the identity). */
  cluster?: string;
  clusterIssuer?: string;
  namespace?: string;
}

export interface InventoryRecord extends ResourceRef {
  cloudId: string;
  /** RoleId / InstanceProfileId / metadata.uid / associationId; null while a create is in flight (see token). */
  id: string | null;
  /** Random token written on the resource at creation (tag / annotation), to recognise a create whose answer was lost. */
  token?: string;
  /** Taken over (adopt_role, adopt_service_account, ...) rather than made by the service. */
  adopted?: true;
  recordedAt: string;
}

export interface ClaimRecord extends ResourceRef {
  cloudId: string;
  configVersion: number;
  claimedAt: string;
}

export interface OwnershipStore {
  getInventory(ref: ResourceRef): Promise<InventoryRecord | null>;
  /**
   * Records `record` unless another cloud's record stands: succeeds when there is none, when it is
   * this cloud's, or when it is `staleId` (the resource it described is gone). Returns the record stored after the call.
   */
  putInventory(record: InventoryRecord, options?: { staleId?: string | null }): Promise<{ stored: boolean; current: InventoryRecord | null }>;
  /** Removes this cloud's record (no-op when absent or another cloud's). */
  deleteInventory(ref: ResourceRef, cloudId: string): Promise<void>;
  /** Takes the claim unless another cloud holds it; returns the holder after the call. */
  claim(claim: ClaimRecord): Promise<ClaimRecord>;
  getClaim(ref: ResourceRef): Promise<ClaimRecord | null>;
  /** Many inventory records at once (batched reads), by resourceKey(ref); absent: none. Optional: getInventory per ref otherwise. */
  getInventories?(refs: readonly ResourceRef[]): Promise<Map<string, InventoryRecord>>;
  /** Many claims at once, by resourceKey(ref); absent: none. Optional: getClaim per ref otherwise. */
  getClaims?(refs: readonly ResourceRef[]): Promise<Map<string, ClaimRecord>>;
  /** The claims this cloud holds. */
  listClaims(cloudId: string): Promise<ClaimRecord[]>;
  /** Releases this cloud's claim (no-op when another cloud holds it). */
  releaseClaim(ref: ResourceRef, cloudId: string): Promise<void>;
}

/** Starts the provisioning workflow for a config version (Step Functions deployed, in-process locally). */
export interface WorkflowStarter {
  /** `only`: provision just these items (service-account / instance-profile names), e.g. to repair drift. */
  start(input: { cloudId: string; version: number; only?: string[] }): Promise<{ executionId: string }>;
}

// ---------------------------------------------------------------------------------------------
// Drift reports: what a drift check found, kept with history (newest first).
// ---------------------------------------------------------------------------------------------

export type DriftSeverity = 'critical' | 'high' | 'medium' | 'low';

export interface DriftFinding {
  /** `role-missing`, `trust-policy-widened`, … (lib/drift/kinds.ts). */
  kind: DriftKind;
  /** The resource: a role name, `<namespace>/<sa>`, `<role>/<policy>`, an instance-profile name. */
  name: string;
  /** What the plan of the config version says (short text or small JSON). */
  expected: unknown;
  /** What the target holds now. */
  actual: unknown;
  severity: DriftSeverity;
  /** What changed, in an operator's words. */
  message: string;
  /** `iam-role`, `trust-policy`, `permission-policy`, `managed-policy`, `service-account`, `instance-profile`. */
  resource: string;
  /** The plan item (rule value) a repair would re-provision; absent for orphans. */
  item?: string;
  cluster?: string;
  namespace?: string;
  /** Whether a repair may fix it (the resource is ours or the config adopts it; the workflow converges it). */
  repairable: boolean;
}

export type DriftStatus = 'clean' | 'drifted' | 'nothing-to-compare';

export interface DriftRepair {
  /** Plan items handed to the provisioning workflow (`only`). */
  items: string[];
  execution_id?: string;
  /** Owned orphans deleted (delete_orphans: true), e.g. `iam-role iam-mapping-x` / `service-account ns/sa`. */
  deleted: string[];
  /** Why a repair step did not happen. */
  errors: string[];
  /** Findings left as they are (not ours, or not fixable by the workflow). */
  skipped: number;
}

/** One drift check, stored as is and served by GET …/drift-checks/latest. */
export interface DriftReport {
  cloud_deployment_id: string;
  checked_at: string;
  status: DriftStatus;
  drifted: boolean;
  /** The config version compared against (the latest whose run SUCCEEDED), null when none. */
  config_version: number | null;
  latest_version: number | null;
  mode: 'off' | 'report' | 'repair';
  /** Why there was nothing to compare, or a caveat of the comparison. */
  reason?: string;
  findings: DriftFinding[];
  summary: { total: number; by_kind: Record<string, number>; by_severity: Record<string, number> };
  repair?: DriftRepair;
  /** What was looked at. */
  observed: { roles: number; service_accounts: number; namespaces: number; clusters: number };
  duration_ms: number;
  trigger: 'api' | 'schedule';
  /** Findings dropped from storage to fit the item size limit (the most severe are kept). */
  findings_truncated?: number;
}

export interface DriftReportSummary {
  checked_at: string;
  status: DriftStatus;
  drifted: boolean;
  config_version: number | null;
  finding_count: number;
  by_severity: Record<string, number>;
}

export interface DriftReportStore {
  putReport(cloudId: string, report: DriftReport): Promise<void>;
  /** The newest report, or null. */
  latestReport(cloudId: string): Promise<DriftReport | null>;
  /** Report summaries, newest first. */
  listReports(cloudId: string, options?: { limit?: number }): Promise<DriftReportSummary[]>;
  /**
   * The drift worker's slot of a cloud, one per kind of request (`slot`: repair true, false or as
   * the mode says): claims it for a check requested at `requestedAt`, held until `until` (ISO
   * 8601) unless released sooner. Null when claimed now; else the pending check holding it.
   */
  claimWorkerSlot(cloudId: string, slot: string, claim: { requestedAt: string; until: string }): Promise<{ requestedAt: string } | null>;
  /** The check holding the slot at `now` (claimed, not released or failed, `until` not passed), or null. */
  workerSlot(cloudId: string, slot: string, now: string): Promise<{ requestedAt: string } | null>;
  /** Frees the slot if the check requested at `requestedAt` still holds it. */
  releaseWorkerSlot(cloudId: string, slot: string, requestedAt: string): Promise<void>;
  /** Marks the check requested at `requestedAt` failed (kept until `until`, so its requester can see why); the slot is free again. */
  failWorkerSlot(cloudId: string, slot: string, requestedAt: string, failure: { error: string; until: string }): Promise<void>;
  /** The cloud's slots at `now`: checks running in the worker, and recent failures. */
  workerSlots(cloudId: string, now: string): Promise<WorkerSlot[]>;
}

/** A drift worker slot of a cloud (DriftReportStore.workerSlots). */
export interface WorkerSlot {
  slot: string;
  requestedAt: string;
  until: string;
  /** Why the check failed (absent while it runs). */
  error?: string;
}

/** An on-demand drift check handed to a longer-running worker, because it outlasts the HTTP request's deadline. */
export interface DriftCheckRequest {
  cloudId: string;
  /** As the API's `{"repair": …}` (absent: as the cloud's drift mode says). */
  repair?: boolean;
  /** When the API accepted it (ISO 8601); the report that answers it is checked at or after this. */
  requestedAt: string;
  /** Who asked (the token's subject), for the worker's log. */
  requestedBy?: string;
}

/** Runs a drift check elsewhere (deployed: an asynchronous invocation of the drift schedule function; locally: in the background). */
export interface DriftCheckHandOff {
  /** Resolves once the check is queued; it does not wait for the check. */
  handOff(request: DriftCheckRequest): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Google Cloud targets (adapters/gcp/): IAM v1 service accounts and their IAM policies, Cloud
// Storage bucket IAM, and GKE clusters (to reach their Kubernetes API). Errors are the same
// TargetErrors; a stale etag on setIamPolicy (IAM 409 ABORTED, Storage 412) is ConflictError.
// ---------------------------------------------------------------------------------------------

export interface GoogleServiceAccount {
  email: string;
  projectId: string;
  /** Google's numeric id: unique per account ever created (a re-created account has another). */
  uniqueId?: string;
  displayName?: string;
  description?: string;
  disabled?: boolean;
}

export interface GoogleIamBinding {
  role: string;
  members: string[];
  /** Conditional bindings are carried through unchanged. */
  condition?: unknown;
}

/** An IAM policy as Google returns it; `etag` guards the read-modify-write. */
export interface GoogleIamPolicy {
  version?: number;
  etag?: string;
  bindings: GoogleIamBinding[];
}

export interface GkeCluster extends ClusterIdentity {
  /** The API server (`https://<ip>`) and its CA (base64 PEM), when known. */
  endpoint?: string;
  caData?: string;
  project: string;
  location: string | null;
}

export interface GcpPort {
  getServiceAccount(project: string, email: string): Promise<GoogleServiceAccount | null>;
  /** Every service account of a project (IAM's paged list, followed to the end). */
  listServiceAccounts(project: string): Promise<GoogleServiceAccount[]>;
  /** Deletes a service account; false when it did not exist. */
  deleteServiceAccount(project: string, email: string): Promise<boolean>;
  /** Fails with AlreadyExistsError when the id is taken. */
  createServiceAccount(input: { project: string; accountId: string; displayName: string; description: string }): Promise<GoogleServiceAccount>;
  getServiceAccountPolicy(project: string, email: string): Promise<GoogleIamPolicy>;
  /** Writes `policy` guarded by its etag: ConflictError when someone changed it since the read. */
  setServiceAccountPolicy(project: string, email: string, policy: GoogleIamPolicy): Promise<GoogleIamPolicy>;
  /** The bucket's IAM policy; null when the bucket does not exist. */
  getBucketPolicy(bucket: string): Promise<GoogleIamPolicy | null>;
  setBucketPolicy(bucket: string, policy: GoogleIamPolicy): Promise<GoogleIamPolicy>;
  /** A GKE cluster: its identity (OIDC issuer `container.googleapis.com/v1/projects/…/clusters/<name>`) and endpoint. */
  describeGkeCluster(project: string, location: string | null, name: string): Promise<GkeCluster>;
  /** The Kubernetes API of a GKE cluster. */
  kubernetes(cluster: GkeCluster): KubernetesPort;
}
