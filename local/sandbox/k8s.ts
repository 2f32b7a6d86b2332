/**
 * Kubernetes API HTTP front end: discovery (`/version`, `/api`, `/api/v1`, `/apis`), core/v1
 * Namespaces and ServiceAccounts (list/get/create/replace/patch/delete), Status errors, and
 * meta.k8s.io/v1 Table rendering for `kubectl get`.
 */
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
    case '':
    case '/':
      return { paths: ['/api', '/api/v1', '/apis', '/version'] };
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
