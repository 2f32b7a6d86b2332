/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route table and its zod schemas:
 * every route's parameters, bodies and responses, with `z.toJSONSchema()` turning the schemas
 * into `components.schemas` (named below; shared parts as `$ref`s). Nothing here is a hand-written
 * JSON schema, and tests check real responses against both the document and the zod schemas.
 */
import { z } from 'zod';
import { dataplaneIamMappingSchema, mappingConfigSchema, ruleSchema } from '../../lib/config/schema.js';
import { ROUTES, routeKey, type Route } from '../routes.js';
import { MAPPING_CONFIG, STORED_CONFIG, type RouteSpec, type Schema } from './route.js';
import * as s from './schemas.js';

export const storedConfigSchema = mappingConfigSchema
  .extend({ version: z.number().int().min(1).describe('the version this document is') })
  .describe('A stored config version: the document as accepted, plus `version`.');

/** Named components: each becomes `#/components/schemas/<name>` and is referenced wherever it is used. */
export const COMPONENTS = {
  Error: s.errorResponseSchema,
  ErrorDetail: s.errorDetailSchema,
  Health: s.healthSchema,
  [MAPPING_CONFIG]: mappingConfigSchema,
  DataplaneIamMapping: dataplaneIamMappingSchema,
  Rule: ruleSchema,
  [STORED_CONFIG]: storedConfigSchema,
  ConfigPutResponse: s.configPutResponseSchema,
  LintWarning: s.lintWarningSchema,
  VersionMeta: s.versionMetaSchema,
  Versions: s.versionsResponseSchema,
  ResolveRequest: s.resolveRequestSchema,
  ResolveResponse: s.resolveResponseSchema,
  TraceEntry: s.traceEntrySchema,
  ProvisioningStatus: s.provisioningStatusSchema,
  ProvisioningResource: s.provisioningResourceSchema,
  DriftReport: s.driftReportSchema,
  DriftReports: s.driftReportsSchema,
  DriftReportSummary: s.driftReportSummarySchema,
  DriftCheckRequest: s.driftCheckRequestSchema,
  DriftFinding: s.driftFindingSchema,
  OpenApiDocument: s.openApiDocumentSchema,
} as const satisfies Record<string, z.core.$ZodType>;
export type ComponentName = keyof typeof COMPONENTS;

/** The zod schema of a route's response (a schema of the table, or a named config component). */
export function schemaOf(spec: Schema | string): z.core.$ZodType {
  return typeof spec === 'string' ? COMPONENTS[spec as ComponentName] : spec;
}

/** The zod schema of a documented response, for checks of real responses. */
export function responseSchema(method: string, path: string, status: number): z.core.$ZodType | undefined {
  const route = ROUTES.find((r) => r.method === method.toUpperCase() && r.path === path) as RouteSpec | undefined;
  const spec = route?.responses[status]?.schema;
  return spec === undefined ? undefined : schemaOf(spec);
}

type JsonSchema = Record<string, unknown>;

let components: { byName: Record<string, JsonSchema>; names: Map<z.core.$ZodType, string> } | undefined;

function componentSchemas() {
  if (components) return components;
  const registry = z.registry<{ id: string }>();
  const names = new Map<z.core.$ZodType, string>();
  for (const [id, schema] of Object.entries(COMPONENTS)) {
    registry.add(schema, { id });
    names.set(schema, id);
  }
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'output',
    // Refinements (e.g. the provisioning settings' character checks) cannot be expressed; the
    // shape still is, and the server's 400 details say the rest.
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  const byName: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema;
    byName[id] = rest;
  }
  return (components = { byName, names });
}

/** A schema as JSON Schema: a `$ref` when it is a named component, else inline. */
function jsonSchema(schema: Schema | string, io: 'input' | 'output' = 'output'): JsonSchema {
  const zod = schemaOf(schema);
  const name = componentSchemas().names.get(zod);
  if (name) return { $ref: `#/components/schemas/${name}` };
  const { $schema: _s, ...rest } = z.toJSONSchema(zod, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const CLOUD_PARAM = {
  name: 'cloud',
  in: 'path',
  required: true,
  description: 'the cloud_deployment_id, e.g. cldrsrc_XXXX',
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$' },
} as const;

const ROLES_OF: Record<string, string> = {
  read: 'owner, control-plane, viewer',
  resolve: 'owner, control-plane',
  write: 'owner',
  'drift:run': 'owner',
};

function operationObject(route: RouteSpec): JsonSchema {
  const parameters: JsonSchema[] = [];
  for (const m of route.path.matchAll(/\{(\w+)\}/g)) {
    const name = m[1] as string;
    parameters.push(name === 'cloud' ? CLOUD_PARAM : { name, in: 'path', required: true, schema: { type: 'string' } });
  }
  const query = route.request?.query;
  if (query) {
    const shape = jsonSchema(query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(shape.properties ?? {})) {
      const { description, ...rest } = schema;
      parameters.push({ name, in: 'query', required: shape.required?.includes(name) ?? false, ...(description ? { description } : {}), schema: rest });
    }
  }
  for (const h of route.request?.headers ?? [])
    parameters.push({ name: h.name, in: 'header', required: false, description: h.description, schema: { type: 'string' } });
  const responses: JsonSchema = {};
  for (const [status, r] of Object.entries(route.responses)) {
    const content: JsonSchema = {};
    if (r.schema) content['application/json'] = { schema: jsonSchema(r.schema) };
    if (r.schema && r.yaml) content['application/yaml'] = { schema: jsonSchema(r.schema) };
    const headers: JsonSchema = {
      ...(r.etag ? { ETag: { description: 'entity tag of the version (quoted)', schema: { type: 'string' } } } : {}),
      ...Object.fromEntries((r.headers ?? []).map((h) => [h.name, { description: h.description, schema: { type: 'string' } }])),
    };
    responses[status] = {
      description: r.description,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      ...(r.schema ? { content } : {}),
    };
  }
  // What the edge can answer on any route besides the route's own statuses (documented once, in components.responses).
  responses.default = { $ref: '#/components/responses/EdgeError' };
  const body = route.request?.body;
  const roles = route.permission ? `\n\nRoles: ${ROLES_OF[route.permission]}.` : '\n\nNo authentication.';
  return {
    operationId: route.useCase,
    summary: route.summary,
    description: `${route.description ?? route.summary}${roles}`,
    tags: [route.tag],
    security: route.permission ? [{ bearer: [] }] : [],
    ...(parameters.length ? { parameters } : {}),
    ...(body
      ? {
          requestBody: {
            required: !route.request?.optionalBody,
            content: {
              'application/json': { schema: jsonSchema(body, 'input') },
              ...(body === MAPPING_CONFIG ? { 'application/yaml': { schema: jsonSchema(body, 'input') } } : {}),
            },
          },
        }
      : {}),
    responses,
  };
}

/** The `default` response of every operation: what the HTTP edge answers on any route, not one route's own statuses. */
const EDGE_ERROR = {
  description:
    'Any other error of the HTTP edge, in the error body: 431 HEADER_TOO_LARGE (request headers over 16 KiB, or an Authorization value over 8 KiB), ' +
    '400 INVALID_REQUEST for a request that cannot be parsed (the local server also answers 408 for one that does not arrive in time).',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
} as const;

export interface OpenApiOptions {
  /** The server URL(s) to list; default: the same origin. */
  servers?: string[];
  version?: string;
}

/** The OpenAPI 3.1 document of the routes (default: the whole table). */
export function buildOpenApiDocument(routes: readonly Route[] = ROUTES, options: OpenApiOptions = {}): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method.toLowerCase()] = operationObject(route);
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'IAM mapping service',
      version: options.version ?? '1.0.0',
      description:
        'Decides which cloud identity every ML cluster runs with (first matching rule of the cloud IAM mapping config), ' +
        'and makes that identity real (EKS IRSA). Errors always have the body `{"error":{"code","message","details"}}`. ' +
        'A method a path does not serve is 405 METHOD_NOT_ALLOWED with an `Allow` header listing the methods it does; HEAD is served as GET without a body. ' +
        "request headers over the server's limit are 431 HEADER_TOO_LARGE (see each operation's `default` response).",
    },
    servers: (options.servers ?? ['/']).map((url) => ({ url })),
    tags: [
      { name: 'config', description: 'mapping config versions, the clouds that have one, pinned clusters' },
      { name: 'resolve', description: 'the hot path of the control plane' },
      { name: 'provisioning', description: 'what the latest version made real' },
      { name: 'drift', description: 'differences between what was provisioned and what is there now' },
      { name: 'service', description: 'health and this document' },
    ],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a JWT whose `role` claim is owner, control-plane or viewer' },
      },
      schemas: componentSchemas().byName,
      responses: { EdgeError: EDGE_ERROR },
    },
  };
}

/** Route keys (`GET /v1/...`) of the document, for tests. */
export const documentedKeys = (doc: { paths: Record<string, Record<string, unknown>> }) =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => routeKey({ method: m.toUpperCase(), path })));
