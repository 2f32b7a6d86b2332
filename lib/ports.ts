/**
 * Ports: the small interfaces the domain core needs from the outside world. Each outside system
 * has exactly one adapter per environment (real AWS, or the local sandbox), chosen by
 * configuration in one composition root — never by `if` in domain logic.
 */

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
  /** sha256 hex of the canonical JSON of the stored document. */
  contentHash: string;
  ruleCount: number;
  /** Size in bytes of the canonical JSON document. */
  sizeBytes: number;
}

/** A stored version with its document (the config exactly as accepted, without `version`). */
export interface StoredConfigVersion extends VersionMeta {
  document: Record<string, unknown>;
}

export interface PutVersionInput {
  cloudId: string;
  document: Record<string, unknown>;
  createdBy: string;
  /** When set, the write succeeds only if the latest version's etag equals this (else PRECONDITION_FAILED). `*` = any existing version. */
  ifMatch?: string;
  ruleCount: number;
  now?: Date;
}

export interface ConfigStore {
  /** Commits a new version N+1 atomically (single-item conditional write). Throws AppError PRECONDITION_FAILED on a stale If-Match. */
  putVersion(input: PutVersionInput): Promise<VersionMeta>;
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
}
