/**
 * The OpenAPI 3.1 description of the HTTP API, generated from zod schemas: the request schemas
 * the handlers validate with (lib/config/schema.ts) and the response schemas below. Nothing here
 * is a hand-written JSON schema: `z.toJSONSchema()` turns the zod schemas into the document's
 * `components.schemas`, and tests parse real responses with the same zod schemas and check them
 * against the generated document, so document and checks come from one source.
 *
 * The document lists the routes the server actually serves (passed in by functions/openapi.ts
 * from the routing table); `OPERATIONS` describes each of them.
 */
import { z } from 'zod';
import type { ErrorCode } from './errors.js';
import type { LintCode } from './config/lint.js';
import { dataplaneIamMappingSchema, mappingConfigSchema, resolveRequestSchema, ruleSchema } from './config/schema.js';

// ---------------------------------------------------------------------------------------------
// Response schemas (and the shared pieces they are made of)
// ---------------------------------------------------------------------------------------------

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
  'NO_MATCHING_RULE',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
] as const satisfies readonly ErrorCode[];
// Compile-time check that the list names every ErrorCode.
type MissingErrorCode = Exclude<ErrorCode, (typeof ERROR_CODES)[number]>;
const everyErrorCode: MissingErrorCode extends never ? true : never = true;
void everyErrorCode;

const LINT_CODES = [
  'DUPLICATE_RULE',
  'SHADOWED_RULE',
  'UNSATISFIABLE_SELECTOR',
  'LINT_INCOMPLETE',
  'UNINDENTED_YAML',
  'STACK_CHANGED',
] as const satisfies readonly (LintCode | 'STACK_CHANGED')[];

const int = () => z.number().int();
const timestamp = () => z.iso.datetime({ offset: true }).describe('ISO-8601 timestamp');

export const errorDetailSchema = z
  .looseObject({
    path: z.string().describe('dotted path of the offending field, e.g. `dataplane_iam_mapping.rules[3].selector`; empty for the whole body'),
    message: z.string(),
    line: int().min(1).optional().describe('1-based line in the YAML body'),
    column: int().min(1).optional().describe('1-based column in the YAML body'),
    rule_index: int().min(0).optional().describe('index of the rule (from 0) whose selector or value is wrong'),
    position: int().min(0).optional().describe('0-based character position inside the selector'),
  })
  .describe('One problem, pointing at where it is.');

export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z.array(errorDetailSchema),
    }),
  })
  .describe('Every error response: never a stack trace.');

export const healthSchema = z.object({ ok: z.literal(true) });

export const lintWarningSchema = z.object({
  code: z.enum(LINT_CODES),
  path: z.string(),
  message: z.string(),
  rule_index: int().min(0).optional(),
  shadowed_by: int().min(0).optional(),
});

export const configPutResponseSchema = z.object({
  cloud_deployment_id: z.string(),
  version: int().min(1),
  etag: z.string().describe('send as If-Match to update this version'),
  warnings: z.array(lintWarningSchema).describe('lint findings; the config was stored anyway'),
  provisioning: z.object({
    status: z.literal('PENDING'),
    execution_id: z.string().optional(),
    error: z.string().optional(),
  }),
});

export const storedConfigSchema = mappingConfigSchema
  .extend({ version: int().min(1).describe('the version this document is') })
  .describe('A stored config version: the document as accepted, plus `version`.');

export const versionMetaSchema = z.object({
  version: int().min(1),
  etag: z.string(),
  created_at: timestamp(),
  created_by: z.string(),
  rule_count: int().min(0),
  content_hash: z.string().describe('sha256 hex of the canonical JSON document'),
});

export const versionsResponseSchema = z.object({
  cloud_deployment_id: z.string(),
  versions: z.array(versionMetaSchema).describe('newest first'),
});

export const traceEntrySchema = z.object({
  rule_index: int().min(0),
  selector: z.string().describe('canonical form'),
  matched: z.boolean(),
  failed_requirement: z.string().optional().describe('the first requirement that did not hold'),
  reason: z.string().optional(),
});

export const resolveResponseSchema = z.object({
  value: z.string().nullable().describe('the identity; null for CLOUD_DEFAULT when the config names no default_value'),
  source: z.enum(['RULE', 'CLOUD_DEFAULT']),
  rule_index: int().min(0).nullable(),
  config_version: int().min(1),
  trace: z.array(traceEntrySchema).optional().describe('with ?explain=true: every rule evaluated, in order'),
  cluster_id: z.string().optional(),
  sticky: z.boolean().optional().describe('true when the answer was kept from the first resolution of this cluster_id'),
  resolved_at: timestamp().optional(),
});

export const RUN_STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SUPERSEDED'] as const;

export const provisioningResourceSchema = z.object({
  kind: z.string().describe('iam-role, trust-policy, permission-policy, managed-policy, instance-profile, service-account'),
  name: z.string(),
  namespace: z.string().optional(),
  cluster: z.string().optional(),
  action: z.enum(['created', 'updated', 'unchanged', 'adopted', 'left-alone', 'deleted', 'failed']),
  detail: z.string().optional(),
});

const runErrorSchema = z.object({ name: z.string(), message: z.string() });

export const provisioningStatusSchema = z.object({
  config_version: int().min(1),
  status: z.enum(RUN_STATUSES),
  reason: z.string().optional().describe('why nothing was provisioned, when that is the case'),
  error: runErrorSchema.optional(),
  created_at: timestamp().optional(),
  started_at: timestamp().optional(),
  finished_at: timestamp().optional(),
  execution_id: z.string().optional(),
  item_count: int().min(0).nullable().optional(),
  items: z.array(
    z.object({
      name: z.string().describe('service-account or instance-profile name'),
      kind: z.string(),
      status: z.enum(['SUCCEEDED', 'FAILED', 'SUPERSEDED']),
      error: runErrorSchema.optional(),
    }),
  ),
  resources: z.array(provisioningResourceSchema),
  lingering: z.array(provisioningResourceSchema).optional().describe('identities this cloud made that the version no longer wants (e.g. after a stack change), still in place'),
});

export const driftFindingSchema = z.looseObject({
  kind: z.string().describe('role-missing, trust-policy-widened, ... (lib/drift/kinds.ts)'),
  name: z.string().describe('the resource: a role name, <namespace>/<sa>, <role>/<policy>, an instance-profile name'),
  expected: z.unknown().describe('what the plan of the config version says'),
  actual: z.unknown().describe('what the target holds now'),
  severity: z.enum(['critical', 'high', 'medium', 'low']).optional(),
  message: z.string().optional(),
  resource: z.string().optional().describe('iam-role, trust-policy, permission-policy, managed-policy, service-account, instance-profile'),
  item: z.string().optional().describe('the plan item a repair would re-provision'),
  cluster: z.string().optional(),
  namespace: z.string().optional(),
  repairable: z.boolean().optional(),
});

const DRIFT_STATUSES = ['clean', 'drifted', 'nothing-to-compare'] as const;
const countsSchema = z.record(z.string(), int().min(0));

export const driftReportSchema = z.looseObject({
  cloud_deployment_id: z.string().optional(),
  checked_at: timestamp(),
  status: z.enum(DRIFT_STATUSES).optional(),
  drifted: z.boolean(),
  config_version: int().min(1).nullable().optional().describe('the version compared against (the latest whose run SUCCEEDED)'),
  latest_version: int().min(1).nullable().optional(),
  mode: z.enum(['off', 'report', 'repair']).optional(),
  reason: z.string().optional(),
  findings: z.array(driftFindingSchema),
  summary: z.looseObject({ total: int().min(0), by_kind: countsSchema, by_severity: countsSchema }).optional(),
  repair: z
    .looseObject({
      items: z.array(z.string()),
      execution_id: z.string().optional(),
      deleted: z.array(z.string()),
      errors: z.array(z.string()),
      skipped: int().min(0),
    })
    .optional(),
  observed: z.record(z.string(), int().min(0)).optional(),
  duration_ms: z.number().min(0).optional(),
  trigger: z.enum(['api', 'schedule']).optional(),
  findings_truncated: int().min(0).optional(),
});

export const driftReportsSchema = z.object({
  cloud_deployment_id: z.string(),
  reports: z
    .array(
      z.looseObject({
        checked_at: timestamp(),
        status: z.enum(DRIFT_STATUSES),
        drifted: z.boolean(),
        config_version: int().min(1).nullable(),
        finding_count: int().min(0),
        by_severity: countsSchema,
      }),
    )
    .describe('newest first'),
});

/** Body of POST .../drift-checks (optional): `repair` re-provisions what drifted (mode repair). */
export const driftCheckRequestSchema = z.strictObject({ repair: z.boolean().optional() });

export const openApiDocumentSchema = z.looseObject({
  openapi: z.string().regex(/^3\.1\.\d+$/),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

/** Named components: every schema here becomes `#/components/schemas/<name>`. */
export const COMPONENTS = {
  Error: errorResponseSchema,
  ErrorDetail: errorDetailSchema,
  Health: healthSchema,
  MappingConfig: mappingConfigSchema,
  DataplaneIamMapping: dataplaneIamMappingSchema,
  Rule: ruleSchema,
  StoredConfig: storedConfigSchema,
  ConfigPutResponse: configPutResponseSchema,
  LintWarning: lintWarningSchema,
  VersionMeta: versionMetaSchema,
  Versions: versionsResponseSchema,
  ResolveRequest: resolveRequestSchema,
  ResolveResponse: resolveResponseSchema,
  TraceEntry: traceEntrySchema,
  ProvisioningStatus: provisioningStatusSchema,
  ProvisioningResource: provisioningResourceSchema,
  DriftReport: driftReportSchema,
  DriftReports: driftReportsSchema,
  DriftCheckRequest: driftCheckRequestSchema,
  DriftFinding: driftFindingSchema,
  OpenApiDocument: openApiDocumentSchema,
} as const satisfies Record<string, z.core.$ZodType>;
export type ComponentName = keyof typeof COMPONENTS;

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

export interface RouteLike {
  method: string;
  path: string;
  auth: boolean;
}

interface Param {
  name: string;
  in: 'query' | 'header';
  description: string;
  schema: z.ZodType;
  required?: boolean;
}

interface ResponseSpec {
  description: string;
  /** The body's schema; none for a response without a body (304). */
  schema?: ComponentName;
  /** Also served as YAML (`Accept: application/yaml`). */
  yaml?: boolean;
  etag?: boolean;
}

export interface OperationSpec {
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Roles allowed (CONTRACT §2); empty = no auth. */
  roles: readonly string[];
  params?: Param[];
  body?: { schema: ComponentName; yaml?: boolean; description: string; optional?: boolean };
  responses: Record<number, ResponseSpec>;
}

const ALL = ['owner', 'control-plane', 'viewer'] as const;
const cloudParam = {
  name: 'cloud',
  in: 'path',
  required: true,
  description: 'the cloud_deployment_id, e.g. cldrsrc_XXXX',
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$' },
} as const;
const positive = z.string().regex(/^[1-9]\d{0,9}$/);

const err = (description: string): ResponseSpec => ({ description, schema: 'Error' });
const AUTH_ERRORS = { 401: err('missing or invalid bearer token'), 403: err('role not allowed') };
const NO_CONFIG = { 404: err('the cloud has no config (or no such version)') };
const UNAVAILABLE = { 503: err('a dependency (the store) is unavailable; retry (Retry-After)') };

export const OPERATIONS: Record<string, OperationSpec> = {
  'GET /v1/healthz': {
    operationId: 'healthz',
    summary: 'Liveness: no auth, no store access',
    tag: 'service',
    roles: [],
    responses: { 200: { description: 'alive', schema: 'Health' } },
  },
  'GET /v1/openapi.json': {
    operationId: 'getOpenApi',
    summary: 'This document',
    tag: 'service',
    roles: [],
    responses: { 200: { description: 'the OpenAPI 3.1 document', schema: 'OpenApiDocument' } },
  },
  'PUT /v1/clouds/{cloud}/iam-mapping': {
    operationId: 'putMappingConfig',
    summary: 'Store a new config version',
    description:
      'Body as `anyscale cloud config get` prints it (YAML or JSON). The new version starts a provisioning run. ' +
      'With If-Match, the write succeeds only while the latest version has that etag.',
    tag: 'config',
    roles: ['owner'],
    params: [
      { name: 'If-Match', in: 'header', description: 'etag of the version this edit is based on', schema: z.string() },
      { name: 'confirm_stack_change', in: 'query', description: '`true` confirms a change of cloud_provider or compute_stack (also header X-Confirm-Stack-Change: true)', schema: z.enum(['true', 'false']) },
    ],
    body: { schema: 'MappingConfig', yaml: true, description: 'the mapping config' },
    responses: {
      200: { description: 'stored as a new version', schema: 'ConfigPutResponse', etag: true },
      400: err('INVALID_CONFIG: details point at each bad field (YAML line/column; rule_index and position for selectors)'),
      ...AUTH_ERRORS,
      409: err('CONFLICT: the config changes cloud_provider or compute_stack without confirm_stack_change=true'),
      412: err('PRECONDITION_FAILED: If-Match is not the latest version'),
      413: err('body too large'),
      415: err('unsupported Content-Type'),
      ...UNAVAILABLE,
    },
  },
  'GET /v1/clouds/{cloud}/iam-mapping': {
    operationId: 'getMappingConfig',
    summary: 'The current (or a given) config version',
    tag: 'config',
    roles: ALL,
    params: [
      { name: 'version', in: 'query', description: 'a past version (default: the latest)', schema: positive },
      { name: 'If-None-Match', in: 'header', description: 'etag; 304 when unchanged', schema: z.string() },
    ],
    responses: {
      200: { description: 'the config with its version; YAML with Accept: application/yaml', schema: 'StoredConfig', yaml: true, etag: true },
      304: { description: 'not modified: If-None-Match names this version', etag: true },
      400: err('bad version parameter'),
      ...AUTH_ERRORS,
      ...NO_CONFIG,
      ...UNAVAILABLE,
    },
  },
  'GET /v1/clouds/{cloud}/iam-mapping/versions': {
    operationId: 'listMappingConfigVersions',
    summary: 'Version history, newest first',
    tag: 'config',
    roles: ALL,
    params: [
      { name: 'limit', in: 'query', description: 'at most this many (default 100, max 1000)', schema: positive },
      { name: 'before', in: 'query', description: 'only versions before this one (paging)', schema: positive },
    ],
    responses: { 200: { description: 'the history', schema: 'Versions' }, 400: err('bad parameter'), ...AUTH_ERRORS, ...NO_CONFIG, ...UNAVAILABLE },
  },
  'POST /v1/clouds/{cloud}/iam-mapping/resolve': {
    operationId: 'resolveIdentity',
    summary: 'Which identity a launch gets',
    description: 'First matching rule wins; else the fallback. With cluster_id, the first answer for that cluster is kept and returned again.',
    tag: 'resolve',
    roles: ['owner', 'control-plane'],
    params: [{ name: 'explain', in: 'query', description: 'add the per-rule trace', schema: z.enum(['true', 'false', '1', '0', '']) }],
    body: { schema: 'ResolveRequest', description: 'the launch' },
    responses: {
      200: { description: 'the identity', schema: 'ResolveResponse' },
      400: err('invalid request'),
      ...AUTH_ERRORS,
      ...NO_CONFIG,
      415: err('Content-Type must be application/json'),
      422: err('NO_MATCHING_RULE: no rule matches and fallback_rule is FAIL (details: why each rule did not match)'),
      ...UNAVAILABLE,
    },
  },
  'GET /v1/clouds/{cloud}/iam-mapping/provisioning': {
    operationId: 'getProvisioningStatus',
    summary: 'Provisioning run of the latest (or a given) version',
    tag: 'provisioning',
    roles: ALL,
    params: [{ name: 'version', in: 'query', description: 'a past version (default: the latest)', schema: positive }],
    responses: { 200: { description: 'the run', schema: 'ProvisioningStatus' }, ...AUTH_ERRORS, ...NO_CONFIG, ...UNAVAILABLE },
  },
  'POST /v1/clouds/{cloud}/drift-checks': {
    operationId: 'runDriftCheck',
    summary: 'Run a drift check now and return its report',
    description: 'Compares what the latest successfully provisioned version made with what IAM and Kubernetes hold now. With `{"repair": true}` (or drift mode repair) also re-provisions what drifted.',
    tag: 'drift',
    roles: ['owner'],
    body: { schema: 'DriftCheckRequest', description: 'optional', optional: true },
    responses: {
      200: { description: 'the report', schema: 'DriftReport' },
      400: err('invalid request'),
      ...AUTH_ERRORS,
      ...NO_CONFIG,
      ...UNAVAILABLE,
    },
  },
  'GET /v1/clouds/{cloud}/drift-checks/latest': {
    operationId: 'getLatestDriftReport',
    summary: 'The latest drift report',
    tag: 'drift',
    roles: ALL,
    responses: { 200: { description: 'the report', schema: 'DriftReport' }, ...AUTH_ERRORS, 404: err('no drift check has run yet'), ...UNAVAILABLE },
  },
  'GET /v1/clouds/{cloud}/drift-checks': {
    operationId: 'listDriftReports',
    summary: 'Drift report history, newest first',
    tag: 'drift',
    roles: ALL,
    params: [{ name: 'limit', in: 'query', description: 'at most this many (1..100, default 20)', schema: positive }],
    responses: { 200: { description: 'report summaries', schema: 'DriftReports' }, 400: err('bad limit'), ...AUTH_ERRORS, ...UNAVAILABLE },
  },
};

export const operationKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** The zod schema of a documented response, for checks of real responses. */
export function responseSchema(method: string, path: string, status: number): z.core.$ZodType | undefined {
  const spec = OPERATIONS[operationKey(method, path)]?.responses[status];
  return spec?.schema ? COMPONENTS[spec.schema] : undefined;
}

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

type JsonSchema = Record<string, unknown>;

let componentCache: Record<string, JsonSchema> | undefined;

/** `components.schemas`: every named zod schema converted once, shared parts as `$ref`s. */
export function componentSchemas(): Record<string, JsonSchema> {
  if (componentCache) return componentCache;
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'output',
    // Refinements (e.g. the provisioning settings' character checks) cannot be expressed; the
    // shape still is, and the server's 400 details say the rest.
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema;
    out[id] = rest;
  }
  return (componentCache = out);
}

function paramSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });

function operationObject(route: RouteLike, spec: OperationSpec | undefined): JsonSchema {
  if (!spec) {
    return {
      summary: `${route.method} ${route.path}`,
      description: 'Not described yet.',
      ...(route.auth ? { security: [{ bearer: [] }] } : { security: [] }),
      responses: { default: { description: 'see the error model', content: { 'application/json': { schema: ref('Error') } } } },
    };
  }
  const parameters: JsonSchema[] = [];
  if (route.path.includes('{cloud}')) parameters.push(cloudParam);
  for (const p of spec.params ?? []) {
    parameters.push({ name: p.name, in: p.in, description: p.description, required: p.required ?? false, schema: paramSchema(p.schema) });
  }
  const responses: JsonSchema = {};
  for (const [status, r] of Object.entries(spec.responses)) {
    const content: JsonSchema = {};
    if (r.schema) content['application/json'] = { schema: ref(r.schema) };
    if (r.schema && r.yaml) content['application/yaml'] = { schema: ref(r.schema) };
    responses[status] = {
      description: r.description,
      ...(r.etag ? { headers: { ETag: { description: 'entity tag of the version (quoted)', schema: { type: 'string' } } } } : {}),
      ...(r.schema ? { content } : {}),
    };
  }
  const roles = spec.roles.length ? `\n\nRoles: ${spec.roles.join(', ')}.` : '\n\nNo authentication.';
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    description: `${spec.description ?? spec.summary}${roles}`,
    tags: [spec.tag],
    security: route.auth ? [{ bearer: [] }] : [],
    ...(parameters.length ? { parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: !spec.body.optional,
            description: spec.body.description,
            content: {
              'application/json': { schema: ref(spec.body.schema) },
              ...(spec.body.yaml ? { 'application/yaml': { schema: ref(spec.body.schema) } } : {}),
            },
          },
        }
      : {}),
    responses,
  };
}

export interface OpenApiOptions {
  /** The server URL(s) to list; default: the same origin. */
  servers?: string[];
  version?: string;
}

/** The OpenAPI 3.1 document for the given routes (the routing table of the server). */
export function buildOpenApiDocument(routes: readonly RouteLike[], options: OpenApiOptions = {}): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    item[route.method.toLowerCase()] = operationObject(route, OPERATIONS[operationKey(route.method, route.path)]);
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'IAM mapping service',
      version: options.version ?? '1.0.0',
      description:
        'Decides which cloud identity every ML cluster runs with (first matching rule of the cloud IAM mapping config), ' +
        'and makes that identity real (EKS IRSA). Errors always have the body `{"error":{"code","message","details"}}`.',
    },
    servers: (options.servers ?? ['/']).map((url) => ({ url })),
    tags: [
      { name: 'config', description: 'mapping config versions' },
      { name: 'resolve', description: 'the hot path of the control plane' },
      { name: 'provisioning', description: 'what the latest version made real' },
      { name: 'drift', description: 'differences between what was provisioned and what is there now' },
      { name: 'service', description: 'health and this document' },
    ],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a JWT whose `role` claim is owner, control-plane or viewer' } },
      schemas: componentSchemas(),
    },
  };
}
