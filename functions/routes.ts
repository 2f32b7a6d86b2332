/**
 * THE route table of the HTTP API: per route its method and path, the permission it needs, its
 * request and response schemas, the use case it calls and the function that serves it. Everything
 * else is derived from it: each function's routing (functions/http/handler.ts), the local
 * server's routing, the OpenAPI document (functions/http/openapi.ts), and the input and reply
 * types of each use case; serverless.yml's `httpApi` events are checked against it by a test.
 *
 * Adding a route: an entry here, its use case in the function's operations (the compiler asks
 * for it), and its `httpApi` line in serverless.yml (the test asks for it).
 */
import * as s from './http/schemas.js';
import { MAPPING_CONFIG, STORED_CONFIG, type FunctionName, type ResponseSpec, type RouteReply, type RouteSpec, type SchemaOfStatus } from './http/route.js';

export type { FunctionName, RouteSpec } from './http/route.js';

const err = (description: string): ResponseSpec => ({ description, schema: s.errorResponseSchema });
const AUTH = { 401: err('missing or invalid bearer token'), 403: err('role not allowed') };
const NO_CONFIG = { 404: err('the cloud has no config (or no such version)') };
const BAD = { 400: err('invalid request: the details name the field') };
/** A `{cloud}` path segment that is not a cloud id (`/v1/clouds/bad%20id/...`): every `/v1/clouds/{cloud}` route without a query or body of its own to refuse. */
const BAD_CLOUD = { 400: err('INVALID_REQUEST: the cloud id in the path is not valid (details: `cloud`)') };
/** A request body over MAX_BODY_BYTES (functions/http.ts, local/server.ts): every route with a body. */
const TOO_LARGE = { 413: err('PAYLOAD_TOO_LARGE: the request body is over 5 MiB') };
/** A reply over what a Lambda may return uncompressed, to a request that does not accept gzip (functions/http/response-size.ts): every route with a reply body. */
const LARGE = { 406: err('NOT_ACCEPTABLE: the answer is over the 6 MB a function can return uncompressed; send Accept-Encoding: gzip') };
const DOWN = { 503: err('a dependency (the store) is unavailable; retry (Retry-After)') };
const IF_MATCH = { name: 'If-Match', description: 'etag of the version this edit is based on (`*`: any existing version)' };

export const ROUTES = [
  {
    method: 'GET',
    path: '/v1/healthz',
    fn: 'healthz',
    permission: null,
    useCase: 'health',
    summary: 'Liveness: no auth, no store access',
    tag: 'service',
    responses: { 200: { description: 'alive', schema: s.healthSchema } },
  },
  {
    method: 'GET',
    path: '/v1/openapi.json',
    fn: 'openapi',
    permission: null,
    useCase: 'openApiDocument',
    summary: 'This document',
    tag: 'service',
    responses: { 200: { description: 'the OpenAPI 3.1 document', schema: s.openApiDocumentSchema } },
  },
  {
    method: 'GET',
    path: '/v1/clouds',
    fn: 'config',
    permission: 'read',
    useCase: 'listClouds',
    summary: 'The clouds in the token’s scope that have a config',
    tag: 'config',
    responses: { 200: { description: 'by cloud id, each with its latest version', schema: s.cloudListSchema }, ...AUTH, ...LARGE, ...DOWN },
  },
  {
    method: 'PUT',
    path: '/v1/clouds/{cloud}/iam-mapping',
    fn: 'config',
    permission: 'write',
    useCase: 'putConfig',
    summary: 'Store a new config version',
    description:
      'Body as `anyscale cloud config get` prints it (YAML or JSON). The new version starts a provisioning run. ' +
      'With If-Match, the write succeeds only while the latest version has that etag (412 names the version, who stored it and when). ' +
      'A document equal to the current version stores nothing and starts no run: 200 with that version, its etag and `unchanged: true`.',
    tag: 'config',
    request: {
      query: s.putConfigQuerySchema,
      body: MAPPING_CONFIG,
      headers: [IF_MATCH, { name: 'X-Confirm-Stack-Change', description: '`true` confirms a change of cloud_provider or compute_stack' }],
    },
    responses: {
      200: { description: 'stored as a new version, or `unchanged: true` with the current version', schema: s.configPutResponseSchema, etag: true },
      400: err(
        'INVALID_CONFIG: details point at each bad field (YAML line/column; rule_index and position for selectors); INVALID_REQUEST for a bad cloud id or query',
      ),
      ...AUTH,
      ...LARGE,
      409: err('CONFLICT: the config changes cloud_provider or compute_stack without confirm_stack_change=true'),
      412: err('PRECONDITION_FAILED: If-Match is not the latest version; the message names version N, who stored it and when'),
      ...TOO_LARGE,
      415: err('unsupported Content-Type'),
      ...DOWN,
    },
  },
  {
    method: 'GET',
    path: '/v1/clouds/{cloud}/iam-mapping',
    fn: 'config',
    permission: 'read',
    useCase: 'getConfig',
    summary: 'The current (or a given) config version',
    tag: 'config',
    request: { query: s.configQuerySchema, headers: [{ name: 'If-None-Match', description: 'etag; 304 when unchanged' }] },
    responses: {
      200: { description: 'the config with its version; YAML with Accept: application/yaml', schema: STORED_CONFIG, yaml: true, etag: true },
      304: { description: 'not modified: If-None-Match names this version', etag: true },
      ...BAD,
      ...AUTH,
      ...LARGE,
      ...NO_CONFIG,
      ...DOWN,
    },
  },
  {
    method: 'GET',
    path: '/v1/clouds/{cloud}/iam-mapping/versions',
    fn: 'config',
    permission: 'read',
    useCase: 'listVersions',
    summary: 'Version history, newest first',
    tag: 'config',
    request: { query: s.versionsQuerySchema },
    responses: { 200: { description: 'the history', schema: s.versionsResponseSchema }, ...BAD, ...AUTH, ...LARGE, ...NO_CONFIG, ...DOWN },
  },
  {
    method: 'POST',
    path: '/v1/clouds/{cloud}/iam-mapping/resolve',
    fn: 'resolve',
    permission: 'resolve',
    useCase: 'resolve',
    summary: 'Which identity a launch gets',
    description: 'First matching rule wins; else the fallback. With cluster_id, the first answer for that cluster is kept and returned again.',
    tag: 'resolve',
    request: { query: s.resolveQuerySchema, body: s.resolveRequestSchema },
    responses: {
      200: { description: 'the identity', schema: s.resolveResponseSchema },
      ...BAD,
      ...AUTH,
      ...LARGE,
      ...NO_CONFIG,
      ...TOO_LARGE,
      415: err('Content-Type must be application/json'),
      422: err('NO_MATCHING_RULE: no rule matches and fallback_rule is FAIL (details: why each rule did not match)'),
      ...DOWN,
    },
  },
  {
    method: 'POST',
    path: '/v1/clouds/{cloud}/iam-mapping/plan',
    fn: 'drift',
    permission: 'write',
    useCase: 'planConfig',
    summary: 'Plan a draft config: what provisioning would create, change or delete now (nothing stored)',
    description:
      'Body as for PUT (YAML or JSON), validated and linted as PUT does it; nothing is stored and no run starts. ' +
      'IAM and Kubernetes are only read. Answers the changes (policies as statement diffs), what provisioning would leave alone, ' +
      'and the sample launches whose identity would change.',
    tag: 'config',
    request: { body: MAPPING_CONFIG },
    responses: {
      200: { description: 'the plan', schema: s.planResponseSchema },
      400: err(
        'INVALID_CONFIG: as for PUT (every problem), or the draft could not be provisioned (a cluster not found, a trust policy over its quota); INVALID_REQUEST for a bad cloud id',
      ),
      ...AUTH,
      ...LARGE,
      ...TOO_LARGE,
      415: err('unsupported Content-Type'),
      ...DOWN,
    },
  },
  {
    method: 'GET',
    path: '/v1/clouds/{cloud}/iam-mapping/bindings',
    fn: 'config',
    permission: 'read',
    useCase: 'listBindings',
    summary: 'The clusters pinned by sticky resolution',
    tag: 'resolve',
    responses: { 200: { description: 'by cluster id', schema: s.bindingListSchema }, ...BAD_CLOUD, ...AUTH, ...LARGE, ...DOWN },
  },
  {
    method: 'DELETE',
    path: '/v1/clouds/{cloud}/iam-mapping/bindings/{cluster_id}',
    fn: 'config',
    permission: 'write',
    useCase: 'forgetBinding',
    summary: 'Forget one pinned cluster: its next resolve follows the current version',
    tag: 'resolve',
    responses: { 204: { description: 'forgotten (audited)' }, ...BAD, ...AUTH, 404: err('the cluster is not pinned'), ...DOWN },
  },
  {
    method: 'GET',
    path: '/v1/clouds/{cloud}/iam-mapping/provisioning',
    fn: 'provisioningStatus',
    permission: 'read',
    useCase: 'provisioningStatus',
    summary: 'Provisioning run of the latest (or a given) version',
    tag: 'provisioning',
    request: { query: s.versionQuerySchema },
    responses: { 200: { description: 'the run', schema: s.provisioningStatusSchema }, ...BAD, ...AUTH, ...LARGE, ...NO_CONFIG, ...DOWN },
  },
  {
    method: 'POST',
    path: '/v1/clouds/{cloud}/drift-checks',
    fn: 'drift',
    permission: 'drift:run',
    useCase: 'runDriftCheck',
    summary: 'Run a drift check now and return its report',
    description:
      'Compares what the latest successfully provisioned version made with what IAM and Kubernetes hold now. ' +
      'With `{"repair": true}` (or drift mode repair) also re-provisions what drifted. ' +
      "A check that takes longer than the deployment's deadline (DRIFT_DEADLINE_SECONDS, 20 s by default: a request must end within API Gateway's 30 s) " +
      'goes on in the drift worker and the answer is 202; its report then appears at `GET …/drift-checks/latest`.',
    tag: 'drift',
    request: { body: s.driftCheckRequestSchema, optionalBody: true },
    responses: {
      200: { description: 'the report', schema: s.driftReportSchema },
      202: {
        description: 'the check outlasted the deadline (or one of the same kind is already pending) and goes on in the drift worker; poll the report',
        schema: s.driftCheckAcceptedSchema,
        headers: [
          { name: 'Location', description: 'the path of the latest report (GET it until its checked_at is at or after requested_at)' },
          { name: 'Retry-After', description: 'seconds before polling is worth it' },
        ],
      },
      ...BAD,
      ...AUTH,
      ...LARGE,
      ...NO_CONFIG,
      409: err('the latest version is still being provisioned'),
      ...TOO_LARGE,
      ...DOWN,
    },
  },
  {
    method: 'GET',
    path: '/v1/clouds/{cloud}/drift-checks',
    fn: 'drift',
    permission: 'read',
    useCase: 'driftHistory',
    summary: 'Drift report history, newest first',
    tag: 'drift',
    request: { query: s.driftHistoryQuerySchema },
    responses: { 200: { description: 'report summaries', schema: s.driftReportsSchema }, ...BAD, ...AUTH, ...LARGE, ...DOWN },
  },
  {
    method: 'GET',
    path: '/v1/clouds/{cloud}/drift-checks/background',
    fn: 'drift',
    permission: 'read',
    useCase: 'backgroundDriftChecks',
    summary: 'On-demand drift checks going on in the background',
    description:
      'The checks a 202 handed to the drift worker that are still running, and those that failed there in the last 10 minutes (with why: a failed check stores no report). ' +
      'A client waiting for the report of its 202 stops when its `requested_at` shows up failed.',
    tag: 'drift',
    responses: { 200: { description: 'the checks', schema: s.backgroundDriftChecksSchema }, ...BAD_CLOUD, ...AUTH, ...LARGE, ...DOWN },
  },
  {
    method: 'GET',
    path: '/v1/clouds/{cloud}/drift-checks/latest',
    fn: 'drift',
    permission: 'read',
    useCase: 'latestDriftReport',
    summary: 'The latest drift report',
    tag: 'drift',
    responses: {
      200: { description: 'the report', schema: s.driftReportSchema },
      ...BAD_CLOUD,
      ...AUTH,
      ...LARGE,
      404: err('no drift check has run yet'),
      ...DOWN,
    },
  },
] as const satisfies readonly RouteSpec[];

export type Route = (typeof ROUTES)[number];
/** The route of a use case. */
export type RouteOf<U extends Route['useCase']> = Extract<Route, { useCase: U }>;
/**
 * What a client of the route of use case U gets (the CLI's types): its 2xx body, or with S the
 * body of that status — `z.infer` of the schemas above, the ones OpenAPI publishes.
 */
export type ReplyOf<U extends Route['useCase'], S extends keyof RouteOf<U>['responses'] | undefined = undefined> = S extends keyof RouteOf<U>['responses']
  ? SchemaOfStatus<RouteOf<U>, S>
  : RouteReply<RouteOf<U>>;
/** The routes a function serves. */
export type RoutesOf<F extends FunctionName> = Extract<Route, { fn: F }>;

export const routeKey = (route: { method: string; path: string }) => `${route.method} ${route.path}`;

export interface RouteMatch {
  route: Route;
  /** The route's `METHOD /path` (API Gateway's routeKey). */
  key: string;
  pathParameters: Readonly<Record<string, string>>;
}

const compiled = ROUTES.map((route) => ({
  route: route,
  key: routeKey(route),
  names: [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string),
  regex: new RegExp(`^${route.path.replace(/\{\w+\}/g, '([^/]+)')}/?$`),
}));

type Matched = Readonly<{ match?: Readonly<RouteMatch>; allowed: readonly string[] }>;

/** Recent answers by `METHOD path`: a control plane resolves on a few paths over and over. Bounded (emptied when full). */
const recent = new Map<string, Matched>();
const RECENT_MAX = 1024;

/** The route for a method and path (the local stand-in for API Gateway); `allowed` lists the path's methods when none matches. */
export function matchRoute(method: string, path: string): Matched {
  const cacheKey = `${method} ${path}`;
  const known = recent.get(cacheKey);
  if (known) return known;
  const found = findRoute(method, path);
  if (recent.size >= RECENT_MAX) recent.clear();
  recent.set(cacheKey, found);
  return found;
}

function findRoute(method: string, path: string): Matched {
  const allowed: string[] = [];
  for (const { route, key, names, regex } of compiled) {
    const m = regex.exec(path);
    if (!m) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    const pathParameters: Record<string, string> = {};
    names.forEach((name, i) => (pathParameters[name] = m[i + 1] as string));
    return Object.freeze({ match: Object.freeze({ route, key, pathParameters: Object.freeze(pathParameters) }), allowed: Object.freeze(allowed) });
  }
  return Object.freeze({ allowed: Object.freeze(allowed) });
}
