/** Kubernetes resource definitions served by the sandbox, Status errors, and object validation. */
import { isPlainObject } from './util.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface ResourceDef {
  /** Plural resource name used in URLs. */
  resource: string;
  singularName: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  /** Top-level fields kept on write besides apiVersion/kind/metadata (unknown fields are pruned, as the API server does). */
  fields: string[];
  /** Fields an update through the main resource cannot change (status subresource semantics). */
  preservedOnUpdate: string[];
  validateName(name: string): string | undefined;
  validateFields?(obj: K8sObject): Array<{ field: string; message: string }>;
  /** Server-side defaults applied on create. */
  defaults?(obj: K8sObject): void;
  columns: TableColumn[];
  cells(obj: K8sObject, age: string): unknown[];
}

export class K8sError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export const notFound = (resource: string, name: string) => new K8sError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
export const alreadyExists = (resource: string, name: string) =>
  new K8sError(409, 'AlreadyExists', `${resource} "${name}" already exists`, { name, kind: resource });
export const conflict = (resource: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
  new K8sError(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, { name, kind: resource });
export const badRequest = (message: string) => new K8sError(400, 'BadRequest', message);
export const invalid = (kind: string, name: string, causes: Array<{ field: string; message: string }>) =>
  new K8sError(422, 'Invalid', `${kind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
    name,
    kind,
    causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
  });

// ------------------------------------------------------------------ name and metadata validation

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

export function validateDnsLabel(name: string): string | undefined {
  if (name.length > 63) return 'must be no more than 63 characters';
  if (!DNS1123_LABEL.test(name)) {
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
  }
  return undefined;
}

export function validateDnsSubdomain(name: string): string | undefined {
  if (name.length > 253) return 'must be no more than 253 characters';
  if (!DNS1123_SUBDOMAIN.test(name)) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

function validateQualifiedKey(k: string): string | undefined {
  const slash = k.lastIndexOf('/');
  const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  if (prefix !== undefined && (prefix.length === 0 || validateDnsSubdomain(prefix))) return 'prefix part must be a lowercase RFC 1123 subdomain';
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (max 63)";
  }
  return undefined;
}

/** Checks labels/annotations shape and syntax; returns field errors. */
export function validateMetadata(meta: Record<string, unknown>): Array<{ field: string; message: string }> {
  const errors: Array<{ field: string; message: string }> = [];
  for (const field of ['labels', 'annotations'] as const) {
    const map = meta[field];
    if (map === undefined) continue;
    if (!isPlainObject(map)) {
      errors.push({ field: `metadata.${field}`, message: 'Invalid value: must be a map of strings' });
      continue;
    }
    for (const [k, v] of Object.entries(map)) {
      const keyError = validateQualifiedKey(k);
      if (keyError) errors.push({ field: `metadata.${field}`, message: `Invalid value: "${k}": ${keyError}` });
      if (typeof v !== 'string') errors.push({ field: `metadata.${field}`, message: `Invalid value: ${JSON.stringify(v)}: must be a string` });
      else if (field === 'labels' && (v.length > 63 || !LABEL_VALUE.test(v))) {
        errors.push({
          field: 'metadata.labels',
          message: `Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (max 63)`,
        });
      }
    }
    if (field === 'annotations' && Buffer.byteLength(JSON.stringify(map)) > MAX_ANNOTATIONS_BYTES) {
      errors.push({ field: 'metadata.annotations', message: 'Too long: must have at most 262144 bytes' });
    }
  }
  return errors;
}

// ------------------------------------------------------------------ resource table

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update'];
const NAME_COLUMN: TableColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.',
  priority: 0,
};
const AGE_COLUMN: TableColumn = {
  name: 'Age',
  type: 'string',
  format: '',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
};

export const RESOURCES: Record<string, ResourceDef> = {
  namespaces: {
    resource: 'namespaces',
    singularName: 'namespace',
    kind: 'Namespace',
    listKind: 'NamespaceList',
    namespaced: false,
    shortNames: ['ns'],
    fields: ['spec', 'status'],
    preservedOnUpdate: ['status'],
    validateName: validateDnsLabel,
    defaults(obj) {
      obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name };
      obj.spec = { finalizers: ['kubernetes'] };
      obj.status = { phase: 'Active' };
    },
    columns: [NAME_COLUMN, { name: 'Status', type: 'string', format: '', description: 'The status of the namespace', priority: 0 }, AGE_COLUMN],
    cells: (obj, age) => [obj.metadata.name, (obj.status as { phase?: string } | undefined)?.phase ?? '', age],
  },
  serviceaccounts: {
    resource: 'serviceaccounts',
    singularName: 'serviceaccount',
    kind: 'ServiceAccount',
    listKind: 'ServiceAccountList',
    namespaced: true,
    shortNames: ['sa'],
    fields: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
    preservedOnUpdate: [],
    validateName: validateDnsSubdomain,
    validateFields(obj) {
      const errors: Array<{ field: string; message: string }> = [];
      for (const field of ['secrets', 'imagePullSecrets']) {
        const v = obj[field];
        if (v !== undefined && (!Array.isArray(v) || !v.every(isPlainObject)))
          errors.push({ field, message: 'Invalid value: must be a list of object references' });
      }
      const auto = obj.automountServiceAccountToken;
      if (auto !== undefined && typeof auto !== 'boolean') errors.push({ field: 'automountServiceAccountToken', message: 'Invalid value: must be a boolean' });
      return errors;
    },
    columns: [
      NAME_COLUMN,
      {
        name: 'Secrets',
        type: 'integer',
        format: '',
        description: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
        priority: 0,
      },
      AGE_COLUMN,
    ],
    cells: (obj, age) => [obj.metadata.name, Array.isArray(obj.secrets) ? obj.secrets.length : 0, age],
  },
};

export const VERBS_FOR_DISCOVERY = VERBS;
