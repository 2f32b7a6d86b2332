/**
 * In-memory Kubernetes object store with API-server semantics for the sandbox's core/v1 resources:
 * a global monotonic resourceVersion, optimistic concurrency (409 Conflict), create/replace/patch/delete,
 * list pagination and selectors. Protocol-free: `k8s.ts` maps HTTP onto it.
 */
import {
  RESOURCES,
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  notFound,
  validateMetadata,
  K8sError,
  type K8sObject,
  type ObjectMeta,
  type ResourceDef,
} from './k8s-resources.js';
import { PATCH_TYPES, PatchError, isPatchType } from './k8s-patch.js';
import { parseFieldSelector, parseLabelSelector } from './k8s-selectors.js';
import { decodeToken, encodeToken, isPlainObject, isoSeconds, jsonEqual, shown, uuid } from './util.js';

export interface K8sSnapshot {
  resourceVersion: number;
  objects: K8sObject[];
}

export interface K8sStateOptions {
  /** Namespaces present after creation / reset (default `default`, `anyscale-operator`). */
  namespaces?: string[];
  /** Create a `default` ServiceAccount in every new namespace, like the ServiceAccount controller (default true). */
  defaultServiceAccount?: boolean;
}

export interface ListOptions {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continue?: string | null;
}

export interface ListResult {
  items: K8sObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WriteOptions {
  /** `dryRun=All`: validate and compute the result without storing it. */
  dryRun?: boolean;
}

export interface WriteResult {
  object: K8sObject;
  /** False for dry runs and no-op updates (the API server does not bump resourceVersion for those). */
  committed: boolean;
}

/** Metadata fields clients may set; everything else under metadata is server-managed or dropped. */
const USER_META = ['name', 'generateName', 'namespace', 'labels', 'annotations', 'ownerReferences', 'finalizers'];

const def = (resource: string): ResourceDef => {
  const d = RESOURCES[resource];
  if (!d) throw new K8sError(404, 'NotFound', 'the server could not find the requested resource');
  return d;
};

const objectKey = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

export class K8sState {
  private rv = 0;
  private store = new Map<string, Map<string, K8sObject>>();
  private readonly initialNamespaces: string[];
  private readonly defaultServiceAccount: boolean;

  constructor(options: K8sStateOptions = {}) {
    this.initialNamespaces = options.namespaces ?? ['default', 'anyscale-operator'];
    this.defaultServiceAccount = options.defaultServiceAccount ?? true;
    this.reset();
  }

  // ------------------------------------------------------------- inspection helpers

  /** Current global resourceVersion. */
  resourceVersion(): string {
    return String(this.rv);
  }

  get(resource: string, namespace: string | undefined, name: string): K8sObject | undefined {
    const obj = this.bucket(resource).get(objectKey(def(resource).namespaced ? namespace : undefined, name));
    return obj && structuredClone(obj);
  }

  serviceAccount(namespace: string, name: string): K8sObject | undefined {
    return this.get('serviceaccounts', namespace, name);
  }

  serviceAccounts(namespace?: string): K8sObject[] {
    return this.list('serviceaccounts', namespace).items;
  }

  namespaces(): string[] {
    return this.list('namespaces', undefined).items.map((n) => n.metadata.name);
  }

  createNamespace(name: string, labels?: Record<string, string>): K8sObject {
    return this.create('namespaces', undefined, { metadata: { name, labels } }).object;
  }

  // ------------------------------------------------------------- verbs

  read(resource: string, namespace: string | undefined, name: string): K8sObject {
    const obj = this.get(resource, namespace, name);
    if (!obj) throw notFound(resource, name);
    return obj;
  }

  list(resource: string, namespace: string | undefined, options: ListOptions = {}): ListResult {
    const d = def(resource);
    const matchLabels = parseLabelSelector(options.labelSelector);
    const matchFields = parseFieldSelector(options.fieldSelector, d.kind);
    let after: string | undefined;
    if (options.continue) {
      after = decodeToken<{ after?: string }>(options.continue)?.after;
      if (after === undefined) throw new K8sError(400, 'BadRequest', 'continue key is not valid: invalid continue token');
    }
    const entries = [...this.bucket(resource).entries()]
      .filter(([, o]) => !d.namespaced || namespace === undefined || o.metadata.namespace === namespace)
      .filter(([k]) => after === undefined || k > after)
      .filter(([, o]) => matchLabels(o) && matchFields(o))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const limit = options.limit && options.limit > 0 ? options.limit : entries.length;
    const page = entries.slice(0, limit);
    const truncated = entries.length > page.length;
    const last = page.at(-1);
    const filtered = Boolean(options.labelSelector || options.fieldSelector);
    return {
      items: page.map(([, o]) => structuredClone(o)),
      resourceVersion: this.resourceVersion(),
      continue: truncated && last ? encodeToken({ after: last[0], rv: this.rv }) : undefined,
      remainingItemCount: truncated && !filtered ? entries.length - page.length : undefined,
    };
  }

  create(resource: string, namespace: string | undefined, body: unknown, options: WriteOptions = {}): WriteResult {
    const d = def(resource);
    if (!isPlainObject(body)) throw badRequest('the body of the request was not a JSON object');
    const meta = isPlainObject(body.metadata) ? body.metadata : {};
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    if (d.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (!this.bucket('namespaces').has(objectKey(undefined, namespace as string))) throw notFound('namespaces', namespace as string);
    }
    let name = meta.name;
    if ((name === undefined || name === '') && typeof meta.generateName === 'string' && meta.generateName) {
      name = `${meta.generateName}${uuid().replace(/-/g, '').slice(0, 5)}`;
    }
    if (typeof name !== 'string' || name === '') {
      throw invalid(d.kind, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    }
    const obj = this.finalize(d, namespace, { ...body, metadata: { ...meta, name } }, undefined);
    if (this.bucket(resource).has(objectKey(obj.metadata.namespace, name))) throw alreadyExists(resource, name);
    d.defaults?.(obj);
    if (options.dryRun) return { object: obj, committed: false };
    this.commit(d, obj);
    if (resource === 'namespaces' && this.defaultServiceAccount) {
      this.commit(
        RESOURCES.serviceaccounts as ResourceDef,
        this.finalize(RESOURCES.serviceaccounts as ResourceDef, name, { metadata: { name: 'default' } }, undefined),
      );
    }
    return { object: structuredClone(obj), committed: true };
  }

  replace(resource: string, namespace: string | undefined, name: string, body: unknown, options: WriteOptions = {}): WriteResult {
    const d = def(resource);
    const existing = this.read(resource, namespace, name);
    if (!isPlainObject(body)) throw badRequest('the body of the request was not a JSON object');
    const meta = isPlainObject(body.metadata) ? body.metadata : {};
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${shown(meta.name)}) does not match the name on the URL (${name})`);
    }
    if (d.namespaced && meta.namespace !== undefined && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    this.checkPreconditions(d, existing, meta.resourceVersion, meta.uid);
    return this.update(d, existing, { ...body, metadata: { ...meta, name } }, options);
  }

  patch(resource: string, namespace: string | undefined, name: string, contentType: string, patchBody: unknown, options: WriteOptions = {}): WriteResult {
    const d = def(resource);
    const existing = this.read(resource, namespace, name);
    if (!isPatchType(contentType)) {
      throw new K8sError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${Object.keys(PATCH_TYPES).join(', ')}`,
      );
    }
    if (contentType !== 'application/json-patch+json' && !isPlainObject(patchBody)) throw badRequest('the patch must be a JSON object');
    let patched: unknown;
    try {
      patched = PATCH_TYPES[contentType](structuredClone(existing), patchBody);
    } catch (err) {
      if (err instanceof PatchError) throw new K8sError(422, 'Invalid', `the server rejected our request due to an error in our request: ${err.message}`);
      throw err;
    }
    if (!isPlainObject(patched)) throw badRequest('the patched object is not a JSON object');
    const meta = isPlainObject(patched.metadata) ? patched.metadata : {};
    if (meta.name !== name) throw badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
    if (d.namespaced && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    this.checkPreconditions(d, existing, meta.resourceVersion, meta.uid);
    return this.update(d, existing, patched, options);
  }

  remove(resource: string, namespace: string | undefined, name: string, deleteOptions: unknown, options: WriteOptions = {}): WriteResult {
    def(resource); // an unknown resource is a 404 of its own
    const existing = this.read(resource, namespace, name);
    const pre = isPlainObject(deleteOptions) && isPlainObject(deleteOptions.preconditions) ? deleteOptions.preconditions : {};
    if (pre.uid !== undefined && pre.uid !== existing.metadata.uid) {
      throw conflict(resource, name, `Precondition failed: UID in precondition: ${shown(pre.uid)}, UID in object meta: ${existing.metadata.uid}`);
    }
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(
        resource,
        name,
        `Precondition failed: ResourceVersion in precondition: ${shown(pre.resourceVersion)}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`,
      );
    }
    if (resource === 'namespaces' && ['default', 'kube-system', 'kube-public'].includes(name)) {
      throw new K8sError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
    }
    if (options.dryRun) return { object: existing, committed: false };
    this.bucket(resource).delete(objectKey(existing.metadata.namespace, name));
    this.rv += 1;
    if (resource === 'namespaces') {
      for (const [res, bucket] of this.store) {
        if (!def(res).namespaced) continue;
        for (const [k, o] of bucket) if (o.metadata.namespace === name) bucket.delete(k);
      }
      existing.metadata.deletionTimestamp = isoSeconds();
      existing.status = { phase: 'Terminating' };
    }
    return { object: existing, committed: true };
  }

  // ------------------------------------------------------------- persistence

  snapshot(): K8sSnapshot {
    return { resourceVersion: this.rv, objects: [...this.store.values()].flatMap((b) => [...b.values()]).map((o) => structuredClone(o)) };
  }

  restore(snapshot: K8sSnapshot): void {
    this.store = new Map();
    this.rv = snapshot.resourceVersion;
    for (const obj of structuredClone(snapshot.objects)) {
      const resource = Object.values(RESOURCES).find((r) => r.kind === obj.kind);
      if (resource) this.bucket(resource.resource).set(objectKey(obj.metadata.namespace, obj.metadata.name), obj);
    }
  }

  /** Back to the initial namespaces (resourceVersion keeps increasing, as on a real cluster). */
  reset(): void {
    this.store = new Map();
    for (const ns of this.initialNamespaces) this.create('namespaces', undefined, { metadata: { name: ns } });
  }

  // ------------------------------------------------------------- internals

  private bucket(resource: string): Map<string, K8sObject> {
    let b = this.store.get(resource);
    if (!b) this.store.set(resource, (b = new Map<string, K8sObject>()));
    return b;
  }

  private commit(d: ResourceDef, obj: K8sObject): void {
    this.rv += 1;
    obj.metadata.resourceVersion = String(this.rv);
    this.bucket(d.resource).set(objectKey(obj.metadata.namespace, obj.metadata.name), obj);
  }

  private checkPreconditions(d: ResourceDef, existing: K8sObject, resourceVersion: unknown, uid: unknown): void {
    if (resourceVersion !== undefined && resourceVersion !== '' && resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(d.resource, existing.metadata.name);
    }
    if (uid !== undefined && uid !== '' && uid !== existing.metadata.uid) {
      throw conflict(
        d.resource,
        existing.metadata.name,
        `Precondition failed: UID in precondition: ${shown(uid)}, UID in object meta: ${existing.metadata.uid}`,
      );
    }
  }

  private update(d: ResourceDef, existing: K8sObject, body: Record<string, unknown>, options: WriteOptions): WriteResult {
    const next = this.finalize(d, existing.metadata.namespace, body, existing);
    for (const field of d.preservedOnUpdate) {
      if (existing[field] === undefined) delete next[field];
      else next[field] = structuredClone(existing[field]);
    }
    const comparable = (o: K8sObject) => ({ ...o, metadata: { ...o.metadata, resourceVersion: '' } });
    if (jsonEqual(comparable(next), comparable(existing))) return { object: existing, committed: false };
    if (options.dryRun) return { object: next, committed: false };
    this.commit(d, next);
    return { object: structuredClone(next), committed: true };
  }

  /** Builds the stored form of an object: known fields only, server-managed metadata, validation (422). */
  private finalize(d: ResourceDef, namespace: string | undefined, body: Record<string, unknown>, existing: K8sObject | undefined): K8sObject {
    if (body.kind !== undefined && body.kind !== d.kind) throw badRequest(`the object kind "${shown(body.kind)}" does not match the expected kind "${d.kind}"`);
    if (body.apiVersion !== undefined && body.apiVersion !== 'v1')
      throw badRequest(`the API version "${shown(body.apiVersion)}" does not match the expected API version "v1"`);
    const inMeta = isPlainObject(body.metadata) ? body.metadata : {};
    const metadata: Record<string, unknown> = {};
    for (const f of USER_META) if (inMeta[f] !== undefined && inMeta[f] !== null) metadata[f] = structuredClone(inMeta[f]);
    if (d.namespaced) metadata.namespace = namespace;
    else delete metadata.namespace;
    for (const f of ['labels', 'annotations']) {
      if (isPlainObject(metadata[f]) && Object.keys(metadata[f]).length === 0) delete metadata[f];
    }
    metadata.uid = existing?.metadata.uid ?? uuid();
    metadata.resourceVersion = existing?.metadata.resourceVersion ?? '';
    metadata.creationTimestamp = existing?.metadata.creationTimestamp ?? isoSeconds();

    const obj: K8sObject = { apiVersion: 'v1', kind: d.kind, metadata: metadata as ObjectMeta };
    for (const f of d.fields) if (body[f] !== undefined && body[f] !== null) obj[f] = structuredClone(body[f]);

    const name = shown(metadata.name ?? '');
    const errors = [...validateMetadata(metadata), ...(d.validateFields?.(obj) ?? [])];
    const nameError = d.validateName(name);
    if (nameError) errors.unshift({ field: 'metadata.name', message: `Invalid value: "${name}": ${nameError}` });
    if (errors.length > 0) throw invalid(d.kind, name, errors);
    return obj;
  }
}
