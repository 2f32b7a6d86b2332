/**
 * Google Cloud model of the sandbox: projects, IAM service accounts (with their allow policies)
 * and Cloud Storage buckets (with theirs). Protocol-free: `gcp.ts` maps Google's REST APIs onto it.
 *
 * The rules are Google's where a caller can trip over them: account ids of 6–30 characters
 * matching `^[a-z]([-a-z0-9]*[a-z0-9])$`, display names ≤ 100 and descriptions ≤ 256 UTF-8 bytes,
 * 100 service accounts per project, one id per project (409 ALREADY_EXISTS), policy etags (a stale
 * one is 409 ABORTED on IAM, 412 conditionNotMet on Cloud Storage), member syntax, roles the
 * resource supports, 1,500 members per policy, and `deleted:serviceAccount:…?uid=…` members in
 * every policy that named an account after it is deleted. Only configured buckets and projects exist.
 */
import { randomInt } from 'node:crypto';
import { GcpError, invalidArgument, markDeleted, parsePolicy, type MemberContext, type PolicyBinding, type StoredPolicy } from './gcp-policy.js';
import { decodeToken, encodeToken, hexDigest } from './util.js';

export const GCP_DEFAULT_PROJECT = 'anyscale-sandbox';
export const GCP_DEFAULT_BUCKET = 'anyscale-sandbox-bucket';
/** The sandbox cloud's control-plane service account (exists from the start, in the first project). */
export const gcpControlPlaneAccount = (project: string): string => `anyscale-control-plane@${project}.iam.gserviceaccount.com`;

/** The etag IAM shows for a resource whose policy was never set. */
const EMPTY_POLICY_ETAG = 'ACAB';
const ACCOUNT_ID = /^[a-z]([-a-z0-9]*[a-z0-9])$/;
const SA_EMAIL = /^([^@]+)@([a-z0-9.:-]+)\.iam\.gserviceaccount\.com$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

export interface GcpBucketSpec {
  name: string;
  /** Owning project (default: the first project). */
  project?: string;
  /** Default `US`. */
  location?: string;
}

export interface GcpServiceAccountSpec {
  /** `<id>@<project>.iam.gserviceaccount.com` (or any Google service account e-mail); not held to the create rules. */
  email: string;
  displayName?: string;
  description?: string;
}

export interface GcpSandboxOptions {
  /** Projects that exist (default `anyscale-sandbox`); projects of the buckets and accounts below are added. */
  projects?: string[];
  /** Buckets that exist (default one, `anyscale-sandbox-bucket` in the first project). A bucket not listed answers 404. */
  buckets?: Array<string | GcpBucketSpec>;
  /**
   * Service accounts that exist before anyone creates one, besides the control plane's
   * (`anyscale-control-plane@<first project>.iam.gserviceaccount.com`, always there).
   */
  serviceAccounts?: Array<string | GcpServiceAccountSpec>;
  /** Service accounts per project (Google's default quota: 100). */
  serviceAccountQuota?: number;
}

export interface ServiceAccountRecord {
  project: string;
  accountId: string;
  email: string;
  uniqueId: string;
  displayName?: string;
  description?: string;
  disabled: boolean;
  policy: StoredPolicy;
}

export interface BucketRecord {
  name: string;
  project: string;
  location: string;
  timeCreated: string;
  updated: string;
  metageneration: number;
  policy: StoredPolicy;
}

export interface GcpSnapshot {
  etagCounter: number;
  projects: string[];
  serviceAccounts: ServiceAccountRecord[];
  buckets: BucketRecord[];
}

/** `SANDBOX_GCP_PROJECTS`, `SANDBOX_GCP_BUCKETS` (`bucket` or `project/bucket`, comma-separated), `SANDBOX_GCP_SERVICE_ACCOUNTS` (e-mails). */
export function gcpSandboxOptionsFromEnv(env: NodeJS.ProcessEnv): GcpSandboxOptions | undefined {
  const list = (v: string | undefined): string[] | undefined => {
    const items = v
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return items && items.length > 0 ? items : undefined;
  };
  const projects = list(env.SANDBOX_GCP_PROJECTS);
  const buckets = list(env.SANDBOX_GCP_BUCKETS)?.map((b): GcpBucketSpec => {
    const slash = b.indexOf('/');
    return slash > 0 ? { project: b.slice(0, slash), name: b.slice(slash + 1) } : { name: b };
  });
  const serviceAccounts = list(env.SANDBOX_GCP_SERVICE_ACCOUNTS);
  if (!projects && !buckets && !serviceAccounts) return undefined;
  return { projects, buckets, serviceAccounts };
}

/** A project's number, as Google shows it next to the id (deterministic here). */
export const projectNumber = (project: string): string => String(100_000_000_000 + (parseInt(hexDigest(`project:${project}`, 10), 16) % 900_000_000_000));

/** Base64 of `08 <varint n>`: the shape of Cloud Storage's metageneration etags (`CAE=` for 1). */
function gcsEtag(n: number): string {
  const bytes = [0x08];
  let v = n;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0);
  return Buffer.from(bytes).toString('base64');
}

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');
const clone = <T>(v: T): T => structuredClone(v);

export const notFoundAccount = (): GcpError => new GcpError(404, 'NOT_FOUND', 'Unknown service account');
const bucketNotFound = (): GcpError => new GcpError(404, 'NOT_FOUND', 'The specified bucket does not exist.', 'notFound');
const permissionDenied = (permission: string): GcpError =>
  new GcpError(403, 'PERMISSION_DENIED', `Permission '${permission}' denied on resource (or it may not exist).`, 'forbidden', [
    { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'IAM_PERMISSION_DENIED', domain: 'iam.googleapis.com', metadata: { permission } },
  ]);

export interface ServiceAccountPatch {
  displayName?: string;
  description?: string;
}

export class GcpState {
  private etagCounter = 0;
  private projects = new Set<string>();
  /** By lower-cased e-mail. */
  private accounts = new Map<string, ServiceAccountRecord>();
  private buckets = new Map<string, BucketRecord>();
  readonly serviceAccountQuota: number;

  constructor(private readonly options: GcpSandboxOptions = {}) {
    this.serviceAccountQuota = options.serviceAccountQuota ?? 100;
    this.reset();
  }

  // ------------------------------------------------------------- seeding, persistence

  /** The first configured project: default buckets and the control plane's account live there. */
  get firstProject(): string {
    return this.options.projects?.[0] ?? GCP_DEFAULT_PROJECT;
  }

  /** Adds whatever configured project, bucket or account is missing (keeps everything else). */
  seed(): void {
    const first = this.firstProject;
    for (const p of this.options.projects ?? [first]) this.projects.add(p);
    for (const b of this.options.buckets ?? [GCP_DEFAULT_BUCKET]) {
      const spec = typeof b === 'string' ? { name: b } : b;
      if (!this.buckets.has(spec.name)) this.addBucket(spec);
    }
    for (const a of [gcpControlPlaneAccount(first), ...(this.options.serviceAccounts ?? [])]) {
      const spec = typeof a === 'string' ? { email: a } : a;
      if (!this.accounts.has(spec.email.toLowerCase())) this.addServiceAccount(spec);
    }
  }

  reset(): void {
    this.restore({ etagCounter: this.etagCounter, projects: [], serviceAccounts: [], buckets: [] });
    this.seed();
  }

  snapshot(): GcpSnapshot {
    return clone({
      etagCounter: this.etagCounter,
      projects: [...this.projects],
      serviceAccounts: [...this.accounts.values()],
      buckets: [...this.buckets.values()],
    });
  }

  restore(s: GcpSnapshot): void {
    const snap = clone(s);
    // Never reuse an etag a caller may still hold.
    this.etagCounter = Math.max(this.etagCounter, snap.etagCounter);
    this.projects = new Set(snap.projects);
    this.accounts = new Map(snap.serviceAccounts.map((a) => [a.email.toLowerCase(), a]));
    this.buckets = new Map(snap.buckets.map((b) => [b.name, b]));
  }

  // ------------------------------------------------------------- admin helpers (tests, seeding)

  knownProject(project: string): boolean {
    return this.projects.has(project);
  }

  addProject(project: string): void {
    this.projects.add(project);
  }

  /** Adds a bucket (and its project) as if it had been made outside the service. */
  addBucket(spec: GcpBucketSpec): BucketRecord {
    const project = spec.project ?? this.firstProject;
    this.projects.add(project);
    const now = new Date().toISOString();
    const bucket: BucketRecord = {
      name: spec.name,
      project,
      location: spec.location ?? 'US',
      timeCreated: now,
      updated: now,
      metageneration: 1,
      // A new bucket's policy: the project's basic roles through the legacy bucket/object roles.
      policy: {
        version: 1,
        etag: gcsEtag(1),
        bindings: [
          { role: 'roles/storage.legacyBucketOwner', members: [`projectEditor:${project}`, `projectOwner:${project}`] },
          { role: 'roles/storage.legacyBucketReader', members: [`projectViewer:${project}`] },
          { role: 'roles/storage.legacyObjectOwner', members: [`projectEditor:${project}`, `projectOwner:${project}`] },
          { role: 'roles/storage.legacyObjectReader', members: [`projectViewer:${project}`] },
        ],
      },
    };
    this.buckets.set(bucket.name, bucket);
    return clone(bucket);
  }

  /** Adds an existing account by e-mail (no id rules: e.g. the seed's `sa1@xxx.iam.gserviceaccount.com`). */
  addServiceAccount(spec: GcpServiceAccountSpec): ServiceAccountRecord {
    const email = spec.email.toLowerCase();
    const m = SA_EMAIL.exec(email);
    const project = m?.[2] ?? this.firstProject;
    this.projects.add(project);
    const record: ServiceAccountRecord = {
      project,
      accountId: email.split('@')[0] ?? email,
      email,
      uniqueId: this.newUniqueId(),
      displayName: spec.displayName,
      description: spec.description,
      disabled: false,
      policy: { version: 1, etag: EMPTY_POLICY_ETAG, bindings: [] },
    };
    this.accounts.set(email, record);
    return clone(record);
  }

  serviceAccount(email: string): ServiceAccountRecord | undefined {
    const a = this.accounts.get(email.toLowerCase());
    return a && clone(a);
  }

  serviceAccounts(project?: string): ServiceAccountRecord[] {
    return [...this.accounts.values()].filter((a) => project === undefined || a.project === project).map(clone);
  }

  bucket(name: string): BucketRecord | undefined {
    const b = this.buckets.get(name);
    return b && clone(b);
  }

  bucketNames(): string[] {
    return [...this.buckets.keys()].sort();
  }

  // ------------------------------------------------------------- IAM v1: service accounts

  createServiceAccount(projectOrNumber: string, body: Record<string, unknown>): ServiceAccountRecord {
    const project = this.projectId(projectOrNumber);
    if (!this.projects.has(project)) throw permissionDenied('iam.serviceAccounts.create');
    const accountId = body.accountId;
    if (typeof accountId !== 'string' || accountId === '') throw invalidArgument('accountId is required.', 'account_id');
    if (accountId.length < 6 || accountId.length > 30 || !ACCOUNT_ID.test(accountId))
      throw invalidArgument(
        `Invalid value for field 'account_id': '${accountId}'. The account id must be 6-30 characters long and match the regular expression [a-z]([-a-z0-9]*[a-z0-9]).`,
        'account_id',
      );
    const sa = body.serviceAccount === undefined || body.serviceAccount === null ? {} : body.serviceAccount;
    if (typeof sa !== 'object' || Array.isArray(sa)) throw invalidArgument('serviceAccount must be an object.', 'service_account');
    const fields = this.checkFields(sa as Record<string, unknown>, 'service_account.');
    const email = `${accountId}@${project}.iam.gserviceaccount.com`;
    if (this.accounts.has(email))
      throw new GcpError(409, 'ALREADY_EXISTS', `Service account ${accountId} already exists within project projects/${project}.`, 'alreadyExists', [
        { '@type': 'type.googleapis.com/google.rpc.ResourceInfo', resourceName: `projects/${project}/serviceAccounts/${email}` },
      ]);
    if (this.serviceAccounts(project).length >= this.serviceAccountQuota)
      throw new GcpError(429, 'RESOURCE_EXHAUSTED', 'Maximum number of service accounts on project reached.', 'rateLimitExceeded', [
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '86401s' },
      ]);
    const record: ServiceAccountRecord = {
      project,
      accountId,
      email,
      uniqueId: this.newUniqueId(),
      ...fields,
      disabled: false,
      policy: { version: 1, etag: EMPTY_POLICY_ETAG, bindings: [] },
    };
    this.accounts.set(email, record);
    return clone(record);
  }

  listServiceAccounts(projectOrNumber: string, pageSize?: number, pageToken?: string): { accounts: ServiceAccountRecord[]; nextPageToken?: string } {
    const project = this.projectId(projectOrNumber);
    if (!this.projects.has(project)) throw permissionDenied('iam.serviceAccounts.list');
    if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 0)) throw invalidArgument('Invalid page size.', 'page_size');
    const size = !pageSize ? 20 : Math.min(pageSize, 100);
    let after: string | undefined;
    if (pageToken) {
      const token = decodeToken<{ p?: string; after?: string }>(pageToken);
      if (!token || token.p !== project || typeof token.after !== 'string') throw invalidArgument('Invalid page token.', 'page_token');
      after = token.after;
    }
    const all = this.serviceAccounts(project)
      .sort((a, b) => (a.email < b.email ? -1 : 1))
      .filter((a) => after === undefined || a.email > after);
    const page = all.slice(0, size);
    const last = page.at(-1);
    return { accounts: page, nextPageToken: all.length > page.length && last ? encodeToken({ p: project, after: last.email }) : undefined };
  }

  /** `projects/{p}/serviceAccounts/{email or uniqueId}`, `p` may be `-`. */
  getServiceAccount(project: string, id: string): ServiceAccountRecord {
    return clone(this.find(project, id));
  }

  patchServiceAccount(project: string, id: string, body: Record<string, unknown>): ServiceAccountRecord {
    const record = this.find(project, id);
    const sa = body.serviceAccount;
    if (typeof sa !== 'object' || sa === null || Array.isArray(sa)) throw invalidArgument('serviceAccount is required.', 'service_account');
    const mask = body.updateMask;
    if (typeof mask !== 'string' || mask.trim() === '') throw invalidArgument('update_mask is required.', 'update_mask');
    const paths = mask.split(',').map((p) => p.trim());
    const fields = this.checkFields(sa as Record<string, unknown>, 'service_account.');
    for (const path of paths) {
      if (path === 'displayName' || path === 'display_name') record.displayName = fields.displayName;
      else if (path === 'description') record.description = fields.description;
      else throw invalidArgument(`Invalid update_mask path: ${path}. Only display_name and description can be updated.`, 'update_mask');
    }
    return clone(record);
  }

  /** The older `PUT` (update): sets display name and description from the body. */
  updateServiceAccount(project: string, id: string, body: Record<string, unknown>): ServiceAccountRecord {
    const record = this.find(project, id);
    const fields = this.checkFields(body, '');
    record.displayName = fields.displayName;
    record.description = fields.description;
    return clone(record);
  }

  deleteServiceAccount(project: string, id: string): void {
    const record = this.find(project, id);
    this.accounts.delete(record.email);
    for (const other of this.accounts.values()) if (markDeleted(other.policy, record.email, record.uniqueId)) other.policy.etag = this.nextIamEtag();
    for (const b of this.buckets.values()) if (markDeleted(b.policy, record.email, record.uniqueId)) this.bumpBucket(b);
  }

  setDisabled(project: string, id: string, disabled: boolean): void {
    this.find(project, id).disabled = disabled;
  }

  getServiceAccountPolicy(project: string, id: string, requestedVersion?: number): StoredPolicy {
    const policy = this.find(project, id).policy;
    if (requestedVersion !== undefined && ![0, 1, 3].includes(requestedVersion))
      throw invalidArgument(`Invalid requested policy version ${requestedVersion}: valid versions are 1 and 3.`, 'options.requested_policy_version');
    if ((requestedVersion ?? 1) >= 3 || !policy.bindings.some((b) => b.condition)) return clone(policy);
    // A version-1 reader sees conditional bindings under a `_withcond_` role, without the condition.
    return {
      version: 1,
      etag: policy.etag,
      bindings: policy.bindings.map((b) =>
        b.condition ? { role: `${b.role}_withcond_${hexDigest(JSON.stringify(b.condition), 20).toLowerCase()}`, members: [...b.members] } : clone(b),
      ),
    };
  }

  setServiceAccountPolicy(project: string, id: string, body: Record<string, unknown>): StoredPolicy {
    const record = this.find(project, id);
    const policy = parsePolicy(body.policy, this.memberContext('serviceAccount'));
    if (policy.etag !== undefined && policy.etag !== record.policy.etag)
      throw new GcpError(
        409,
        'ABORTED',
        'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.',
        'conflict',
      );
    record.policy = { version: policy.version, etag: this.nextIamEtag(), bindings: policy.bindings };
    return clone(record.policy);
  }

  // ------------------------------------------------------------- Cloud Storage JSON API

  listBuckets(
    projectOrNumber: string | undefined,
    maxResults?: number,
    pageToken?: string,
    prefix?: string,
  ): { items: BucketRecord[]; nextPageToken?: string } {
    if (!projectOrNumber) throw new GcpError(400, 'INVALID_ARGUMENT', 'Required parameter: project', 'required');
    const project = this.projectId(projectOrNumber);
    if (!this.projects.has(project)) throw new GcpError(400, 'INVALID_ARGUMENT', `Unknown project id: ${project}`, 'invalid');
    if (maxResults !== undefined && (!Number.isInteger(maxResults) || maxResults < 0))
      throw new GcpError(400, 'INVALID_ARGUMENT', `Invalid unsigned integer value: '${maxResults}'.`, 'invalidParameter');
    const size = !maxResults ? 1000 : Math.min(maxResults, 1000);
    let after: string | undefined;
    if (pageToken) {
      const token = decodeToken<{ p?: string; after?: string }>(pageToken);
      if (!token || token.p !== project || typeof token.after !== 'string') throw new GcpError(400, 'INVALID_ARGUMENT', 'Invalid page token.', 'invalid');
      after = token.after;
    }
    const all = [...this.buckets.values()]
      .filter((b) => b.project === project && (!prefix || b.name.startsWith(prefix)) && (after === undefined || b.name > after))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const page = all.slice(0, size);
    const last = page.at(-1);
    return { items: page.map(clone), nextPageToken: all.length > page.length && last ? encodeToken({ p: project, after: last.name }) : undefined };
  }

  getBucket(name: string): BucketRecord {
    return clone(this.findBucket(name));
  }

  getBucketPolicy(name: string, requestedVersion?: number): StoredPolicy {
    const bucket = this.findBucket(name);
    if (requestedVersion !== undefined && ![1, 3].includes(requestedVersion))
      throw new GcpError(400, 'INVALID_ARGUMENT', `Invalid argument: requested policy version ${requestedVersion}.`, 'invalid');
    if (bucket.policy.version > (requestedVersion ?? 1))
      throw new GcpError(
        400,
        'INVALID_ARGUMENT',
        `Requested policy version (${requestedVersion ?? 1}) cannot be less than the existing policy version (${bucket.policy.version}).`,
        'invalid',
      );
    return clone(bucket.policy);
  }

  setBucketPolicy(name: string, body: unknown): StoredPolicy {
    const bucket = this.findBucket(name);
    const policy = parsePolicy(body, this.memberContext('bucket'));
    if (policy.etag !== undefined && policy.etag !== bucket.policy.etag)
      throw new GcpError(412, 'FAILED_PRECONDITION', 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
    bucket.policy.bindings = policy.bindings;
    bucket.policy.version = policy.version;
    this.bumpBucket(bucket);
    return clone(bucket.policy);
  }

  /** The sandbox's caller holds every permission: the valid `storage.*` permissions asked about come back. */
  testBucketPermissions(name: string, permissions: string[]): string[] {
    this.findBucket(name);
    if (permissions.length === 0) throw new GcpError(400, 'INVALID_ARGUMENT', 'Required parameter: permissions', 'required');
    const bad = permissions.find((p) => !/^storage\.[a-zA-Z]+\.[a-zA-Z]+$/.test(p));
    if (bad) throw new GcpError(400, 'INVALID_ARGUMENT', `Permission '${bad}' is not valid for this resource.`, 'invalid');
    return [...new Set(permissions)];
  }

  // ------------------------------------------------------------- internals

  private find(project: string, id: string): ServiceAccountRecord {
    const key = id.toLowerCase();
    const record = /^\d+$/.test(key) ? [...this.accounts.values()].find((a) => a.uniqueId === key) : this.accounts.get(key);
    if (!record || (project !== '-' && this.projectId(project) !== record.project)) throw notFoundAccount();
    return record;
  }

  /** Google takes a project's number wherever it takes its id. */
  private projectId(idOrNumber: string): string {
    if (!/^\d+$/.test(idOrNumber)) return idOrNumber;
    return [...this.projects].find((p) => projectNumber(p) === idOrNumber) ?? idOrNumber;
  }

  private findBucket(name: string): BucketRecord {
    if (!BUCKET_NAME.test(name)) throw new GcpError(400, 'INVALID_ARGUMENT', `Invalid bucket name: '${name}'`, 'invalid');
    const bucket = this.buckets.get(name);
    if (!bucket) throw bucketNotFound();
    return bucket;
  }

  private checkFields(sa: Record<string, unknown>, prefix: string): ServiceAccountPatch {
    const { displayName, description } = sa;
    if (displayName !== undefined && typeof displayName !== 'string') throw invalidArgument('displayName must be a string.', `${prefix}display_name`);
    if (description !== undefined && typeof description !== 'string') throw invalidArgument('description must be a string.', `${prefix}description`);
    if (displayName !== undefined && utf8Length(displayName) > 100)
      throw invalidArgument(`Display name ${JSON.stringify(displayName)} is too long: the maximum is 100 UTF-8 bytes.`, `${prefix}display_name`);
    if (description !== undefined && utf8Length(description) > 256)
      throw invalidArgument('Description is too long: the maximum is 256 UTF-8 bytes.', `${prefix}description`);
    return { displayName: displayName || undefined, description: description || undefined };
  }

  private memberContext(kind: 'serviceAccount' | 'bucket'): MemberContext {
    return {
      kind,
      knownProject: (p) => this.projects.has(p),
      serviceAccountExists: (email) => {
        const m = SA_EMAIL.exec(email.toLowerCase());
        if (!m || !this.projects.has(m[2] ?? '')) return undefined;
        return this.accounts.has(email.toLowerCase());
      },
    };
  }

  private bumpBucket(bucket: BucketRecord): void {
    bucket.metageneration += 1;
    bucket.policy.etag = gcsEtag(bucket.metageneration);
    bucket.updated = new Date().toISOString();
  }

  /** IAM-style etag: 8 bytes, base64 (`BwY…=`), never repeated. */
  private nextIamEtag(): string {
    this.etagCounter += 1;
    const buf = Buffer.alloc(8);
    buf.writeUInt16BE(0x0706, 0);
    buf.writeUIntBE(this.etagCounter, 2, 6);
    return buf.toString('base64');
  }

  private newUniqueId(): string {
    for (;;) {
      let id = '1';
      for (let i = 0; i < 20; i += 1) id += String(randomInt(10));
      if (![...this.accounts.values()].some((a) => a.uniqueId === id)) return id;
    }
  }
}

export type { PolicyBinding, StoredPolicy };
