/**
 * In-memory IAM: roles, inline and managed policies, instance profiles and OIDC providers, with IAM's
 * naming rules, quotas and conflict semantics. Protocol-free: `iam.ts` maps query requests onto it,
 * and tests may call it directly to seed or inspect state.
 */
import { alreadyExists, deleteConflict, iamError, invalidInput, limitExceeded, noSuchEntity, validationError } from './iam-errors.js';
import { parsePolicyDocument, policySize, type PolicyDocument } from './policy.js';
import { hexDigest, iamUniqueId, isoSeconds } from './util.js';

export interface Tag {
  Key: string;
  Value: string;
}

export interface RoleRecord {
  roleName: string;
  roleId: string;
  path: string;
  arn: string;
  createDate: string;
  /** The trust policy exactly as submitted (JSON text). */
  assumeRolePolicyDocument: string;
  description?: string;
  maxSessionDuration: number;
  tags: Tag[];
  /** Inline policies: name → JSON text. */
  inlinePolicies: Record<string, string>;
  attachedPolicyArns: string[];
  /** ARN of the managed policy set as the role's permissions boundary. */
  permissionsBoundaryArn?: string;
  roleLastUsed?: { lastUsedDate?: string; region?: string };
}

export interface InstanceProfileRecord {
  name: string;
  id: string;
  path: string;
  arn: string;
  createDate: string;
  roleNames: string[];
  tags: Tag[];
}

export interface ManagedPolicyRecord {
  name: string;
  id: string;
  path: string;
  arn: string;
  createDate: string;
  updateDate: string;
  document: string;
  description?: string;
  tags: Tag[];
  defaultVersionId: string;
  /** True for `arn:aws:iam::aws:policy/...` policies (synthesised, never stored). */
  awsManaged?: boolean;
  attachmentCount?: number;
}

export interface OidcProviderRecord {
  arn: string;
  /** Issuer without the `https://` scheme, as IAM returns it. */
  url: string;
  clientIds: string[];
  thumbprints: string[];
  createDate: string;
  tags: Tag[];
}

export interface IamSnapshot {
  roles: RoleRecord[];
  instanceProfiles: InstanceProfileRecord[];
  policies: ManagedPolicyRecord[];
  oidcProviders: OidcProviderRecord[];
}

export interface IamStateOptions {
  accountId: string;
  /** Reject trust policies whose `Federated` principal is an OIDC provider of this account that does not exist (IAM does). Default true. */
  strictPrincipals?: boolean;
}

/**
 * The deployed provisioning role's boundary rule, modelled (see BoundaryRule in the README): roles
 * under `pathPrefix` may be created only with `arn` as their permissions boundary, and that
 * boundary may be set but neither replaced nor removed.
 */
export interface BoundaryRule {
  arn: string;
  pathPrefix: string;
}

export const LIMITS = {
  roleNameLength: 64,
  trustPolicySize: 2048,
  inlinePolicySizePerRole: 10_240,
  managedPolicySize: 6_144,
  tagsPerResource: 50,
  managedPoliciesPerRole: 10,
  rolesPerInstanceProfile: 1,
  descriptionLength: 1000,
} as const;

const NAME_PATTERN = /^[\w+=,.@-]+$/;
const PATH_PATTERN = /^(\/|\/[\u0021-\u007E]+\/)$/;
const TAG_KEY_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;
const TAG_VALUE_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const POLICY_ARN_PATTERN = /^arn:aws:iam::(aws|\d{12}):policy(\/[\u0021-\u007E]+)?\/([\w+=,.@-]+)$/;
const OIDC_ARN_PATTERN = /^arn:aws:iam::(\d{12}):oidc-provider\/(.+)$/;
const AWS_MANAGED_CREATED = '2015-02-06T18:40:00Z';

const key = (name: string): string => name.toLowerCase();
const byName =
  <T>(get: (t: T) => string) =>
  (a: T, b: T) =>
    key(get(a)) < key(get(b)) ? -1 : key(get(a)) > key(get(b)) ? 1 : 0;

export function validateName(value: string | undefined, field: string, max: number): string {
  if (value === undefined) throw validationError(field, value, 'Member must not be null');
  if (value.length < 1) throw validationError(field, value, 'Member must have length greater than or equal to 1');
  if (value.length > max) throw validationError(field, value, `Member must have length less than or equal to ${max}`);
  if (!NAME_PATTERN.test(value)) throw validationError(field, value, 'Member must satisfy regular expression pattern: [\\w+=,.@-]+');
  return value;
}

export function validatePath(value: string | undefined, field = 'path'): string {
  if (value === undefined) return '/';
  if (value.length < 1 || value.length > 512) throw validationError(field, value, 'Member must have length between 1 and 512');
  if (!PATH_PATTERN.test(value)) {
    throw validationError(field, value, 'Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)');
  }
  return value;
}

function validateTags(tags: Tag[]): void {
  if (tags.length > LIMITS.tagsPerResource) throw validationError('tags', undefined, `Member must have length less than or equal to ${LIMITS.tagsPerResource}`);
  const seen = new Set<string>();
  for (const t of tags) {
    if (t.Key.length < 1 || t.Key.length > 128 || !TAG_KEY_PATTERN.test(t.Key)) {
      throw validationError(
        'tags.member.key',
        t.Key,
        'Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+ and have length between 1 and 128',
      );
    }
    if (t.Value.length > 256 || !TAG_VALUE_PATTERN.test(t.Value)) {
      throw validationError(
        'tags.member.value',
        t.Value,
        'Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]* and have length less than or equal to 256',
      );
    }
    if (t.Key.toLowerCase().startsWith('aws:')) throw invalidInput("User-defined tag keys can't start with 'aws:'. This prefix is reserved for AWS tags.");
    if (seen.has(key(t.Key))) throw invalidInput('Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(key(t.Key));
  }
}

/** Merges tags (keys are case-insensitive; new values win) and enforces the 50-tag quota. */
function mergeTags(existing: Tag[], incoming: Tag[], quotaName: string): Tag[] {
  validateTags(incoming);
  const merged = new Map(existing.map((t) => [key(t.Key), t] as const));
  for (const t of incoming) merged.set(key(t.Key), { Key: t.Key, Value: t.Value });
  if (merged.size > LIMITS.tagsPerResource) throw limitExceeded(`Cannot exceed quota for ${quotaName}: ${LIMITS.tagsPerResource}`);
  return [...merged.values()];
}

const removeTags = (existing: Tag[], keys: string[]): Tag[] => {
  const drop = new Set(keys.map(key));
  return existing.filter((t) => !drop.has(key(t.Key)));
};

export class IamState {
  readonly accountId: string;
  private readonly strictPrincipals: boolean;
  /** When set, the query API refuses what the deployed provisioning role may not do (see BoundaryRule). */
  boundaryRule: BoundaryRule | undefined;
  /** Set while one query-API call runs: whether it is signed with the service's own access key (the rule applies only to it). */
  callerIsService = false;
  private roles = new Map<string, RoleRecord>();
  private profiles = new Map<string, InstanceProfileRecord>();
  private policies = new Map<string, ManagedPolicyRecord>();
  private providers = new Map<string, OidcProviderRecord>();

  constructor(options: IamStateOptions) {
    this.accountId = options.accountId;
    this.strictPrincipals = options.strictPrincipals ?? true;
  }

  // ---------------------------------------------------------------- roles

  createRole(input: {
    roleName: string | undefined;
    assumeRolePolicyDocument: string | undefined;
    path?: string;
    description?: string;
    maxSessionDuration?: number;
    tags?: Tag[];
    permissionsBoundary?: string;
  }): RoleRecord {
    const roleName = validateName(input.roleName, 'roleName', LIMITS.roleNameLength);
    const path = validatePath(input.path);
    if (input.permissionsBoundary !== undefined) this.requireBoundaryPolicy(input.permissionsBoundary);
    this.validateDescription(input.description);
    const maxSessionDuration = this.validateSessionDuration(input.maxSessionDuration);
    const tags = input.tags ?? [];
    validateTags(tags);
    this.validateTrustPolicy(input.assumeRolePolicyDocument);
    if (this.roles.has(key(roleName))) throw alreadyExists(`Role with name ${roleName} already exists.`);
    const role: RoleRecord = {
      roleName,
      roleId: iamUniqueId('AROA'),
      path,
      arn: `arn:aws:iam::${this.accountId}:role${path}${roleName}`,
      createDate: isoSeconds(),
      assumeRolePolicyDocument: input.assumeRolePolicyDocument as string,
      description: input.description,
      maxSessionDuration,
      tags: [...tags],
      inlinePolicies: {},
      attachedPolicyArns: [],
      ...(input.permissionsBoundary !== undefined ? { permissionsBoundaryArn: input.permissionsBoundary } : {}),
    };
    this.roles.set(key(roleName), role);
    return role;
  }

  findRole(roleName: string): RoleRecord | undefined {
    return this.roles.get(key(roleName));
  }

  getRole(roleName: string | undefined): RoleRecord {
    const name = validateName(roleName, 'roleName', LIMITS.roleNameLength);
    const role = this.roles.get(key(name));
    if (!role) throw noSuchEntity(`The role with name ${name} cannot be found.`);
    return role;
  }

  listRoles(pathPrefix = '/'): RoleRecord[] {
    return [...this.roles.values()].filter((r) => r.path.startsWith(pathPrefix)).sort(byName((r) => r.roleName));
  }

  deleteRole(roleName: string | undefined): void {
    const role = this.getRole(roleName);
    if (Object.keys(role.inlinePolicies).length > 0) throw deleteConflict('Cannot delete entity, must delete policies first.');
    if (role.attachedPolicyArns.length > 0) throw deleteConflict('Cannot delete entity, must detach all policies first.');
    if (this.instanceProfilesForRole(role.roleName).length > 0) {
      throw deleteConflict('Cannot delete entity, must remove roles from instance profile first.');
    }
    this.roles.delete(key(role.roleName));
  }

  updateAssumeRolePolicy(roleName: string | undefined, document: string | undefined): void {
    const role = this.getRole(roleName);
    this.validateTrustPolicy(document);
    role.assumeRolePolicyDocument = document as string;
  }

  updateRole(roleName: string | undefined, input: { description?: string; maxSessionDuration?: number }): void {
    const role = this.getRole(roleName);
    this.validateDescription(input.description);
    if (input.maxSessionDuration !== undefined) role.maxSessionDuration = this.validateSessionDuration(input.maxSessionDuration);
    if (input.description !== undefined) role.description = input.description;
  }

  tagRole(roleName: string | undefined, tags: Tag[]): void {
    const role = this.getRole(roleName);
    role.tags = mergeTags(role.tags, tags, 'TagsPerRole');
  }

  untagRole(roleName: string | undefined, tagKeys: string[]): void {
    const role = this.getRole(roleName);
    role.tags = removeTags(role.tags, tagKeys);
  }

  putRolePermissionsBoundary(roleName: string | undefined, boundaryArn: string | undefined): void {
    const role = this.getRole(roleName);
    if (boundaryArn === undefined) throw validationError('permissionsBoundary', undefined, 'Member must not be null');
    this.requireBoundaryPolicy(boundaryArn);
    role.permissionsBoundaryArn = boundaryArn;
  }

  deleteRolePermissionsBoundary(roleName: string | undefined): void {
    const role = this.getRole(roleName);
    delete role.permissionsBoundaryArn;
  }

  /** A boundary must name an existing managed policy (IAM: InvalidInput for a malformed ARN, NoSuchEntity for a missing policy). */
  private requireBoundaryPolicy(arn: string): void {
    if (!POLICY_ARN_PATTERN.test(arn)) throw invalidInput(`Value (${arn}) for parameter PermissionsBoundary is invalid.`);
    try {
      this.getPolicy(arn);
    } catch {
      throw noSuchEntity(`Scope ARN: ${arn} does not exist or is not attachable.`);
    }
  }

  /** Parsed trust policy of a role (inspection helper). */
  trustPolicy(roleName: string): PolicyDocument {
    return JSON.parse(this.getRole(roleName).assumeRolePolicyDocument) as PolicyDocument;
  }

  // ------------------------------------------------------- inline policies

  putRolePolicy(roleName: string | undefined, policyName: string | undefined, document: string | undefined): void {
    const role = this.getRole(roleName);
    const name = validateName(policyName, 'policyName', 128);
    if (document === undefined) throw validationError('policyDocument', undefined, 'Member must not be null');
    parsePolicyDocument(document, 'identity');
    const others = Object.entries(role.inlinePolicies).filter(([n]) => key(n) !== key(name));
    const total = others.reduce((sum, [, doc]) => sum + policySize(doc), 0) + policySize(document);
    if (total > LIMITS.inlinePolicySizePerRole) {
      throw limitExceeded(`Maximum policy size of ${LIMITS.inlinePolicySizePerRole} bytes exceeded for role ${role.roleName}`);
    }
    role.inlinePolicies = { ...Object.fromEntries(others), [name]: document };
  }

  getRolePolicy(roleName: string | undefined, policyName: string | undefined): { roleName: string; policyName: string; document: string } {
    const role = this.getRole(roleName);
    const name = validateName(policyName, 'policyName', 128);
    const entry = Object.entries(role.inlinePolicies).find(([n]) => key(n) === key(name));
    if (!entry) throw noSuchEntity(`The role policy with name ${name} cannot be found.`);
    return { roleName: role.roleName, policyName: entry[0], document: entry[1] };
  }

  deleteRolePolicy(roleName: string | undefined, policyName: string | undefined): void {
    const { roleName: rn, policyName: pn } = this.getRolePolicy(roleName, policyName);
    const role = this.getRole(rn);
    const { [pn]: _removed, ...rest } = role.inlinePolicies;
    role.inlinePolicies = rest;
  }

  listRolePolicies(roleName: string | undefined): string[] {
    return Object.keys(this.getRole(roleName).inlinePolicies).sort();
  }

  // ------------------------------------------------------ managed policies

  createPolicy(input: {
    policyName: string | undefined;
    document: string | undefined;
    path?: string;
    description?: string;
    tags?: Tag[];
  }): ManagedPolicyRecord {
    const name = validateName(input.policyName, 'policyName', 128);
    const path = validatePath(input.path);
    if (input.document === undefined) throw validationError('policyDocument', undefined, 'Member must not be null');
    parsePolicyDocument(input.document, 'identity');
    if (policySize(input.document) > LIMITS.managedPolicySize) throw limitExceeded(`Cannot exceed quota for PolicySize: ${LIMITS.managedPolicySize}`);
    this.validateDescription(input.description);
    validateTags(input.tags ?? []);
    const arn = `arn:aws:iam::${this.accountId}:policy${path}${name}`;
    if ([...this.policies.values()].some((p) => key(p.name) === key(name))) {
      throw alreadyExists(`A policy called ${name} already exists. Duplicate names are not allowed.`);
    }
    const now = isoSeconds();
    const policy: ManagedPolicyRecord = {
      name,
      id: iamUniqueId('ANPA'),
      path,
      arn,
      createDate: now,
      updateDate: now,
      document: input.document,
      description: input.description,
      tags: [...(input.tags ?? [])],
      defaultVersionId: 'v1',
    };
    this.policies.set(arn, policy);
    return policy;
  }

  /** A customer-managed policy of this account, or a synthesised AWS-managed one. */
  getPolicy(policyArn: string | undefined): ManagedPolicyRecord {
    const { arn, owner, name, path } = this.parsePolicyArn(policyArn);
    if (owner === 'aws') {
      return {
        name,
        id: `ANPA${hexDigest(arn, 17)}`,
        path,
        arn,
        createDate: AWS_MANAGED_CREATED,
        updateDate: AWS_MANAGED_CREATED,
        document: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
        tags: [],
        defaultVersionId: 'v1',
        awsManaged: true,
        attachmentCount: this.attachmentCount(arn),
      };
    }
    const policy = this.policies.get(arn);
    if (!policy) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
    return { ...policy, attachmentCount: this.attachmentCount(arn) };
  }

  deletePolicy(policyArn: string | undefined): void {
    const policy = this.getPolicy(policyArn);
    if (policy.awsManaged) throw iamUnmodifiable(policy.arn);
    if (this.attachmentCount(policy.arn) > 0) throw deleteConflict('Cannot delete a policy attached to entities.');
    this.policies.delete(policy.arn);
  }

  listPolicies(pathPrefix = '/', onlyAttached = false): ManagedPolicyRecord[] {
    return [...this.policies.values()]
      .filter((p) => p.path.startsWith(pathPrefix) && (!onlyAttached || this.attachmentCount(p.arn) > 0))
      .map((p) => ({ ...p, attachmentCount: this.attachmentCount(p.arn) }))
      .sort(byName((p) => p.name));
  }

  attachRolePolicy(roleName: string | undefined, policyArn: string | undefined): void {
    const role = this.getRole(roleName);
    const policy = this.getPolicy(policyArn);
    if (role.attachedPolicyArns.includes(policy.arn)) return;
    if (role.attachedPolicyArns.length >= LIMITS.managedPoliciesPerRole) {
      throw limitExceeded(`Cannot exceed quota for PoliciesPerRole: ${LIMITS.managedPoliciesPerRole}`);
    }
    role.attachedPolicyArns = [...role.attachedPolicyArns, policy.arn];
  }

  detachRolePolicy(roleName: string | undefined, policyArn: string | undefined): void {
    const role = this.getRole(roleName);
    const { arn } = this.parsePolicyArn(policyArn);
    if (!role.attachedPolicyArns.includes(arn)) throw noSuchEntity(`Policy ${arn} was not found.`);
    role.attachedPolicyArns = role.attachedPolicyArns.filter((a) => a !== arn);
  }

  listAttachedRolePolicies(roleName: string | undefined, pathPrefix = '/'): Array<{ policyName: string; policyArn: string }> {
    return this.getRole(roleName)
      .attachedPolicyArns.map((arn) => this.parsePolicyArn(arn))
      .filter((p) => p.path.startsWith(pathPrefix))
      .map((p) => ({ policyName: p.name, policyArn: p.arn }));
  }

  // ----------------------------------------------------- instance profiles

  createInstanceProfile(input: { name: string | undefined; path?: string; tags?: Tag[] }): InstanceProfileRecord {
    const name = validateName(input.name, 'instanceProfileName', 128);
    const path = validatePath(input.path);
    validateTags(input.tags ?? []);
    if (this.profiles.has(key(name))) throw alreadyExists(`Instance Profile ${name} already exists.`);
    const profile: InstanceProfileRecord = {
      name,
      id: iamUniqueId('AIPA'),
      path,
      arn: `arn:aws:iam::${this.accountId}:instance-profile${path}${name}`,
      createDate: isoSeconds(),
      roleNames: [],
      tags: [...(input.tags ?? [])],
    };
    this.profiles.set(key(name), profile);
    return profile;
  }

  getInstanceProfile(name: string | undefined): InstanceProfileRecord {
    const n = validateName(name, 'instanceProfileName', 128);
    const profile = this.profiles.get(key(n));
    if (!profile) throw noSuchEntity(`Instance Profile ${n} cannot be found.`);
    return profile;
  }

  deleteInstanceProfile(name: string | undefined): void {
    const profile = this.getInstanceProfile(name);
    if (profile.roleNames.length > 0) throw deleteConflict('Cannot delete entity, must remove roles from instance profile first.');
    this.profiles.delete(key(profile.name));
  }

  addRoleToInstanceProfile(profileName: string | undefined, roleName: string | undefined): void {
    const profile = this.getInstanceProfile(profileName);
    const role = this.getRole(roleName);
    if (profile.roleNames.length >= LIMITS.rolesPerInstanceProfile) {
      throw limitExceeded(`Cannot exceed quota for InstanceSessionsPerInstanceProfile: ${LIMITS.rolesPerInstanceProfile}`);
    }
    profile.roleNames = [...profile.roleNames, role.roleName];
  }

  removeRoleFromInstanceProfile(profileName: string | undefined, roleName: string | undefined): void {
    const profile = this.getInstanceProfile(profileName);
    const name = validateName(roleName, 'roleName', LIMITS.roleNameLength);
    if (!profile.roleNames.some((r) => key(r) === key(name))) throw noSuchEntity(`The role with name ${name} cannot be found.`);
    profile.roleNames = profile.roleNames.filter((r) => key(r) !== key(name));
  }

  listInstanceProfiles(pathPrefix = '/'): InstanceProfileRecord[] {
    return [...this.profiles.values()].filter((p) => p.path.startsWith(pathPrefix)).sort(byName((p) => p.name));
  }

  listInstanceProfilesForRole(roleName: string | undefined): InstanceProfileRecord[] {
    const role = this.getRole(roleName);
    return this.instanceProfilesForRole(role.roleName);
  }

  tagInstanceProfile(name: string | undefined, tags: Tag[]): void {
    const profile = this.getInstanceProfile(name);
    profile.tags = mergeTags(profile.tags, tags, 'TagsPerInstanceProfile');
  }

  untagInstanceProfile(name: string | undefined, tagKeys: string[]): void {
    const profile = this.getInstanceProfile(name);
    profile.tags = removeTags(profile.tags, tagKeys);
  }

  /** Roles of an instance profile, resolved to their current records. */
  rolesOf(profile: InstanceProfileRecord): RoleRecord[] {
    return profile.roleNames.map((n) => this.roles.get(key(n))).filter((r): r is RoleRecord => r !== undefined);
  }

  // -------------------------------------------------------- OIDC providers

  createOpenIdConnectProvider(input: { url: string | undefined; clientIds?: string[]; thumbprints?: string[]; tags?: Tag[] }): OidcProviderRecord {
    if (input.url === undefined) throw validationError('url', undefined, 'Member must not be null');
    if (!/^https:\/\/[^\s/]+/.test(input.url)) throw invalidInput('Invalid URL: the URL must begin with https://');
    validateTags(input.tags ?? []);
    const url = input.url.replace(/^https:\/\//, '').replace(/\/$/, '');
    const arn = `arn:aws:iam::${this.accountId}:oidc-provider/${url}`;
    if (this.providers.has(arn)) throw alreadyExists(`Provider with url https://${url} already exists.`);
    const provider: OidcProviderRecord = {
      arn,
      url,
      clientIds: [...(input.clientIds ?? [])],
      thumbprints: [...(input.thumbprints ?? [])],
      createDate: isoSeconds(),
      tags: [...(input.tags ?? [])],
    };
    this.providers.set(arn, provider);
    return provider;
  }

  getOpenIdConnectProvider(arn: string | undefined): OidcProviderRecord {
    if (arn === undefined) throw validationError('openIDConnectProviderArn', undefined, 'Member must not be null');
    if (!OIDC_ARN_PATTERN.test(arn)) throw invalidInput(`ARN ${arn} is not valid.`);
    const provider = this.providers.get(arn);
    if (!provider) throw noSuchEntity(`OpenIDConnect Provider not found for arn ${arn}`);
    return provider;
  }

  deleteOpenIdConnectProvider(arn: string | undefined): void {
    this.providers.delete(this.getOpenIdConnectProvider(arn).arn);
  }

  listOpenIdConnectProviders(): OidcProviderRecord[] {
    return [...this.providers.values()].sort((a, b) => (a.arn < b.arn ? -1 : 1));
  }

  // ------------------------------------------------------ persistence

  snapshot(): IamSnapshot {
    return structuredClone({
      roles: [...this.roles.values()],
      instanceProfiles: [...this.profiles.values()],
      policies: [...this.policies.values()],
      oidcProviders: [...this.providers.values()],
    });
  }

  restore(snapshot: IamSnapshot): void {
    const s = structuredClone(snapshot);
    this.roles = new Map(s.roles.map((r) => [key(r.roleName), r]));
    this.profiles = new Map(s.instanceProfiles.map((p) => [key(p.name), p]));
    this.policies = new Map(s.policies.map((p) => [p.arn, p]));
    this.providers = new Map(s.oidcProviders.map((p) => [p.arn, p]));
  }

  clear(): void {
    this.restore({ roles: [], instanceProfiles: [], policies: [], oidcProviders: [] });
  }

  // ------------------------------------------------------ internals

  private instanceProfilesForRole(roleName: string): InstanceProfileRecord[] {
    return this.listInstanceProfiles().filter((p) => p.roleNames.some((r) => key(r) === key(roleName)));
  }

  private attachmentCount(arn: string): number {
    return [...this.roles.values()].filter((r) => r.attachedPolicyArns.includes(arn)).length;
  }

  private parsePolicyArn(policyArn: string | undefined): { arn: string; owner: string; name: string; path: string } {
    if (policyArn === undefined) throw validationError('policyArn', undefined, 'Member must not be null');
    const m = POLICY_ARN_PATTERN.exec(policyArn);
    if (!m) throw invalidInput(`ARN ${policyArn} is not valid.`);
    const owner = m[1] as string;
    if (owner !== 'aws' && owner !== this.accountId) throw noSuchEntity(`Policy ${policyArn} does not exist or is not attachable.`);
    return { arn: policyArn, owner, name: m[3] as string, path: `${m[2] ?? ''}/` };
  }

  private validateTrustPolicy(document: string | undefined): void {
    if (document === undefined) throw validationError('assumeRolePolicyDocument', undefined, 'Member must not be null');
    parsePolicyDocument(document, 'trust', {
      federatedPrincipalExists: this.strictPrincipals ? (p) => this.federatedPrincipalExists(p) : undefined,
      awsPrincipalExists: this.strictPrincipals ? (p) => this.awsPrincipalExists(p) : undefined,
    });
    if (policySize(document) > LIMITS.trustPolicySize) {
      throw limitExceeded(`Cannot exceed quota for ACLSizePerRole: ${LIMITS.trustPolicySize}`);
    }
  }

  /** A role of this account named by ARN must exist (path included), as IAM resolves it to the role's id; anything else is taken as given. */
  private awsPrincipalExists(principal: string): boolean {
    const m = /^arn:aws[\w-]*:iam::(\d{12}):role(\/(?:[\w+=,.@-]+\/)*)([\w+=,.@-]+)$/.exec(principal);
    if (!m || m[1] !== this.accountId) return true;
    const role = this.findRole(m[3] as string);
    return role !== undefined && role.path === m[2];
  }

  private federatedPrincipalExists(principal: string): boolean {
    const m = OIDC_ARN_PATTERN.exec(principal);
    if (!m || m[1] !== this.accountId) return true;
    return this.providers.has(principal);
  }

  private validateDescription(description: string | undefined): void {
    if (description !== undefined && description.length > LIMITS.descriptionLength) {
      throw validationError('description', description, `Member must have length less than or equal to ${LIMITS.descriptionLength}`);
    }
  }

  private validateSessionDuration(value: number | undefined): number {
    if (value === undefined) return 3600;
    if (!Number.isInteger(value) || value < 3600 || value > 43200) {
      throw validationError('maxSessionDuration', String(value), 'Member must have value between 3600 and 43200');
    }
    return value;
  }
}

const iamUnmodifiable = (arn: string) => iamError('UnmodifiableEntity', `Cannot delete AWS managed policy ${arn}.`);
