/**
 * The HTTP API's request and response bodies as zod schemas — what the route table
 * (functions/routes.ts) names per route, what the OpenAPI document is generated from, and what
 * the handlers' reply types are (`z.infer`). Written with zod's mini API so every function bundle
 * can carry them (the resolve Lambda stays a few KB of zod); the mapping config document itself
 * is the full-zod schema of lib/config/schema.ts, named here by component only (`MAPPING_CONFIG`).
 *
 * The domain types that are API bodies (lib/ports.ts, lib/resolution) are checked against these at
 * compile time at the end of this file: every value the domain produces fits its response schema.
 */
import * as z from 'zod/mini';
import type { LintCode } from '../../lib/config/lint.js';
import { CLOUD_PROVIDERS, COMPUTE_STACKS } from '../../lib/config/constants.js';
import { DRIFT_KINDS } from '../../lib/drift/kinds.js';
import type { ErrorCode } from '../../lib/errors.js';
import type { DriftReport, DriftReportSummary, ProvisioningRun } from '../../lib/ports.js';
import type { ResolveOutput } from '../../lib/resolution/service.js';

export { resolveRequestSchema } from '../../lib/resolution/request.js';

const int = (min: number) => z.int().check(z.minimum(min));
const timestamp = () => z.iso.datetime({ offset: true }).check(z.describe('ISO-8601 timestamp'));
/** A positive integer in a query string (`version=3`). */
const positive = () => z.string().check(z.regex(/^[1-9]\d{0,9}$/, 'must be a positive integer'));
const described = <T extends z.core.$ZodType>(schema: T, text: string): T => {
  z.globalRegistry.add(schema, { description: text });
  return schema;
};

// ------------------------------------------------------------------------------------ errors

export const ERROR_CODES = [
  'INVALID_CONFIG',
  'INVALID_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'NOT_ACCEPTABLE',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'HEADER_TOO_LARGE',
  'NO_MATCHING_RULE',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
] as const satisfies readonly ErrorCode[];

export const errorDetailSchema = described(
  z.looseObject({
    path: described(z.string(), 'dotted path of the offending field, e.g. `dataplane_iam_mapping.rules[3].selector`; empty for the whole body'),
    message: z.string(),
    line: z.optional(described(int(1), '1-based line in the YAML body')),
    column: z.optional(described(int(1), '1-based column in the YAML body')),
    rule_index: z.optional(described(int(0), 'index of the rule (from 0) whose selector or value is wrong')),
    position: z.optional(described(int(0), '0-based character position inside the selector')),
  }),
  'One problem, pointing at where it is.',
);

export const errorResponseSchema = described(
  z.object({ error: z.object({ code: z.enum(ERROR_CODES), message: z.string(), details: z.array(errorDetailSchema) }) }),
  'Every error response: never a stack trace.',
);

// ----------------------------------------------------------------------------------- service

export const healthSchema = z.object({ ok: z.literal(true) });

export const openApiDocumentSchema = z.looseObject({
  openapi: z.string().check(z.regex(/^3\.1\.\d+$/)),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

// ------------------------------------------------------------------------------------ config

const LINT_CODES = [
  'DUPLICATE_RULE',
  'SHADOWED_RULE',
  'UNSATISFIABLE_SELECTOR',
  'LINT_INCOMPLETE',
  'UNINDENTED_YAML',
  'EMAIL_CASE',
  'STACK_CHANGED',
  'PINNED_IDENTITY',
] as const satisfies readonly (LintCode | 'STACK_CHANGED' | 'PINNED_IDENTITY')[];

export const lintWarningSchema = z.object({
  code: z.enum(LINT_CODES),
  path: z.string(),
  message: z.string(),
  rule_index: z.optional(int(0)),
  shadowed_by: z.optional(int(0)),
});

export const provisioningStartSchema = z.object({
  status: z.literal('PENDING'),
  execution_id: z.optional(z.string()),
  error: z.optional(z.string()),
});

export const configPutResponseSchema = z.looseObject({
  cloud_deployment_id: z.string(),
  version: int(1),
  etag: described(z.string(), 'send as If-Match to update this version'),
  unchanged: described(
    z.optional(z.literal(true)),
    'the document equals the current version: nothing was stored, no provisioning run started; version and etag are the current ones',
  ),
  warnings: described(z.array(lintWarningSchema), 'lint findings; the config was stored anyway'),
  provisioning: described(z.optional(provisioningStartSchema), 'the run started for the new version; absent when unchanged'),
});

export const versionMetaSchema = z.object({
  version: int(1),
  etag: z.string(),
  created_at: timestamp(),
  created_by: z.string(),
  created_scope: z.optional(described(z.array(z.string()), 'cloud scope of the writer\'s token (`["*"]` = every cloud)')),
  rule_count: int(0),
  content_hash: described(z.string(), 'sha256 hex of the canonical JSON document'),
});

export const versionsResponseSchema = z.object({
  cloud_deployment_id: z.string(),
  versions: described(z.array(versionMetaSchema), 'newest first'),
});

export const cloudListSchema = described(
  z.array(
    z.object({
      cloud_deployment_id: z.string(),
      version: described(int(1), 'the latest config version'),
      cloud_provider: z.enum(CLOUD_PROVIDERS),
      compute_stack: z.enum(COMPUTE_STACKS),
      updated_at: described(timestamp(), 'when the latest version was stored'),
    }),
  ),
  'the clouds in the token’s scope that have a config, by id',
);

export const bindingListSchema = described(
  z.array(
    z.object({
      cluster_id: z.string(),
      value: described(z.nullable(z.string()), 'the identity kept for the cluster (null: the cloud default)'),
      config_version: int(1),
      created_at: described(timestamp(), 'when the cluster was first resolved'),
    }),
  ),
  'the clusters pinned by sticky resolution, by cluster id',
);

// ----------------------------------------------------------------------------------- resolve

export const traceEntrySchema = z.object({
  rule_index: int(0),
  selector: described(z.string(), 'canonical form'),
  matched: z.boolean(),
  failed_requirement: z.optional(described(z.string(), 'the first requirement that did not hold')),
  reason: z.optional(z.string()),
});

export const resolveResponseSchema = z.object({
  value: described(z.nullable(z.string()), 'the identity; null for CLOUD_DEFAULT when the config names no default_value'),
  source: z.enum(['RULE', 'CLOUD_DEFAULT']),
  rule_index: z.nullable(int(0)),
  config_version: int(1),
  trace: z.optional(described(z.array(traceEntrySchema), 'with ?explain=true: every rule evaluated, in order')),
  cluster_id: z.optional(z.string()),
  sticky: z.optional(described(z.boolean(), 'true when the answer was kept from the first resolution of this cluster_id')),
  resolved_at: z.optional(timestamp()),
});

export const resolveQuerySchema = z.object({
  explain: z.optional(
    described(
      z.string().check(z.regex(/^(?:|true|1|yes|false|0|no)$/i, 'must be true, 1, yes or empty (a trace) or false, 0, no (none)')),
      '`true`, `1`, `yes` or empty: add the per-rule trace; `false`, `0`, `no`: none; anything else is a 400',
    ),
  ),
});

// ------------------------------------------------------------------------------ provisioning

export const RUN_STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SUPERSEDED'] as const;
const RESOURCE_ACTIONS = ['created', 'updated', 'unchanged', 'adopted', 'left-alone', 'deleted', 'failed'] as const;

export const provisioningResourceSchema = z.object({
  kind: described(z.string(), 'iam-role, trust-policy, permission-policy, managed-policy, instance-profile, service-account'),
  name: z.string(),
  namespace: z.optional(z.string()),
  cluster: z.optional(z.string()),
  action: z.enum(RESOURCE_ACTIONS),
  detail: z.optional(z.string()),
});

const runErrorSchema = z.object({ name: z.string(), message: z.string() });

const policyValueSchema = z.union([z.string(), z.array(z.string())]);
const principalSchema = z.union([z.literal('*'), z.record(z.string(), policyValueSchema)]);
const policyStatementSchema = z.object({
  Sid: z.optional(z.string()),
  Effect: z.enum(['Allow', 'Deny']),
  Principal: z.optional(principalSchema),
  NotPrincipal: z.optional(principalSchema),
  Action: z.optional(policyValueSchema),
  NotAction: z.optional(policyValueSchema),
  Resource: z.optional(policyValueSchema),
  NotResource: z.optional(policyValueSchema),
  Condition: z.optional(z.record(z.string(), z.record(z.string(), policyValueSchema))),
});

export const provisioningStatusSchema = z.object({
  config_version: int(1),
  status: z.enum(RUN_STATUSES),
  reason: z.optional(described(z.string(), 'why nothing was provisioned, when that is the case')),
  error: z.optional(runErrorSchema),
  created_at: z.optional(timestamp()),
  started_at: z.optional(timestamp()),
  finished_at: z.optional(timestamp()),
  execution_id: z.optional(z.string()),
  item_count: z.optional(z.nullable(int(0))),
  items: z.array(
    z.object({
      name: described(z.string(), 'service-account or instance-profile name'),
      kind: z.string(),
      status: z.enum(['SUCCEEDED', 'FAILED', 'SUPERSEDED']),
      error: z.optional(runErrorSchema),
    }),
  ),
  resources: z.array(provisioningResourceSchema),
  lingering: z.optional(
    described(z.array(provisioningResourceSchema), 'identities this cloud made that the version no longer wants (e.g. after a stack change), still in place'),
  ),
  warnings: z.optional(
    described(
      z.array(
        z.object({
          code: described(z.string(), 'PASS_ROLE_DENIED, PASS_ROLE_DENIED_EXPLICITLY, PASS_ROLE_BLOCKED_BY_BOUNDARY, PASS_ROLE_UNCHECKED'),
          message: z.string(),
          resources: z.optional(z.array(z.string())),
          statement: z.optional(described(policyStatementSchema, 'a ready-to-paste IAM policy statement that fixes it')),
        }),
      ),
      'what works but needs an operator outside the service, e.g. the control-plane role may not iam:PassRole an instance-profile role to EC2; never fails the run',
    ),
  ),
});

export const versionQuerySchema = z.object({ version: z.optional(described(positive(), 'a past version (default: the latest)')) });

// ------------------------------------------------------------------------------------- drift

const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
const DRIFT_STATUSES = ['clean', 'drifted', 'nothing-to-compare'] as const;
const counts = () => z.record(z.string(), int(0));

export const driftFindingSchema = z.object({
  kind: described(z.string(), `what drifted: ${Object.keys(DRIFT_KINDS).join(', ')}`),
  name: described(z.string(), 'the resource: a role name, <namespace>/<sa>, <role>/<policy>, an instance-profile name'),
  expected: described(z.unknown(), 'what the plan of the config version says'),
  actual: described(z.unknown(), 'what the target holds now'),
  severity: z.enum(SEVERITIES),
  message: z.string(),
  resource: described(z.string(), 'iam-role, trust-policy, permission-policy, managed-policy, service-account, instance-profile'),
  item: z.optional(described(z.string(), 'the plan item a repair would re-provision')),
  cluster: z.optional(z.string()),
  namespace: z.optional(z.string()),
  repairable: z.boolean(),
});

export const driftReportSchema = z.object({
  cloud_deployment_id: z.string(),
  checked_at: timestamp(),
  status: z.enum(DRIFT_STATUSES),
  drifted: z.boolean(),
  config_version: described(z.nullable(int(1)), 'the version compared against (the latest whose run SUCCEEDED)'),
  latest_version: z.nullable(int(1)),
  mode: z.enum(['off', 'report', 'repair']),
  reason: z.optional(z.string()),
  findings: z.array(driftFindingSchema),
  summary: z.object({ total: int(0), by_kind: counts(), by_severity: counts() }),
  repair: z.optional(
    z.object({
      items: z.array(z.string()),
      execution_id: z.optional(z.string()),
      deleted: z.array(z.string()),
      errors: z.array(z.string()),
      skipped: int(0),
    }),
  ),
  observed: counts(),
  duration_ms: z.number().check(z.minimum(0)),
  trigger: z.enum(['api', 'schedule']),
  findings_truncated: z.optional(int(0)),
});

/** 202 of POST .../drift-checks: the check outlasted the request's deadline and goes on in the drift worker. */
export const driftCheckAcceptedSchema = z.strictObject({
  cloud_deployment_id: z.string(),
  status: z.literal('running'),
  requested_at: described(timestamp(), 'the report that answers this request has checked_at at or after this'),
  report: described(z.string(), 'the path to GET for it (also the Location header)'),
  message: z.string(),
});

/** GET .../drift-checks/background: on-demand checks the drift worker runs, or that failed there lately. */
export const backgroundDriftChecksSchema = z.strictObject({
  cloud_deployment_id: z.string(),
  checks: described(
    z.array(
      z.strictObject({
        requested_at: described(timestamp(), 'as in the 202 that handed it off'),
        repair: described(z.nullable(z.boolean()), 'as requested; null: as the drift mode says'),
        status: z.enum(['running', 'failed']),
        error: z.optional(described(z.string(), 'why it failed (no report was stored)')),
        until: described(timestamp(), 'running: when the slot lapses if the worker died; failed: until when this stays listed'),
      }),
    ),
    'newest first',
  ),
});

export const driftReportSummarySchema = z.object({
  checked_at: timestamp(),
  status: z.enum(DRIFT_STATUSES),
  drifted: z.boolean(),
  config_version: z.nullable(int(1)),
  finding_count: int(0),
  by_severity: counts(),
});

export const driftReportsSchema = z.object({
  cloud_deployment_id: z.string(),
  reports: described(z.array(driftReportSummarySchema), 'newest first'),
});

/** Body of POST .../drift-checks (optional): `repair` re-provisions what drifted (mode repair). */
export const driftCheckRequestSchema = z.strictObject(
  { repair: z.optional(z.boolean({ error: 'must be true or false' })) },
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be a JSON object such as {"repair": true}' : undefined) },
);

export const driftHistoryQuerySchema = z.object({
  limit: z.optional(described(z.string().check(z.regex(/^(?:[1-9]\d?|100)$/, 'must be an integer from 1 to 100')), 'at most this many (1..100, default 20)')),
});
export const putConfigQuerySchema = z.object({
  confirm_stack_change: z.optional(
    described(z.enum(['true', 'false']), '`true` confirms a change of cloud_provider or compute_stack (also header X-Confirm-Stack-Change: true)'),
  ),
});
export const configQuerySchema = z.object({ version: z.optional(described(positive(), 'a past version (default: the latest)')) });
export const versionsQuerySchema = z.object({
  limit: z.optional(described(positive(), 'at most this many (default 100, max 1000)')),
  before: z.optional(described(positive(), 'only versions before this one (paging)')),
});

// -------------------------------------------------------------------------------------- plan

const PLAN_KINDS = 'iam-role, trust-policy, permission-policy, managed-policy, instance-profile, service-account, pod-identity-association';
const OUTCOME_SOURCES = ['RULE', 'CLOUD_DEFAULT', 'NO_MATCH'] as const;

export const planChangeSchema = z.object({
  action: z.enum(['create', 'update', 'delete']),
  kind: described(z.string(), PLAN_KINDS),
  name: described(z.string(), 'a role name, <role>/<policy>, <role>/<policy ARN>, <namespace>/<sa>, an instance-profile name'),
  diff: z.optional(
    described(
      z.string(),
      'lines prefixed `+ ` (would be written), `- ` (would be removed) or two spaces (stays); policies statement by statement, as IAM compares them',
    ),
  ),
  reason: z.optional(described(z.string(), 'why, in plain words (a delete: when it happens)')),
  item: z.optional(described(z.string(), 'the rule value (ServiceAccount or instance-profile name) the change belongs to')),
  cluster: z.optional(z.string()),
  namespace: z.optional(z.string()),
  deferred: z.optional(
    described(z.boolean(), 'a delete that waits for a drift repair with provisioning.drift.delete_orphans: true, which the draft does not set'),
  ),
  by_provisioning: z.optional(
    described(
      z.literal(true),
      "a delete the provisioning run itself makes: a pod identity association in a namespace the draft no longer names (the binding goes, as IRSA's trust policy drops the namespace); other deletes are drift repairs",
    ),
  ),
});

export const planLeftAloneSchema = z.object({
  kind: described(z.string(), `${PLAN_KINDS}, oidc-provider`),
  name: z.string(),
  reason: described(z.string(), 'why provisioning would not touch it, and whether that fails the item'),
  item: z.optional(z.string()),
  cluster: z.optional(z.string()),
  namespace: z.optional(z.string()),
});

export const planLaunchSchema = z.object({
  workload_type: z.string(),
  project: z.string(),
  user: z.string(),
  from: described(z.nullable(z.string()), 'the identity now (the current version, or the pinned cluster’s kept one); null: the cloud default or no match'),
  to: described(z.nullable(z.string()), 'the identity under the draft'),
  from_source: z.enum(OUTCOME_SOURCES),
  to_source: z.enum(OUTCOME_SOURCES),
  from_rule: z.nullable(int(0)),
  to_rule: z.nullable(int(0)),
  derived_from: described(z.string(), '`rule N of the draft`, `rule N of version V` or `pinned cluster ID`'),
  cluster_id: z.optional(described(z.string(), 'a pinned cluster: it keeps `from` until its pin is forgotten')),
});

export const planResponseSchema = z.object({
  cloud_deployment_id: z.string(),
  current_version: described(z.nullable(int(1)), 'the version the draft is compared with (null: the cloud has no config yet)'),
  changes: described(
    z.array(planChangeSchema),
    'what provisioning the draft would do against what exists now: creates, then updates, then deletes; empty when nothing would change',
  ),
  left_alone: described(z.array(planLeftAloneSchema), 'what provisioning would refuse to touch (not ours, claimed by another cloud, a missing namespace, ...)'),
  summary: z.object({ create: int(0), update: int(0), delete: int(0), left_alone: int(0) }),
  launches: described(z.array(planLaunchSchema), 'sample launches whose identity the draft changes'),
  launches_checked: described(
    int(0),
    'sample launches compared: one per rule of either version (where a matching launch can be built) and one per pinned cluster',
  ),
  launches_truncated: z.optional(described(int(1), 'changed launches not listed')),
  reason: z.optional(z.string()),
  warnings: described(z.array(lintWarningSchema), 'what a PUT of the draft would warn'),
});

// -------------------------------------------------------------------- domain types agree

/** Every value of the domain type fits the schema, and both require the same fields. */
type Fits<Domain, Schema extends z.core.$ZodType> = [Domain] extends [z.infer<Schema>] ? true : false;
type RequiredKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T];
type SameRequired<Domain, Schema extends z.core.$ZodType> = [RequiredKeys<Domain>] extends [RequiredKeys<z.infer<Schema>>]
  ? [RequiredKeys<z.infer<Schema>>] extends [RequiredKeys<Domain>]
    ? true
    : false
  : false;
type Assert<T extends true> = T;
export type DomainTypesAgree = [
  Assert<Fits<DriftReport, typeof driftReportSchema>>,
  Assert<SameRequired<DriftReport, typeof driftReportSchema>>,
  Assert<Fits<DriftReport['findings'][number], typeof driftFindingSchema>>,
  Assert<SameRequired<DriftReport['findings'][number], typeof driftFindingSchema>>,
  Assert<Fits<DriftReportSummary, typeof driftReportSummarySchema>>,
  Assert<SameRequired<DriftReportSummary, typeof driftReportSummarySchema>>,
  Assert<Fits<ResolveOutput, typeof resolveResponseSchema>>,
  Assert<SameRequired<ResolveOutput, typeof resolveResponseSchema>>,
  Assert<Fits<ProvisioningRun['items'][number]['resources'][number], typeof provisioningResourceSchema>>,
  Assert<Fits<ProvisioningRun['status'], (typeof provisioningStatusSchema)['shape']['status']>>,
];
