/**
 * EKS Pod Identity in the sandbox: pod identity associations and cluster add-ons, with EKS's REST
 * paths, JSON shapes, rules and errors (REST-JSON, timestamps in epoch seconds):
 *
 *   POST   /clusters/{name}/pod-identity-associations              CreatePodIdentityAssociation
 *   GET    /clusters/{name}/pod-identity-associations              ListPodIdentityAssociations (namespace, serviceAccount, maxResults 1-100, nextToken)
 *   GET    /clusters/{name}/pod-identity-associations/{id}         DescribePodIdentityAssociation
 *   POST   /clusters/{name}/pod-identity-associations/{id}         UpdatePodIdentityAssociation
 *   DELETE /clusters/{name}/pod-identity-associations/{id}         DeletePodIdentityAssociation
 *   GET    /clusters/{name}/addons[/{addon}]                       ListAddons / DescribeAddon
 *   POST   /clusters/{name}/addons                                 CreateAddon
 *   DELETE /clusters/{name}/addons/{addon}                         DeleteAddon (immediate here)
 *   GET | POST | DELETE /tags/{resourceArn}                        ListTagsForResource / TagResource / UntagResource
 *
 * Rules: one association per (namespace, service account) per cluster (ResourceInUseException);
 * an unknown cluster, association or add-on → ResourceNotFoundException; a role ARN that is not an
 * IAM role ARN of this account, names a role that does not exist, or a role whose trust policy does
 * not let `pods.eks.amazonaws.com` `sts:AssumeRole` and `sts:TagSession` → InvalidParameterException;
 * tags as EKS limits them (≤ 50, key ≤ 128, value ≤ 256, no `aws:` prefix). Every sandbox cluster
 * gets the `eks-pod-identity-agent` add-on (ACTIVE) when it is registered; `aws eks delete-addon`
 * (or `removeAddon`) takes it away for a test.
 */
import { randomBytes } from 'node:crypto';
import type { IamState } from './iam-state.js';
import type { Reply } from './types.js';
import { decodeToken, encodeToken, isPlainObject, uuid } from './util.js';

/** EKS's PodIdentityAssociation wire shape; lib/ports.ts PodIdentityAssociationInfo mirrors the same API, so they coincide (the sandbox does not import the service's ports). */
export interface AssociationRecord {
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  associationId: string;
  associationArn: string;
  tags: Record<string, string>;
  createdAt: number;
  modifiedAt: number;
  disableSessionTags: boolean;
}

export interface AddonRecord {
  addonName: string;
  clusterName: string;
  addonVersion: string;
  addonArn: string;
  createdAt: number;
  modifiedAt: number;
  tags: Record<string, string>;
}

export interface PodIdentitySnapshot {
  associations: AssociationRecord[];
  addons: AddonRecord[];
}

export const POD_IDENTITY_AGENT = 'eks-pod-identity-agent';
const DEFAULT_ADDON_VERSIONS: Record<string, string> = { [POD_IDENTITY_AGENT]: 'v1.3.4-eksbuild.1' };

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const associationId = (): string => `a-${[...randomBytes(17)].map((b) => ID_CHARS[b % ID_CHARS.length]).join('')}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const ROLE_ARN = /^arn:aws(?:-cn|-us-gov|-iso(?:-[a-z])?)?:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const K8S_NAME = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;

export class EksError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new EksError(400, 'InvalidParameterException', message);
const notFound = (message: string) => new EksError(404, 'ResourceNotFoundException', message);
const inUse = (message: string) => new EksError(409, 'ResourceInUseException', message);

function checkTags(tags: unknown): Record<string, string> {
  if (tags === undefined || tags === null) return {};
  if (!isPlainObject(tags)) throw invalid('tags must be a map of strings');
  const entries = Object.entries(tags);
  if (entries.length > 50) throw invalid('The number of tags exceeds the limit of 50');
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw invalid(`tag ${k}: the value must be a string`);
    if (k.length < 1 || k.length > 128) throw invalid(`tag key ${JSON.stringify(k)} must be 1 to 128 characters`);
    if (v.length > 256) throw invalid(`tag ${k}: the value must be at most 256 characters`);
    if (k.toLowerCase().startsWith('aws:')) throw invalid(`tag key ${k}: the prefix aws: is reserved`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

export class PodIdentityState {
  private associations = new Map<string, AssociationRecord>();
  private addons = new Map<string, AddonRecord>();

  constructor(
    private readonly accountId: string,
    private readonly region: string,
    private readonly iam: IamState,
    private readonly clusterExists: (name: string) => boolean,
  ) {}

  private requireCluster(name: string): void {
    if (!this.clusterExists(name)) throw notFound(`No cluster found for name: ${name}.`);
  }

  private checkRoleArn(roleArn: unknown): string {
    if (typeof roleArn !== 'string' || roleArn === '') throw invalid('roleArn is required');
    const m = ROLE_ARN.exec(roleArn);
    if (!m) throw invalid(`Role arn ${roleArn} is not a valid IAM role ARN`);
    // Pod Identity takes a role of the cluster's own account (another account's role is reached through it, `targetRoleArn`).
    if (m[1] !== this.accountId) throw invalid(`Role ${roleArn} is not in the cluster's account ${this.accountId}`);
    const trust = this.trustOf(m[2] as string);
    if (trust === undefined) throw invalid(`Role ${roleArn} does not exist`);
    // As EKS checks it: the role must let the Pod Identity agent's service assume it with session tags.
    if (!trustsPodIdentity(trust))
      throw invalid('Trust policy of the role provided is invalid: it must allow pods.eks.amazonaws.com to sts:AssumeRole and sts:TagSession');
    return roleArn;
  }

  private trustOf(name: string): unknown {
    try {
      return JSON.parse(this.iam.getRole(name).assumeRolePolicyDocument) as unknown;
    } catch {
      return undefined;
    }
  }

  create(clusterName: string, body: Record<string, unknown>): AssociationRecord {
    this.requireCluster(clusterName);
    const { namespace, serviceAccount } = body;
    if (typeof namespace !== 'string' || !K8S_NAME.test(namespace))
      throw invalid(`namespace ${JSON.stringify(namespace)} is not a valid Kubernetes namespace name`);
    if (typeof serviceAccount !== 'string' || !K8S_NAME.test(serviceAccount))
      throw invalid(`serviceAccount ${JSON.stringify(serviceAccount)} is not a valid Kubernetes service account name`);
    const roleArn = this.checkRoleArn(body.roleArn);
    const tags = checkTags(body.tags);
    const existing = this.find(clusterName, namespace, serviceAccount);
    if (existing) throw inUse(`Association already exists: ${existing.associationId}`);
    const id = associationId();
    const at = nowSeconds();
    const record: AssociationRecord = {
      clusterName,
      namespace,
      serviceAccount,
      roleArn,
      associationId: id,
      associationArn: `arn:aws:eks:${this.region}:${this.accountId}:podidentityassociation/${clusterName}/${id}`,
      tags,
      createdAt: at,
      modifiedAt: at,
      disableSessionTags: body.disableSessionTags === true,
    };
    this.associations.set(id, record);
    return record;
  }

  private find(clusterName: string, namespace: string, serviceAccount: string): AssociationRecord | undefined {
    for (const a of this.associations.values()) if (a.clusterName === clusterName && a.namespace === namespace && a.serviceAccount === serviceAccount) return a;
    return undefined;
  }

  describe(clusterName: string, id: string): AssociationRecord {
    this.requireCluster(clusterName);
    const a = this.associations.get(id);
    if (!a || a.clusterName !== clusterName) throw notFound(`No Pod Identity Association found for id: ${id} in cluster: ${clusterName}`);
    return a;
  }

  update(clusterName: string, id: string, body: Record<string, unknown>): AssociationRecord {
    const a = this.describe(clusterName, id);
    if (body.roleArn !== undefined) a.roleArn = this.checkRoleArn(body.roleArn);
    if (typeof body.disableSessionTags === 'boolean') a.disableSessionTags = body.disableSessionTags;
    a.modifiedAt = nowSeconds();
    return a;
  }

  delete(clusterName: string, id: string): AssociationRecord {
    const a = this.describe(clusterName, id);
    this.associations.delete(id);
    return a;
  }

  list(clusterName: string, filter: { namespace?: string; serviceAccount?: string }): AssociationRecord[] {
    this.requireCluster(clusterName);
    return [...this.associations.values()]
      .filter(
        (a) =>
          a.clusterName === clusterName &&
          (filter.namespace === undefined || a.namespace === filter.namespace) &&
          (filter.serviceAccount === undefined || a.serviceAccount === filter.serviceAccount),
      )
      .sort((x, y) => x.createdAt - y.createdAt || (x.associationId < y.associationId ? -1 : 1));
  }

  /** Every association (tests, inspection). */
  all(): AssociationRecord[] {
    return [...this.associations.values()];
  }

  /** Installs an add-on (CreateAddon; the sandbox's clusters get eks-pod-identity-agent when registered). */
  addAddon(clusterName: string, addonName: string, options: { version?: string; tags?: Record<string, string> } = {}): AddonRecord {
    this.requireCluster(clusterName);
    const key = `${clusterName}\u0000${addonName}`;
    if (this.addons.has(key)) throw inUse(`Addon already exists: ${addonName}`);
    const at = nowSeconds();
    const record: AddonRecord = {
      addonName,
      clusterName,
      addonVersion: options.version ?? DEFAULT_ADDON_VERSIONS[addonName] ?? 'v1.0.0-eksbuild.1',
      addonArn: `arn:aws:eks:${this.region}:${this.accountId}:addon/${clusterName}/${addonName}/${uuid()}`,
      createdAt: at,
      modifiedAt: at,
      tags: options.tags ?? {},
    };
    this.addons.set(key, record);
    return record;
  }

  describeAddon(clusterName: string, addonName: string): AddonRecord {
    this.requireCluster(clusterName);
    const a = this.addons.get(`${clusterName}\u0000${addonName}`);
    if (!a) throw notFound(`No addon: ${addonName} found in cluster: ${clusterName}`);
    return a;
  }

  listAddons(clusterName: string): string[] {
    this.requireCluster(clusterName);
    return [...this.addons.values()].filter((a) => a.clusterName === clusterName).map((a) => a.addonName);
  }

  /** DeleteAddon, immediately (EKS takes a while); also the knob a test uses to take the agent away. */
  removeAddon(clusterName: string, addonName: string): AddonRecord {
    const a = this.describeAddon(clusterName, addonName);
    this.addons.delete(`${clusterName}\u0000${addonName}`);
    return a;
  }

  /** The record an EKS ARN names (associations, add-ons), for the tagging API. */
  byArn(arn: string): { tags: Record<string, string> } | undefined {
    for (const a of this.associations.values()) if (a.associationArn === arn) return a;
    for (const a of this.addons.values()) if (a.addonArn === arn) return a;
    return undefined;
  }

  /** Forgets what belongs to a cluster (it was replaced or removed). */
  dropCluster(clusterName: string): void {
    for (const [id, a] of this.associations) if (a.clusterName === clusterName) this.associations.delete(id);
    for (const [k, a] of this.addons) if (a.clusterName === clusterName) this.addons.delete(k);
  }

  snapshot(): PodIdentitySnapshot {
    return structuredClone({ associations: [...this.associations.values()], addons: [...this.addons.values()] });
  }

  restore(snapshot: PodIdentitySnapshot | undefined): void {
    this.associations = new Map((snapshot?.associations ?? []).map((a) => [a.associationId, structuredClone(a)]));
    this.addons = new Map((snapshot?.addons ?? []).map((a) => [`${a.clusterName}\u0000${a.addonName}`, structuredClone(a)]));
  }

  clear(): void {
    this.associations.clear();
    this.addons.clear();
  }
}

export const associationJson = (a: AssociationRecord) => ({
  clusterName: a.clusterName,
  namespace: a.namespace,
  serviceAccount: a.serviceAccount,
  roleArn: a.roleArn,
  associationArn: a.associationArn,
  associationId: a.associationId,
  tags: a.tags,
  createdAt: a.createdAt,
  modifiedAt: a.modifiedAt,
  disableSessionTags: a.disableSessionTags,
});

const summaryJson = (a: AssociationRecord) => ({
  clusterName: a.clusterName,
  namespace: a.namespace,
  serviceAccount: a.serviceAccount,
  associationArn: a.associationArn,
  associationId: a.associationId,
});

const addonJson = (a: AddonRecord, status = 'ACTIVE') => ({
  addonName: a.addonName,
  clusterName: a.clusterName,
  status,
  addonVersion: a.addonVersion,
  health: { issues: [] },
  addonArn: a.addonArn,
  createdAt: a.createdAt,
  modifiedAt: a.modifiedAt,
  tags: a.tags,
});

/** One EKS Pod Identity / add-on / tagging call: what the router needs to log it and run it. */
export interface PodIdentityCall {
  action: string;
  mutating: boolean;
  params: Record<string, string | undefined>;
  /** The answer's status and JSON body; EksError for EKS's errors. */
  run(): { status: number; body: unknown; committed?: boolean };
}

function parseBody(body: string): Record<string, unknown> {
  if (body.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new EksError(400, 'InvalidRequestException', 'The request body is not valid JSON');
  }
  if (!isPlainObject(parsed)) throw new EksError(400, 'InvalidRequestException', 'The request body must be a JSON object');
  return parsed;
}

/** What IAM authorises a create / update by besides the cluster (the role passed, the tags): logged with the call. */
function authorisationParams(body: string): Record<string, string | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return {};
  }
  if (!isPlainObject(parsed)) return {};
  return {
    ...(typeof parsed.roleArn === 'string' ? { roleArn: parsed.roleArn } : {}),
    ...(isPlainObject(parsed.tags) ? { tagKeys: Object.keys(parsed.tags).join(',') } : {}),
  };
}

function paging(query: URLSearchParams): { start: number; max: number } {
  const rawMax = query.get('maxResults');
  const max = rawMax === null ? 100 : Number(rawMax);
  if (!Number.isInteger(max) || max < 1 || max > 100) throw invalid(`maxResults must be between 1 and 100, got ${rawMax}`);
  const token = query.get('nextToken');
  if (token === null || token === '') return { start: 0, max };
  const decoded = decodeToken<{ i: number }>(token);
  if (!decoded || !Number.isInteger(decoded.i) || decoded.i < 0) throw invalid('The nextToken is not valid');
  return { start: decoded.i, max };
}

function page<T>(items: T[], query: URLSearchParams): { items: T[]; nextToken?: string } {
  const { start, max } = paging(query);
  const slice = items.slice(start, start + max);
  return { items: slice, ...(start + max < items.length ? { nextToken: encodeToken({ i: start + max }) } : {}) };
}

/**
 * Resolves a Pod Identity / add-on / tagging request (path relative to the AWS endpoint), or
 * undefined when the path is none of them.
 */
export function podIdentityCall(state: PodIdentityState, method: string, path: string, query: URLSearchParams, body: string): PodIdentityCall | undefined {
  const tags = /^\/tags\/(.+)$/.exec(path);
  if (tags) {
    const arn = decodeURIComponent(tags[1] as string);
    const target = () => {
      const t = state.byArn(arn);
      if (!t) throw notFound(`Resource ${arn} not found`);
      return t;
    };
    if (method === 'GET')
      return { action: 'ListTagsForResource', mutating: false, params: { resourceArn: arn }, run: () => ({ status: 200, body: { tags: target().tags } }) };
    if (method === 'POST') {
      return {
        action: 'TagResource',
        mutating: true,
        params: { resourceArn: arn, ...authorisationParams(body) },
        run: () => {
          const t = target();
          const add = checkTags(parseBody(body).tags);
          const merged = { ...t.tags, ...add };
          checkTags(merged);
          t.tags = merged;
          return { status: 200, body: {}, committed: true };
        },
      };
    }
    if (method === 'DELETE') {
      return {
        action: 'UntagResource',
        mutating: true,
        params: { resourceArn: arn },
        run: () => {
          const t = target();
          for (const k of query.getAll('tagKeys')) delete t.tags[k];
          return { status: 200, body: {}, committed: true };
        },
      };
    }
    return undefined;
  }

  const m = /^\/clusters\/([^/]+)\/(pod-identity-associations|addons)(?:\/([^/]+))?\/?$/.exec(path);
  if (!m) return undefined;
  const cluster = decodeURIComponent(m[1] as string);
  const id = m[3] === undefined ? undefined : decodeURIComponent(m[3]);
  if (m[2] === 'addons') {
    if (method === 'GET' && id === undefined) {
      return {
        action: 'ListAddons',
        mutating: false,
        params: { name: cluster },
        run: () => {
          const p = page(state.listAddons(cluster), query);
          return { status: 200, body: { addons: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) } };
        },
      };
    }
    if (method === 'GET' && id !== undefined)
      return {
        action: 'DescribeAddon',
        mutating: false,
        params: { name: cluster, addonName: id },
        run: () => ({ status: 200, body: { addon: addonJson(state.describeAddon(cluster, id)) } }),
      };
    if (method === 'POST' && id === undefined) {
      return {
        action: 'CreateAddon',
        mutating: true,
        params: { name: cluster },
        run: () => {
          const b = parseBody(body);
          if (typeof b.addonName !== 'string' || b.addonName === '') throw invalid('addonName is required');
          const addon = state.addAddon(cluster, b.addonName, {
            ...(typeof b.addonVersion === 'string' ? { version: b.addonVersion } : {}),
            tags: checkTags(b.tags),
          });
          return { status: 200, body: { addon: addonJson(addon, 'CREATING') }, committed: true };
        },
      };
    }
    if (method === 'DELETE' && id !== undefined) {
      return {
        action: 'DeleteAddon',
        mutating: true,
        params: { name: cluster, addonName: id },
        run: () => ({ status: 200, body: { addon: addonJson(state.removeAddon(cluster, id), 'DELETING') }, committed: true }),
      };
    }
    return undefined;
  }

  if (id === undefined) {
    if (method === 'POST') {
      return {
        action: 'CreatePodIdentityAssociation',
        mutating: true,
        params: { name: cluster, ...authorisationParams(body) },
        run: () => ({ status: 200, body: { association: associationJson(state.create(cluster, parseBody(body))) }, committed: true }),
      };
    }
    if (method === 'GET') {
      const filter = {
        ...(query.get('namespace') ? { namespace: query.get('namespace') as string } : {}),
        ...(query.get('serviceAccount') ? { serviceAccount: query.get('serviceAccount') as string } : {}),
      };
      return {
        action: 'ListPodIdentityAssociations',
        mutating: false,
        params: { name: cluster, ...filter },
        run: () => {
          const p = page(state.list(cluster, filter), query);
          return { status: 200, body: { associations: p.items.map(summaryJson), ...(p.nextToken ? { nextToken: p.nextToken } : {}) } };
        },
      };
    }
    return undefined;
  }
  if (method === 'GET')
    return {
      action: 'DescribePodIdentityAssociation',
      mutating: false,
      params: { name: cluster, associationId: id },
      run: () => ({ status: 200, body: { association: associationJson(state.describe(cluster, id)) } }),
    };
  if (method === 'POST') {
    return {
      action: 'UpdatePodIdentityAssociation',
      mutating: true,
      params: { name: cluster, associationId: id, ...authorisationParams(body) },
      run: () => ({ status: 200, body: { association: associationJson(state.update(cluster, id, parseBody(body))) }, committed: true }),
    };
  }
  if (method === 'DELETE') {
    return {
      action: 'DeletePodIdentityAssociation',
      mutating: true,
      params: { name: cluster, associationId: id },
      run: () => ({ status: 200, body: { association: associationJson(state.delete(cluster, id)) }, committed: true }),
    };
  }
  return undefined;
}

/** Renders a call's outcome as EKS does (JSON body; errors with `x-amzn-errortype` and `{message}`). */
export function runPodIdentityCall(call: PodIdentityCall, requestId: string): Reply {
  try {
    const out = call.run();
    return {
      status: out.status,
      headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId },
      body: JSON.stringify(out.body),
      ...(out.committed ? { committed: true } : {}),
    };
  } catch (e) {
    if (!(e instanceof EksError)) throw e;
    return {
      status: e.status,
      headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': e.code },
      body: JSON.stringify({ message: e.message }),
      errorCode: e.code,
    };
  }
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const actionCovers = (pattern: unknown, action: string) =>
  typeof pattern === 'string' &&
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  ).test(action);

/** An Allow statement for the service principal pods.eks.amazonaws.com covering both actions the agent calls. */
function trustsPodIdentity(doc: unknown): boolean {
  if (typeof doc !== 'object' || doc === null) return false;
  return list((doc as { Statement?: unknown }).Statement).some((st) => {
    if (typeof st !== 'object' || st === null) return false;
    const { Effect, Principal, Action } = st as { Effect?: unknown; Principal?: unknown; Action?: unknown };
    if (Effect !== 'Allow' || typeof Principal !== 'object' || Principal === null) return false;
    if (!list((Principal as { Service?: unknown }).Service).includes('pods.eks.amazonaws.com')) return false;
    const actions = list(Action);
    return ['sts:AssumeRole', 'sts:TagSession'].every((a) => actions.some((p) => actionCovers(p, a)));
  });
}
