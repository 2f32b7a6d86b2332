/**
 * What the stores read back from the table, parsed at the port (zod's mini API, so the resolve
 * bundle stays small): a corrupt or old item is a StoredDataError naming its key and the field,
 * never a value cast into a port type it does not have.
 */
import * as z from 'zod/mini';
import { DRIFT_KINDS, type DriftKind } from '../../lib/drift/kinds.js';
import type { DriftReport, DriftReportSummary, ItemResult, ProvisioningRun, StickyResolution, VersionMeta } from '../../lib/ports.js';
import { parseStored } from '../../lib/stored.js';

/** The primary key of an item, as stored. */
export interface ItemKey {
  PK: string;
  SK: string;
}

/** Parses a stored item (or its field `base`); StoredDataError naming the item's key and the field otherwise. */
export const parseItem = <T>(schema: z.ZodMiniType<T>, value: unknown, key: ItemKey, base = ''): T => parseStored(schema, value, `${key.PK} / ${key.SK}`, base);

const int = z.int();
const nonNegative = z.int().check(z.nonnegative());
const str = z.string();
const nonEmpty = z.string().check(z.minLength(1));

// ---------------------------------------------------------------------------------- configs

/** A VERSION item: the version's meta plus where its body lives. */
export const versionItemSchema = z.object({
  cloudId: nonEmpty,
  version: z.int().check(z.positive()),
  etag: nonEmpty,
  createdAt: str,
  createdBy: str,
  createdScope: z.optional(z.array(z.string())),
  contentHash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  ruleCount: nonNegative,
  sizeBytes: nonNegative,
  blobHash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  blobBytes: nonNegative,
  chunkCount: z.int().check(z.positive()),
}) satisfies z.ZodMiniType<VersionMeta & { blobHash: string; blobBytes: number; chunkCount: number }>;
export type VersionItem = z.infer<typeof versionItemSchema>;

// ---------------------------------------------------------------------------------- sticky

export const stickyResolutionSchema = z.object({
  value: z.nullable(str),
  source: z.enum(['RULE', 'CLOUD_DEFAULT']),
  rule_index: z.nullable(nonNegative),
  config_version: z.int().check(z.positive()),
  resolved_at: str,
  workload_type: str,
  project: str,
  user: str,
}) satisfies z.ZodMiniType<StickyResolution>;

// ---------------------------------------------------------------------------------- runs

const runError = z.object({ name: str, message: str });
const runStatus = z.enum(['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SUPERSEDED']);
const resourceResult = z.object({
  kind: str,
  name: str,
  namespace: z.optional(str),
  cluster: z.optional(str),
  action: z.enum(['created', 'updated', 'unchanged', 'adopted', 'left-alone', 'deleted', 'failed']),
  detail: z.optional(str),
});

const policyValue = z.union([str, z.array(str)]);
const principal = z.union([z.literal('*'), z.record(str, policyValue)]);
/** A policy statement a run warning proposes (lib/provisioning/pass-role.ts). */
const policyStatement = z.object({
  Sid: z.optional(str),
  Effect: z.enum(['Allow', 'Deny']),
  Principal: z.optional(principal),
  NotPrincipal: z.optional(principal),
  Action: z.optional(policyValue),
  NotAction: z.optional(policyValue),
  Resource: z.optional(policyValue),
  NotResource: z.optional(policyValue),
  Condition: z.optional(z.record(str, z.record(str, policyValue))),
});
const runWarning = z.object({ code: str, message: str, resources: z.optional(z.array(str)), statement: z.optional(policyStatement) });

export const runHeadSchema = z.object({
  cloudId: nonEmpty,
  configVersion: z.int().check(z.positive()),
  status: runStatus,
  createdAt: str,
  updatedAt: str,
  startedAt: z.optional(str),
  finishedAt: z.optional(str),
  executionId: z.optional(str),
  planDigest: z.optional(str),
  itemCount: z.optional(nonNegative),
  reason: z.optional(str),
  error: z.optional(runError),
  lingering: z.optional(z.array(resourceResult)),
  warnings: z.optional(z.array(runWarning)),
}) satisfies z.ZodMiniType<Omit<ProvisioningRun, 'items'>>;

export const itemResultSchema = z.object({
  name: str,
  kind: str,
  status: z.enum(['SUCCEEDED', 'FAILED', 'SUPERSEDED']),
  resources: z.array(resourceResult),
  error: z.optional(runError),
  finishedAt: str,
}) satisfies z.ZodMiniType<ItemResult>;

export const fenceSchema = z.object({ claimedVersion: z.optional(int) });

// ---------------------------------------------------------------------------------- drift

const severity = z.enum(['critical', 'high', 'medium', 'low']);
const counts = z.record(z.string(), nonNegative);
const driftKind = z.enum(Object.keys(DRIFT_KINDS) as [DriftKind, ...DriftKind[]]);
const driftStatus = z.enum(['clean', 'drifted', 'nothing-to-compare']);

export const driftReportSchema = z.object({
  cloud_deployment_id: str,
  checked_at: str,
  status: driftStatus,
  drifted: z.boolean(),
  config_version: z.nullable(int),
  latest_version: z.nullable(int),
  mode: z.enum(['off', 'report', 'repair']),
  reason: z.optional(str),
  findings: z.array(
    z.object({
      kind: driftKind,
      name: str,
      expected: z.unknown(),
      actual: z.unknown(),
      severity,
      message: str,
      resource: str,
      item: z.optional(str),
      cluster: z.optional(str),
      namespace: z.optional(str),
      repairable: z.boolean(),
    }),
  ),
  summary: z.object({ total: nonNegative, by_kind: counts, by_severity: counts }),
  repair: z.optional(
    z.object({
      items: z.array(str),
      execution_id: z.optional(str),
      deleted: z.array(str),
      errors: z.array(str),
      skipped: nonNegative,
    }),
  ),
  observed: z.object({ roles: nonNegative, service_accounts: nonNegative, namespaces: nonNegative, clusters: nonNegative }),
  duration_ms: z.number().check(z.nonnegative()),
  trigger: z.enum(['api', 'schedule']),
  findings_truncated: z.optional(nonNegative),
}) satisfies z.ZodMiniType<DriftReport>;

/** A DRIFT_WORKER item: the on-demand check holding the drift worker's slot, and until when. */
export const driftWorkerItemSchema = z.object({ SK: str, requestedAt: str, until: str, failed: z.optional(str) });

/** The plain summary attributes of a DRIFT item (the history lists them without decoding the body). */
export const driftSummaryItemSchema = z.pipe(
  z.object({
    checkedAt: str,
    status: driftStatus,
    drifted: z.boolean(),
    configVersion: z.optional(z.nullable(int)),
    findingCount: z.optional(nonNegative),
    bySeverity: z.optional(counts),
  }),
  z.transform((i): DriftReportSummary => ({
    checked_at: i.checkedAt,
    status: i.status,
    drifted: i.drifted,
    config_version: i.configVersion ?? null,
    finding_count: i.findingCount ?? 0,
    by_severity: i.bySeverity ?? {},
  })),
);
