/**
 * Kubernetes API HTTP front end: discovery (`/version`, `/api`, `/api/v1`, `/apis`, `/openapi/v3`), core/v1
 * Namespaces and ServiceAccounts (list/get/create/replace/patch/delete), Status errors, and
 * meta.k8s.io/v1 Table rendering for `kubectl get`.
 */
import { createHash } from 'node:crypto';
import { RESOURCES, K8sError, VERBS_FOR_DISCOVERY, type K8sObject, type ResourceDef } from './k8s-resources.js';
import type { K8sState } from './k8s-state.js';
import type { FaultSpec, Operation, Reply } from './types.js';

export const K8S_VERSION = { major: '1', minor: '31', gitVersion: 'v1.31.0-sandbox' } as const;

export interface K8sRequest {
  method: string;
  /** Path relative to the Kubernetes server root (e.g. `/api/v1/namespaces/default/serviceaccounts`). */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const header = (req: K8sRequest, name: string): string => {
  const v = req.headers[name];
  return (Array.isArray(v) ? v.join(',') : v) ?? '';
};

const jsonReply = (status: number, body: unknown, errorCode?: string): Reply => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
  errorCode,
});

const statusReply = (err: K8sError): Reply => jsonReply(err.code, err.toStatus(), err.reason);

// ------------------------------------------------------------------ discovery

/**
 * The OpenAPI v3 schemas of what the sandbox serves, as kubectl fetches them to validate a
 * manifest before `kubectl apply` (`/openapi/v3`, then the group version's document): the
 * ServiceAccount and Namespace fields of core/v1, object metadata as the API server defines it.
 * The write operations are listed with their `fieldValidation` parameter.
 */
const str = { type: 'string' };
const strMap = { type: 'object', additionalProperties: str };
const ref = (name: string) => ({ allOf: [{ $ref: `#/components/schemas/${name}` }] });
const gvk = (kind: string) => ({ 'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind }] });
const OPENAPI_V1 = {
  openapi: '3.0.0',
  info: { title: 'Kubernetes (iam-mapping sandbox)', version: K8S_VERSION.gitVersion },
  // The write operations kubectl looks for: their `fieldValidation` parameter tells it the server
  // checks fields itself (then it sends `?fieldValidation=Strict` and skips its own schema check).
  paths: Object.fromEntries(
    (
      [
        ['/api/v1/namespaces/{namespace}/serviceaccounts/{name}', 'ServiceAccount'],
        ['/api/v1/namespaces/{namespace}/serviceaccounts', 'ServiceAccount'],
        ['/api/v1/namespaces/{name}', 'Namespace'],
        ['/api/v1/namespaces', 'Namespace'],
      ] as const
    ).map(([path, kind]) => {
      const op = {
        'x-kubernetes-group-version-kind': { group: '', version: 'v1', kind },
        parameters: [{ name: 'fieldValidation', in: 'query', schema: str }],
        responses: { '200': { description: 'OK' } },
      };
      return [path, path.endsWith('}') ? { put: op, patch: op } : { post: op }];
    }),
  ),
  components: {
    schemas: {
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
        type: 'object',
        properties: {
          name: str,
          generateName: str,
          namespace: str,
          uid: str,
          resourceVersion: str,
          generation: { type: 'integer', format: 'int64' },
          creationTimestamp: { type: 'string', format: 'date-time' },
          deletionTimestamp: { type: 'string', format: 'date-time' },
          labels: strMap,
          annotations: strMap,
          finalizers: { type: 'array', items: str },
          ownerReferences: { type: 'array', items: { type: 'object' } },
          managedFields: { type: 'array', items: { type: 'object' } },
        },
      },
      'io.k8s.api.core.v1.ObjectReference': {
        type: 'object',
        properties: { apiVersion: str, fieldPath: str, kind: str, name: str, namespace: str, resourceVersion: str, uid: str },
      },
      'io.k8s.api.core.v1.LocalObjectReference': { type: 'object', properties: { name: str } },
      'io.k8s.api.core.v1.ServiceAccount': {
        type: 'object',
        properties: {
          apiVersion: str,
          kind: str,
          metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
          automountServiceAccountToken: { type: 'boolean' },
          imagePullSecrets: { type: 'array', items: ref('io.k8s.api.core.v1.LocalObjectReference') },
          secrets: { type: 'array', items: ref('io.k8s.api.core.v1.ObjectReference') },
        },
        ...gvk('ServiceAccount'),
      },
      'io.k8s.api.core.v1.Namespace': {
        type: 'object',
        properties: {
          apiVersion: str,
          kind: str,
          metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
          spec: { type: 'object', properties: { finalizers: { type: 'array', items: str } } },
          status: { type: 'object', properties: { phase: str } },
        },
        ...gvk('Namespace'),
      },
    },
  },
};
const OPENAPI_HASH = createHash('sha512').update(JSON.stringify(OPENAPI_V1)).digest('hex').slice(0, 32).toUpperCase();

function discovery(path: string): unknown {
  switch (path) {
    case '/version':
      return {
        ...K8S_VERSION,
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2024-08-13T00:00:00Z',
        goVersion: 'go1.22.5',
        compiler: 'gc',
        platform: 'linux/amd64',
      };
    case '/api':
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
    case '/apis':
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };
    case '/api/v1':
      return {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: Object.values(RESOURCES).map((d) => ({
          name: d.resource,
          singularName: d.singularName,
          namespaced: d.namespaced,
          kind: d.kind,
          verbs: VERBS_FOR_DISCOVERY,
          shortNames: d.shortNames,
        })),
      };
    case '/openapi/v3':
      return { paths: { 'api/v1': { serverRelativeURL: `/openapi/v3/api/v1?hash=${OPENAPI_HASH}` } } };
    case '/openapi/v3/api/v1':
      return OPENAPI_V1;
    case '':
    case '/':
      return { paths: ['/api', '/api/v1', '/apis', '/openapi/v3', '/version'] };
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------ tables

/** `kubectl get` asks for `application/json;as=Table;v=v1;g=meta.k8s.io`. */
const wantsTable = (accept: string): boolean => /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);

export function humanAge(from: string, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - Date.parse(from)) / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  if (s < 120) return `${s}s`;
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

function toTable(d: ResourceDef, objects: K8sObject[], listMeta: Record<string, unknown>, includeObject: string): unknown {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: d.columns,
    rows: objects.map((obj) => ({
      cells: d.cells(obj, humanAge(obj.metadata.creationTimestamp)),
      object:
        includeObject === 'None'
          ? undefined
          : includeObject === 'Object'
            ? obj
            : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata },
    })),
  };
}

// ------------------------------------------------------------------ routing

interface ResourceRoute {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
}

function parseResourcePath(path: string): ResourceRoute | undefined {
  const segs = path
    .replace(/^\/api\/v1\/?/, '')
    .split('/')
    .filter(Boolean)
    .map(decodeURIComponent);
  const nsScoped = segs[0] === 'namespaces' && segs.length >= 3 ? RESOURCES[segs[2] as string] : undefined;
  if (nsScoped?.namespaced) return { def: nsScoped, namespace: segs[1], name: segs[3], subresource: segs[4] };
  const top = RESOURCES[segs[0] ?? ''];
  if (!top) return undefined;
  if (top.namespaced && segs.length > 1) return undefined;
  return { def: top, name: segs[1], subresource: segs[2] };
}

function verbOf(method: string, route: ResourceRoute, watch: boolean): string | undefined {
  const item = route.name !== undefined;
  switch (method) {
    case 'GET':
      return watch ? 'WATCH' : item ? 'GET' : 'LIST';
    case 'POST':
      return item ? undefined : 'POST';
    case 'PUT':
    case 'PATCH':
    case 'DELETE':
      return item ? method : undefined;
    default:
      return undefined;
  }
}

const parseJson = (text: string): unknown => {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new K8sError(
      400,
      'BadRequest',
      `the body of the request was in an unknown format - accepted media types include: application/json: ${(err as Error).message}`,
    );
  }
};

const stripTypeMeta = ({ apiVersion: _a, kind: _k, ...rest }: K8sObject) => rest;

/** `?fieldValidation=Strict` (kubectl apply's default): an unknown field is a 400, as the API server's strict decoding makes it. */
function strictFields(kind: string, body: unknown): void {
  const schemas = OPENAPI_V1.components.schemas as Record<string, { properties?: Record<string, unknown> }>;
  const fields = (name: string) => new Set(Object.keys(schemas[name]?.properties ?? {}));
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  const top = fields(`io.k8s.api.core.v1.${kind}`);
  const meta = fields('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  const unknown = [
    ...Object.keys(body).filter((k) => !top.has(k)),
    ...Object.keys(((body as { metadata?: unknown }).metadata as object | null) ?? {})
      .filter((k) => !meta.has(k))
      .map((k) => `metadata.${k}`),
  ];
  if (unknown.length > 0) throw new K8sError(400, 'BadRequest', `strict decoding error: ${unknown.map((k) => `unknown field "${k}"`).join(', ')}`);
}

/** Resolves one Kubernetes API request into an executable operation. */
export function k8sOperation(k8s: K8sState, req: K8sRequest): Operation {
  const renderFault = (fault: FaultSpec): Reply => {
    const reply = statusReply(new K8sError(fault.status, fault.code, fault.message ?? `Injected fault: ${fault.code}`));
    return fault.retryAfterSeconds === undefined ? reply : { ...reply, headers: { ...reply.headers, 'retry-after': String(fault.retryAfterSeconds) } };
  };
  const base = { service: 'k8s' as const, renderFault };
  const path = req.path.replace(/\/+$/, '') || '/';

  const disco = req.method === 'GET' ? discovery(path) : undefined;
  if (disco !== undefined) {
    return { ...base, action: `GET ${path}`, mutating: false, params: {}, execute: () => jsonReply(200, disco) };
  }
  if (req.method === 'GET' && ['/healthz', '/livez', '/readyz'].includes(path)) {
    return {
      ...base,
      action: `GET ${path}`,
      mutating: false,
      params: {},
      execute: () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' }),
    };
  }

  const route = path.startsWith('/api/v1/') ? parseResourcePath(path) : undefined;
  const notFoundOp = (action: string): Operation => ({
    ...base,
    action,
    mutating: false,
    params: {},
    execute: () => statusReply(new K8sError(404, 'NotFound', 'the server could not find the requested resource', {})),
  });
  if (!route || route.subresource !== undefined) return notFoundOp(`${req.method} ${path}`);

  const { def, namespace, name } = route;
  const watch = ['true', '1'].includes(req.query.get('watch') ?? '');
  const verb = verbOf(req.method, route, watch);
  const dryRun = req.query.get('dryRun') === 'All';
  const action = `${verb ?? req.method} ${def.resource}`;
  const mutating = !dryRun && verb !== undefined && ['POST', 'PUT', 'PATCH', 'DELETE'].includes(verb);
  const accept = header(req, 'accept');
  const contentType = header(req, 'content-type').split(';')[0]?.trim().toLowerCase() ?? '';

  const run = (): Reply => {
    if (req.query.get('fieldValidation') === 'Strict' && (verb === 'POST' || verb === 'PUT' || (verb === 'PATCH' && !contentType.includes('json-patch'))))
      strictFields(def.kind, parseJson(req.body));
    switch (verb) {
      case 'GET': {
        const obj = k8s.read(def.resource, namespace, name as string);
        return jsonReply(
          200,
          wantsTable(accept) ? toTable(def, [obj], { resourceVersion: obj.metadata.resourceVersion }, req.query.get('includeObject') ?? 'Metadata') : obj,
        );
      }
      case 'LIST': {
        const limit = Number(req.query.get('limit') ?? 0);
        const result = k8s.list(def.resource, namespace, {
          labelSelector: req.query.get('labelSelector'),
          fieldSelector: req.query.get('fieldSelector'),
          limit: Number.isFinite(limit) ? limit : 0,
          continue: req.query.get('continue'),
        });
        const listMeta = { resourceVersion: result.resourceVersion, continue: result.continue, remainingItemCount: result.remainingItemCount };
        if (wantsTable(accept)) return jsonReply(200, toTable(def, result.items, listMeta, req.query.get('includeObject') ?? 'Metadata'));
        return jsonReply(200, { kind: def.listKind, apiVersion: 'v1', metadata: listMeta, items: result.items.map(stripTypeMeta) });
      }
      case 'POST': {
        if (def.namespaced && namespace === undefined)
          throw new K8sError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
        const r = k8s.create(def.resource, namespace, parseJson(req.body), { dryRun });
        return { ...jsonReply(201, r.object), committed: r.committed };
      }
      case 'PUT': {
        const r = k8s.replace(def.resource, namespace, name as string, parseJson(req.body), { dryRun });
        return { ...jsonReply(200, r.object), committed: r.committed };
      }
      case 'PATCH': {
        const r = k8s.patch(def.resource, namespace, name as string, contentType, parseJson(req.body), { dryRun });
        return { ...jsonReply(200, r.object), committed: r.committed };
      }
      case 'DELETE': {
        const r = k8s.remove(def.resource, namespace, name as string, parseJson(req.body), { dryRun });
        return { ...jsonReply(200, r.object), committed: r.committed };
      }
      case 'WATCH':
        throw new K8sError(405, 'MethodNotAllowed', 'watch is not supported by the sandbox');
      default:
        throw new K8sError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  };

  return {
    ...base,
    action,
    mutating,
    params: { namespace, name },
    execute: () => {
      try {
        return run();
      } catch (err) {
        if (err instanceof K8sError) return statusReply(err);
        console.error('[sandbox] unexpected Kubernetes error', err);
        return statusReply(new K8sError(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`));
      }
    },
  };
}
