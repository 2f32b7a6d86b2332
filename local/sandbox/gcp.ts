/**
 * Google Cloud emulator (REST/JSON) under `<base>/sandbox/gcp`, enough of two Google APIs that
 * Google's own Node clients work against it:
 *
 *   IAM v1            /v1/projects/{p}/serviceAccounts[/{email|uniqueId}][:getIamPolicy|:setIamPolicy|…]
 *   Cloud Storage     /storage/v1/b?project=P, /storage/v1/b/{bucket}, /storage/v1/b/{bucket}/iam[/testPermissions]
 *
 * Errors come in each API's own shape: IAM `{"error":{"code","message","status","details"?}}`,
 * Cloud Storage `{"error":{"code","message","errors":[{"message","domain","reason"}]}}`.
 * Any `Authorization: Bearer <token>` is accepted (as is none); another scheme is 401.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { GcpError, invalidArgument, type StoredPolicy } from './gcp-policy.js';
import { GcpState, projectNumber, type BucketRecord, type ServiceAccountRecord } from './gcp-state.js';
import type { FaultSpec, Operation, Reply } from './types.js';
import { isPlainObject } from './util.js';

export interface GcpRequest {
  method: string;
  /** Path below `/gcp` (e.g. `/v1/projects/p/serviceAccounts`). */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

type Api = 'iam' | 'storage';

const SERVICE_ACCOUNT_ETAG = 'MDEwMjE5MjA=';
const SA_FIELDS = new Set(['name', 'projectId', 'uniqueId', 'email', 'displayName', 'etag', 'description', 'oauth2ClientId', 'disabled']);

function json(status: number, value: unknown, committed = false): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=UTF-8' }, body: JSON.stringify(value), committed };
}

function errorReply(api: Api, err: GcpError, retryAfterSeconds?: number): Reply {
  const error =
    api === 'iam'
      ? { code: err.httpStatus, message: err.message, status: err.status, ...(err.details ? { details: err.details } : {}) }
      : { code: err.httpStatus, message: err.message, errors: [{ message: err.message, domain: 'global', reason: err.reason }] };
  const reply = json(err.httpStatus, { error });
  reply.errorCode = api === 'iam' ? err.status : err.reason;
  if (retryAfterSeconds !== undefined) reply.headers['retry-after'] = String(retryAfterSeconds);
  return reply;
}

const serviceAccountJson = (a: ServiceAccountRecord) => ({
  name: `projects/${a.project}/serviceAccounts/${a.email}`,
  projectId: a.project,
  uniqueId: a.uniqueId,
  email: a.email,
  ...(a.displayName ? { displayName: a.displayName } : {}),
  etag: SERVICE_ACCOUNT_ETAG,
  ...(a.description ? { description: a.description } : {}),
  oauth2ClientId: a.uniqueId,
  ...(a.disabled ? { disabled: true } : {}),
});

const iamPolicyJson = (p: StoredPolicy) => ({ version: p.version, etag: p.etag, ...(p.bindings.length ? { bindings: p.bindings } : {}) });

const bucketJson = (b: BucketRecord) => ({
  kind: 'storage#bucket',
  selfLink: `https://www.googleapis.com/storage/v1/b/${b.name}`,
  id: b.name,
  name: b.name,
  projectNumber: projectNumber(b.project),
  metageneration: String(b.metageneration),
  location: b.location,
  storageClass: 'STANDARD',
  etag: b.policy.etag,
  timeCreated: b.timeCreated,
  updated: b.updated,
  iamConfiguration: {
    bucketPolicyOnly: { enabled: true, lockedTime: b.timeCreated },
    uniformBucketLevelAccess: { enabled: true, lockedTime: b.timeCreated },
    publicAccessPrevention: 'inherited',
  },
  locationType: b.location.includes('-') ? 'region' : 'multi-region',
  rpo: 'DEFAULT',
});

const storagePolicyJson = (bucket: string, p: StoredPolicy) => ({
  kind: 'storage#policy',
  resourceId: `projects/_/buckets/${bucket}`,
  version: p.version,
  etag: p.etag,
  bindings: p.bindings,
});

function parseJsonBody(body: string): Record<string, unknown> {
  if (body.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw invalidArgument('Invalid JSON payload received. Unexpected token.');
  }
  if (!isPlainObject(value)) throw invalidArgument('Invalid JSON payload received. Expected an object.');
  return value;
}

function rejectUnknown(obj: Record<string, unknown>, known: ReadonlySet<string>, prefix = ''): void {
  const unknown = Object.keys(obj).find((k) => !known.has(k));
  if (unknown) throw invalidArgument(`Invalid JSON payload received. Unknown name "${prefix}${unknown}": Cannot find field.`);
}

function intParam(query: URLSearchParams, ...names: string[]): number | undefined {
  for (const name of names) {
    const v = query.get(name);
    if (v === null || v === '') continue;
    const n = Number(v);
    if (!Number.isInteger(n)) throw invalidArgument(`Invalid value at '${name}' (TYPE_INT32), "${v}"`, name);
    return n;
  }
  return undefined;
}

const authProblem = (api: Api, headers: IncomingHttpHeaders): GcpError | undefined => {
  const auth = headers.authorization;
  if (auth === undefined || /^Bearer\s+\S+/i.test(auth)) return undefined;
  return api === 'iam'
    ? new GcpError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      )
    : new GcpError(401, 'UNAUTHENTICATED', 'Invalid Credentials', 'authError');
};

interface Route {
  api: Api;
  action: string;
  mutating: boolean;
  params: Record<string, string | undefined>;
  run(body: Record<string, unknown>): Reply;
}

function iamRoute(state: GcpState, method: string, path: string, query: URLSearchParams): Route | undefined {
  const m = /^\/v1\/projects\/([^/]+)\/serviceAccounts(?:\/([^/:]+)(?::([A-Za-z]+))?)?\/?$/.exec(path);
  if (!m) return undefined;
  const [, project = '', id, verb] = m;
  const params = { project, email: id };
  const route = (action: string, mutating: boolean, run: Route['run']): Route => ({
    api: 'iam',
    action: `iam.serviceAccounts.${action}`,
    mutating,
    params,
    run,
  });
  if (id === undefined) {
    if (method === 'GET')
      return route('list', false, () => {
        const { accounts, nextPageToken } = state.listServiceAccounts(project, intParam(query, 'pageSize'), query.get('pageToken') ?? undefined);
        return json(200, { ...(accounts.length ? { accounts: accounts.map(serviceAccountJson) } : {}), ...(nextPageToken ? { nextPageToken } : {}) });
      });
    if (method === 'POST')
      return route('create', true, (body) => {
        rejectUnknown(body, new Set(['accountId', 'serviceAccount']));
        if (isPlainObject(body.serviceAccount)) rejectUnknown(body.serviceAccount, SA_FIELDS, 'service_account.');
        return json(200, serviceAccountJson(state.createServiceAccount(project, body)), true);
      });
    return undefined;
  }
  if (verb === undefined) {
    switch (method) {
      case 'GET':
        return route('get', false, () => json(200, serviceAccountJson(state.getServiceAccount(project, id))));
      case 'PATCH':
        return route('patch', true, (body) => {
          rejectUnknown(body, new Set(['serviceAccount', 'updateMask']));
          return json(200, serviceAccountJson(state.patchServiceAccount(project, id, body)), true);
        });
      case 'PUT':
        return route('update', true, (body) => {
          rejectUnknown(body, SA_FIELDS);
          return json(200, serviceAccountJson(state.updateServiceAccount(project, id, body)), true);
        });
      case 'DELETE':
        return route('delete', true, () => {
          state.deleteServiceAccount(project, id);
          return json(200, {}, true);
        });
      default:
        return undefined;
    }
  }
  if (method !== 'POST') return undefined;
  switch (verb) {
    case 'getIamPolicy':
      return route('getIamPolicy', false, (body) => {
        const options = isPlainObject(body.options) ? body.options : {};
        const fromBody = options.requestedPolicyVersion;
        if (fromBody !== undefined && typeof fromBody !== 'number')
          throw invalidArgument('options.requestedPolicyVersion must be a number.', 'options.requested_policy_version');
        const requested = fromBody ?? intParam(query, 'options.requestedPolicyVersion');
        return json(200, iamPolicyJson(state.getServiceAccountPolicy(project, id, requested)));
      });
    case 'setIamPolicy':
      return route('setIamPolicy', true, (body) => json(200, iamPolicyJson(state.setServiceAccountPolicy(project, id, body)), true));
    case 'testIamPermissions':
      return route('testIamPermissions', false, (body) => {
        state.getServiceAccount(project, id);
        const perms = Array.isArray(body.permissions) ? body.permissions.filter((p): p is string => typeof p === 'string') : [];
        const granted = [...new Set(perms.filter((p) => /^iam\.serviceAccounts\.[a-zA-Z]+$/.test(p)))];
        return json(200, granted.length ? { permissions: granted } : {});
      });
    case 'disable':
    case 'enable':
      return route(verb, true, () => {
        state.setDisabled(project, id, verb === 'disable');
        return json(200, {}, true);
      });
    default:
      return undefined;
  }
}

function storageRoute(state: GcpState, method: string, path: string, query: URLSearchParams): Route | undefined {
  if (path === '/storage/v1/b' || path === '/storage/v1/b/') {
    if (method !== 'GET') return undefined;
    const project = query.get('project') ?? undefined;
    return {
      api: 'storage',
      action: 'storage.buckets.list',
      mutating: false,
      params: { project },
      run: () => {
        const { items, nextPageToken } = state.listBuckets(
          project,
          intParam(query, 'maxResults'),
          query.get('pageToken') ?? undefined,
          query.get('prefix') ?? undefined,
        );
        return json(200, { kind: 'storage#buckets', ...(items.length ? { items: items.map(bucketJson) } : {}), ...(nextPageToken ? { nextPageToken } : {}) });
      },
    };
  }
  const m = /^\/storage\/v1\/b\/([^/]+)(\/iam(\/testPermissions)?)?\/?$/.exec(path);
  if (!m) return undefined;
  const [, bucket = '', iam, test] = m;
  const params = { bucket };
  const route = (action: string, mutating: boolean, run: Route['run']): Route => ({
    api: 'storage',
    action: `storage.buckets.${action}`,
    mutating,
    params,
    run,
  });
  if (!iam) return method === 'GET' ? route('get', false, () => json(200, bucketJson(state.getBucket(bucket)))) : undefined;
  if (test)
    return method === 'GET'
      ? route('testIamPermissions', false, () => {
          const granted = state.testBucketPermissions(bucket, query.getAll('permissions'));
          return json(200, { kind: 'storage#testIamPermissionsResponse', ...(granted.length ? { permissions: granted } : {}) });
        })
      : undefined;
  if (method === 'GET')
    return route('getIamPolicy', false, () =>
      json(200, storagePolicyJson(bucket, state.getBucketPolicy(bucket, intParam(query, 'optionsRequestedPolicyVersion')))),
    );
  if (method === 'PUT') return route('setIamPolicy', true, (body) => json(200, storagePolicyJson(bucket, state.setBucketPolicy(bucket, body)), true));
  return undefined;
}

/** A route of the two APIs the sandbox does not serve: a Google-shaped 404 naming it, in the call log. */
function unsupported(api: Api, method: string, path: string): Route {
  return {
    api,
    action: `${api === 'iam' ? 'iam' : 'storage'}.unsupported`,
    mutating: false,
    params: { method, path },
    run: () => {
      throw new GcpError(
        404,
        'NOT_FOUND',
        `The sandbox does not serve ${method} ${path} (it serves the IAM v1 service-account and Cloud Storage bucket/IAM routes).`,
      );
    },
  };
}

/** Resolves one request below `/gcp`; undefined outside `/v1/…` (IAM) and `/storage/v1/…` (Cloud Storage). */
export function gcpOperation(state: GcpState, req: GcpRequest): Operation | undefined {
  let path: string;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    return undefined;
  }
  const method = req.method.toUpperCase();
  const api: Api | undefined = path.startsWith('/storage/v1/') || path === '/storage/v1' ? 'storage' : path.startsWith('/v1/') ? 'iam' : undefined;
  if (!api) return undefined;
  const route = (api === 'storage' ? storageRoute(state, method, path, req.query) : iamRoute(state, method, path, req.query)) ?? unsupported(api, method, path);
  return {
    service: 'gcp',
    action: route.action,
    mutating: route.mutating,
    params: route.params,
    execute: () => {
      try {
        const denied = authProblem(route.api, req.headers);
        if (denied) throw denied;
        return route.run(parseJsonBody(req.body));
      } catch (err) {
        if (err instanceof GcpError) return errorReply(route.api, err);
        throw err;
      }
    },
    renderFault: (fault: FaultSpec) =>
      errorReply(route.api, new GcpError(fault.status, fault.code, fault.message ?? `Injected fault: ${fault.code}`), fault.retryAfterSeconds),
  };
}
