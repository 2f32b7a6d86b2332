/**
 * Google Cloud IAM allow policies as the sandbox's service accounts and buckets hold them: the
 * policy grammar ({version, etag, bindings: [{role, members, condition?}]}), member syntax, the
 * roles each kind of resource supports, and normalisation (bindings merged per role and condition,
 * members de-duplicated and sorted, empty bindings dropped), as Google answers a setIamPolicy.
 */
import { isPlainObject, shown } from './util.js';

export interface PolicyCondition {
  expression: string;
  title: string;
  description?: string;
}

export interface PolicyBinding {
  role: string;
  members: string[];
  condition?: PolicyCondition;
}

export interface StoredPolicy {
  version: number;
  etag: string;
  bindings: PolicyBinding[];
}

/** A policy problem: Google's HTTP status and canonical status, plus the GCS reason. */
export class GcpError extends Error {
  constructor(
    readonly httpStatus: number,
    /** Canonical status (`INVALID_ARGUMENT`, `NOT_FOUND`, …), what the IAM API shows. */
    readonly status: string,
    message: string,
    /** GCS JSON API reason (`invalid`, `notFound`, `conflict`, `conditionNotMet`, …). */
    readonly reason: string = REASONS[status] ?? status,
    readonly details?: unknown[],
  ) {
    super(message);
  }
}

const REASONS: Record<string, string> = {
  INVALID_ARGUMENT: 'invalid',
  NOT_FOUND: 'notFound',
  ALREADY_EXISTS: 'conflict',
  ABORTED: 'conflict',
  FAILED_PRECONDITION: 'conditionNotMet',
  PERMISSION_DENIED: 'forbidden',
  UNAUTHENTICATED: 'required',
  RESOURCE_EXHAUSTED: 'rateLimitExceeded',
  UNAVAILABLE: 'backendError',
  INTERNAL: 'backendError',
};

export const invalidArgument = (message: string, field?: string): GcpError =>
  new GcpError(
    400,
    'INVALID_ARGUMENT',
    message,
    'invalid',
    field ? [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field, description: message }] }] : undefined,
  );

/** IAM's ceiling: principals (members, counted per binding) in one allow policy. */
export const MAX_POLICY_MEMBERS = 1500;

/** Predefined roles grantable on a service account (roles Google lists for that resource type). */
export const SERVICE_ACCOUNT_ROLES: ReadonlySet<string> = new Set([
  'roles/owner',
  'roles/editor',
  'roles/viewer',
  'roles/iam.workloadIdentityUser',
  'roles/iam.serviceAccountUser',
  'roles/iam.serviceAccountTokenCreator',
  'roles/iam.serviceAccountOpenIdTokenCreator',
  'roles/iam.serviceAccountAdmin',
  'roles/iam.serviceAccountKeyAdmin',
  'roles/iam.serviceAccountViewer',
  'roles/iam.securityAdmin',
  'roles/iam.securityReviewer',
]);

/** Predefined roles grantable on a bucket (basic roles are not: they apply to the project). */
export const BUCKET_ROLES: ReadonlySet<string> = new Set([
  'roles/storage.admin',
  'roles/storage.objectAdmin',
  'roles/storage.objectCreator',
  'roles/storage.objectViewer',
  'roles/storage.objectUser',
  'roles/storage.bucketViewer',
  'roles/storage.folderAdmin',
  'roles/storage.insightsCollectorService',
  'roles/storage.legacyBucketOwner',
  'roles/storage.legacyBucketReader',
  'roles/storage.legacyBucketWriter',
  'roles/storage.legacyObjectOwner',
  'roles/storage.legacyObjectReader',
]);

export type PolicyResourceKind = 'serviceAccount' | 'bucket';

/** What member validation needs to know about the sandbox's cloud. */
export interface MemberContext {
  kind: PolicyResourceKind;
  /** True when `project` is one of the sandbox's projects. */
  knownProject(project: string): boolean;
  /** For e-mails of a sandbox project's service accounts (`id@project.iam.gserviceaccount.com`): does it exist? */
  serviceAccountExists(email: string): boolean | undefined;
}

const EMAIL = /^[^@\s:]+@[^@\s:]+\.[^@\s:]+$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const WORKLOAD_IDENTITY = /^([a-z0-9.:-]+)\.svc\.id\.goog\[([^/\]]*)\/([^\]]*)\]$/;
const CUSTOM_ROLE = /^(projects\/[a-z0-9.:-]+|organizations\/\d+)\/roles\/[A-Za-z0-9_.]{3,64}$/;
const PREDEFINED_ROLE = /^roles\/[A-Za-z0-9_.]+$/;

/** Why a member string is refused (undefined when it is accepted). */
export function memberProblem(member: string, ctx: MemberContext): GcpError | undefined {
  if (member === 'allUsers' || member === 'allAuthenticatedUsers') return undefined;
  const colon = member.indexOf(':');
  if (colon <= 0) return invalidArgument('Policy members must be of the form "<type>:<value>".', 'policy.bindings.members');
  const type = member.slice(0, colon);
  const value = member.slice(colon + 1);
  switch (type) {
    case 'user':
    case 'group':
      return EMAIL.test(value) ? undefined : invalidArgument(`Invalid principal: ${member}. The value must be an e-mail address.`, 'policy.bindings.members');
    case 'domain':
      return DNS_SUBDOMAIN.test(value)
        ? undefined
        : invalidArgument(`Invalid principal: ${member}. The value must be a domain name.`, 'policy.bindings.members');
    case 'serviceAccount': {
      const wi = WORKLOAD_IDENTITY.exec(value);
      if (wi) {
        const [, project = '', namespace = '', ksa = ''] = wi;
        if (!ctx.knownProject(project))
          return invalidArgument(
            `Identity Pool does not exist (${project}.svc.id.goog). Please check that you specified a valid resource name as returned in the \`name\` attribute in the configuration API.`,
            'policy.bindings.members',
          );
        if (!DNS_LABEL.test(namespace) || namespace.length > 63 || !DNS_SUBDOMAIN.test(ksa) || ksa.length > 253)
          return invalidArgument(
            `Invalid service account (${value}): the Kubernetes namespace and service account name must be DNS names.`,
            'policy.bindings.members',
          );
        return undefined;
      }
      if (!EMAIL.test(value)) return invalidArgument(`Invalid service account (${value}).`, 'policy.bindings.members');
      if (ctx.serviceAccountExists(value) === false) return invalidArgument(`Service account ${value} does not exist.`, 'policy.bindings.members');
      return undefined;
    }
    case 'deleted': {
      const m = /^(user|group|serviceAccount):([^?]+)\?uid=\d+$/.exec(value);
      return m && EMAIL.test(m[2] ?? '') ? undefined : invalidArgument(`Invalid principal: ${member}.`, 'policy.bindings.members');
    }
    case 'principal':
    case 'principalSet':
      return value.startsWith('//iam.googleapis.com/') ? undefined : invalidArgument(`Invalid principal: ${member}.`, 'policy.bindings.members');
    case 'projectOwner':
    case 'projectEditor':
    case 'projectViewer':
      if (ctx.kind !== 'bucket') break;
      return ctx.knownProject(value) ? undefined : invalidArgument(`Invalid principal: ${member}. Unknown project ${value}.`, 'policy.bindings.members');
    default:
      break;
  }
  return invalidArgument(`Invalid principal: ${member}. Unsupported principal type "${type}".`, 'policy.bindings.members');
}

function roleProblem(role: string, kind: PolicyResourceKind): GcpError | undefined {
  if (CUSTOM_ROLE.test(role)) return undefined;
  if (!PREDEFINED_ROLE.test(role)) return invalidArgument(`Role (${role}) does not exist in the resource's hierarchy.`, 'policy.bindings.role');
  const supported = kind === 'bucket' ? BUCKET_ROLES : SERVICE_ACCOUNT_ROLES;
  return supported.has(role) ? undefined : invalidArgument(`Role ${role} is not supported for this resource.`, 'policy.bindings.role');
}

function parseCondition(raw: unknown): PolicyCondition {
  if (!isPlainObject(raw)) throw invalidArgument('Invalid condition: it must be an object with title and expression.', 'policy.bindings.condition');
  const { expression, title, description } = raw;
  if (typeof expression !== 'string' || expression.trim() === '')
    throw invalidArgument('Invalid condition: expression is required.', 'policy.bindings.condition.expression');
  if (typeof title !== 'string' || title.trim() === '') throw invalidArgument('Invalid condition: title is required.', 'policy.bindings.condition.title');
  if (title.length > 100) throw invalidArgument('Invalid condition: title must be at most 100 characters.', 'policy.bindings.condition.title');
  if (description !== undefined && typeof description !== 'string')
    throw invalidArgument('Invalid condition: description must be a string.', 'policy.bindings.condition.description');
  return description ? { expression, title, description } : { expression, title };
}

const conditionKey = (c: PolicyCondition | undefined): string => (c ? JSON.stringify([c.title, c.expression, c.description ?? '']) : '');

/**
 * Validates a policy a caller sends and returns its normal form (bindings merged per role and
 * condition, sorted by role; members de-duplicated and sorted; bindings without members dropped).
 */
export function parsePolicy(raw: unknown, ctx: MemberContext): { version: number; etag: string | undefined; bindings: PolicyBinding[] } {
  if (!isPlainObject(raw)) throw invalidArgument('Invalid policy: the request must carry a policy object.', 'policy');
  const version = raw.version === undefined || raw.version === null ? 1 : raw.version;
  if (version !== 0 && version !== 1 && version !== 3)
    throw invalidArgument(`Invalid policy version ${shown(version)}: valid versions are 1 and 3.`, 'policy.version');
  const etag = raw.etag;
  if (etag !== undefined && etag !== null && (typeof etag !== 'string' || !/^[A-Za-z0-9+/=_-]*$/.test(etag)))
    throw invalidArgument('Invalid policy etag: it must be the base64 etag a getIamPolicy returned.', 'policy.etag');
  const rawBindings = raw.bindings ?? [];
  if (!Array.isArray(rawBindings)) throw invalidArgument('Invalid policy: bindings must be a list.', 'policy.bindings');
  const merged = new Map<string, PolicyBinding>();
  let members = 0;
  for (const [i, b] of rawBindings.entries()) {
    if (!isPlainObject(b)) throw invalidArgument(`Invalid policy: bindings[${i}] must be an object.`, `policy.bindings[${i}]`);
    if (typeof b.role !== 'string' || b.role === '') throw invalidArgument(`Invalid policy: bindings[${i}].role is required.`, `policy.bindings[${i}].role`);
    const roleErr = roleProblem(b.role, ctx.kind);
    if (roleErr) throw roleErr;
    const list = b.members ?? [];
    if (!Array.isArray(list) || list.some((m) => typeof m !== 'string'))
      throw invalidArgument(`Invalid policy: bindings[${i}].members must be a list of strings.`, `policy.bindings[${i}].members`);
    for (const m of list as string[]) {
      const err = memberProblem(m, ctx);
      if (err) throw err;
    }
    const condition = b.condition === undefined || b.condition === null ? undefined : parseCondition(b.condition);
    if (condition && version !== 3)
      throw invalidArgument('Invalid policy: a binding with a condition requires policy version 3.', `policy.bindings[${i}].condition`);
    members += list.length;
    const key = `${b.role}\u0000${conditionKey(condition)}`;
    const into = merged.get(key) ?? { role: b.role, members: [], ...(condition ? { condition } : {}) };
    into.members.push(...(list as string[]));
    merged.set(key, into);
  }
  if (members > MAX_POLICY_MEMBERS)
    throw invalidArgument(
      `The number of members in the policy (${members.toLocaleString('en-US')}) is larger than the maximum allowed size ${MAX_POLICY_MEMBERS.toLocaleString('en-US')}.`,
      'policy.bindings',
    );
  const bindings = [...merged.values()]
    .map((b) => ({ ...b, members: [...new Set(b.members)].sort() }))
    .filter((b) => b.members.length > 0)
    .sort((a, b) => (a.role === b.role ? conditionKey(a.condition).localeCompare(conditionKey(b.condition)) : a.role < b.role ? -1 : 1));
  const hasConditions = bindings.some((b) => b.condition);
  return { version: hasConditions ? 3 : 1, etag: typeof etag === 'string' ? etag : undefined, bindings };
}

/** `serviceAccount:<email>` → `deleted:serviceAccount:<email>?uid=<id>` in a policy (what Google shows after a delete). */
export function markDeleted(policy: StoredPolicy, email: string, uniqueId: string): boolean {
  const member = `serviceAccount:${email}`;
  let changed = false;
  for (const b of policy.bindings) {
    const i = b.members.indexOf(member);
    if (i < 0) continue;
    b.members.splice(i, 1, `deleted:serviceAccount:${email}?uid=${uniqueId}`);
    b.members.sort();
    changed = true;
  }
  return changed;
}
