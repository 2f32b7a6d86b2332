/**
 * AWS query-protocol front end (IAM `2010-05-08` and STS `2011-06-15`): parses form parameters,
 * dispatches through action tables onto `IamState`, and renders XML results and errors.
 */
import { IamError, iamError, validationError } from './iam-errors.js';
import { validatePath, type IamState, type InstanceProfileRecord, type ManagedPolicyRecord, type RoleRecord, type Tag } from './iam-state.js';
import { IAM_XMLNS, STS_XMLNS, encodePolicy, queryError, queryResponse, type XmlObject } from './iam-xml.js';
import { simulatePrincipalPolicy } from './iam-simulate.js';
import type { FaultSpec, Operation, Reply } from './types.js';
import { decodeToken, encodeToken, hexDigest, uuid } from './util.js';

// --------------------------------------------------------------- parameters

/** Flattened query parameters (`Tags.member.1.Key=...`) with typed accessors. */
export class QueryParams {
  constructor(private readonly values: Map<string, string>) {}

  static parse(body: string, search: URLSearchParams): QueryParams {
    const values = new Map<string, string>(search);
    for (const [k, v] of new URLSearchParams(body)) values.set(k, v);
    return new QueryParams(values);
  }

  str(name: string): string | undefined {
    return this.values.get(name);
  }

  int(name: string): number | undefined {
    const raw = this.values.get(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n)) throw validationError(lowerFirst(name), raw, 'Member must be an integer');
    return n;
  }

  bool(name: string): boolean | undefined {
    const raw = this.values.get(name);
    return raw === undefined ? undefined : raw === 'true';
  }

  /** `Name.member.1`, `Name.member.2`, … */
  list(name: string): string[] {
    const out: string[] = [];
    for (let i = 1; this.values.has(`${name}.member.${i}`); i++) out.push(this.values.get(`${name}.member.${i}`) as string);
    return out;
  }

  tags(name = 'Tags'): Tag[] {
    const out: Tag[] = [];
    for (let i = 1; this.values.has(`${name}.member.${i}.Key`); i++) {
      out.push({ Key: this.values.get(`${name}.member.${i}.Key`) as string, Value: this.values.get(`${name}.member.${i}.Value`) ?? '' });
    }
    return out;
  }

  /** `ContextEntries.member.N.{ContextKeyName,ContextKeyType,ContextKeyValues.member.M}`. */
  contextEntries(name = 'ContextEntries'): Array<{ key: string; type: string | undefined; values: string[] }> {
    const out: Array<{ key: string; type: string | undefined; values: string[] }> = [];
    for (let i = 1; this.values.has(`${name}.member.${i}.ContextKeyName`); i++) {
      out.push({
        key: this.values.get(`${name}.member.${i}.ContextKeyName`) as string,
        type: this.values.get(`${name}.member.${i}.ContextKeyType`),
        values: this.list(`${name}.member.${i}.ContextKeyValues`),
      });
    }
    return out;
  }

  toRecord(): Record<string, string> {
    return Object.fromEntries(this.values);
  }
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

// --------------------------------------------------------------- pagination

interface Page<T> {
  items: T[];
  IsTruncated: boolean;
  Marker?: string;
}

/** IAM Marker/MaxItems pagination; the opaque marker names the last key returned (items should be in a stable order). */
function paginate<T>(items: T[], keyOf: (item: T) => string, p: QueryParams): Page<T> {
  const maxItems = p.int('MaxItems') ?? 100;
  if (maxItems < 1 || maxItems > 1000) throw validationError('maxItems', String(maxItems), 'Member must have value between 1 and 1000');
  const marker = p.str('Marker');
  let start = 0;
  if (marker !== undefined) {
    const after = decodeToken<{ after: string }>(marker)?.after;
    if (after === undefined) throw iamError('InvalidInput', 'Invalid Marker.');
    const exact = items.findIndex((item) => keyOf(item) === after);
    start = exact >= 0 ? exact + 1 : items.findIndex((item) => keyOf(item) > after);
    if (start < 0) start = items.length;
  }
  const slice = items.slice(start, start + maxItems);
  const truncated = start + maxItems < items.length;
  const last = slice.at(-1);
  return { items: slice, IsTruncated: truncated, Marker: truncated && last !== undefined ? encodeToken({ after: keyOf(last) }) : undefined };
}

const lower = (s: string): string => s.toLowerCase();

// --------------------------------------------------------------- rendering

const tagsXml = (tags: Tag[]): XmlObject[] => tags.map((t) => ({ Key: t.Key, Value: t.Value }));

/** The fields every role element starts with (Role, the Roles of a listing or a profile, RoleDetail). */
function roleHeadXml(role: RoleRecord): XmlObject {
  return {
    Path: role.path,
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createDate,
    AssumeRolePolicyDocument: encodePolicy(role.assumeRolePolicyDocument),
  };
}

const roleLastUsedXml = (role: RoleRecord): XmlObject | undefined =>
  role.roleLastUsed ? { LastUsedDate: role.roleLastUsed.lastUsedDate, Region: role.roleLastUsed.region } : undefined;

function roleXml(role: RoleRecord, detail: boolean): XmlObject {
  return {
    ...roleHeadXml(role),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    // As IAM (and moto): GetRole/CreateRole show the boundary, ListRoles does not.
    PermissionsBoundary:
      detail && role.permissionsBoundaryArn
        ? { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: role.permissionsBoundaryArn }
        : undefined,
    Tags: detail && role.tags.length > 0 ? tagsXml(role.tags) : undefined,
    // As IAM: an empty element for a role never used (the CLI shows `"RoleLastUsed": {}`).
    RoleLastUsed: detail ? (roleLastUsedXml(role) ?? {}) : undefined,
  };
}

/** One page of a resource's tags (ListRoleTags, ListInstanceProfileTags), by key. */
function tagsPage(tags: Tag[], p: QueryParams): XmlObject {
  const { items, ...page } = paginate(tags, (t) => lower(t.Key), p);
  return { Tags: tagsXml(items), ...page };
}

/** One page of instance profiles (ListInstanceProfiles, ListInstanceProfilesForRole), by name. */
function instanceProfilesPage(iam: IamState, profiles: InstanceProfileRecord[], p: QueryParams): XmlObject {
  const { items, ...page } = paginate(profiles, (x) => lower(x.name), p);
  return { InstanceProfiles: items.map((x) => instanceProfileXml(iam, x)), ...page };
}

function instanceProfileXml(iam: IamState, profile: InstanceProfileRecord): XmlObject {
  return {
    Path: profile.path,
    InstanceProfileName: profile.name,
    InstanceProfileId: profile.id,
    Arn: profile.arn,
    CreateDate: profile.createDate,
    Roles: iam.rolesOf(profile).map((r) => roleXml(r, false)),
    Tags: profile.tags.length > 0 ? tagsXml(profile.tags) : undefined,
  };
}

/** A role as GetAccountAuthorizationDetails shows it: with inline documents (URL-encoded), attachments, tags and instance profiles. */
function roleDetailXml(iam: IamState, role: RoleRecord): XmlObject {
  return {
    ...roleHeadXml(role),
    InstanceProfileList: iam.listInstanceProfilesForRole(role.roleName).map((x) => instanceProfileXml(iam, x)),
    RolePolicyList: Object.keys(role.inlinePolicies)
      .sort()
      .map((name) => ({ PolicyName: name, PolicyDocument: encodePolicy(role.inlinePolicies[name] as string) })),
    AttachedManagedPolicies: iam.listAttachedRolePolicies(role.roleName).map((a) => ({ PolicyName: a.policyName, PolicyArn: a.policyArn })),
    // As IAM and moto: RoleDetail shows the boundary (drift reads it from here).
    PermissionsBoundary: role.permissionsBoundaryArn
      ? { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: role.permissionsBoundaryArn }
      : undefined,
    Tags: tagsXml(role.tags),
    RoleLastUsed: roleLastUsedXml(role) ?? {},
  };
}

const AUTHORIZATION_FILTERS = ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'];

/**
 * GetAccountAuthorizationDetails: roles (and customer-managed policies) in one listing paged by
 * MaxItems/Marker, roles first. The sandbox has no users or groups; AWS-managed policies are only
 * synthesised on demand, so they are never listed.
 */
function accountAuthorizationDetails(p: QueryParams, iam: IamState): XmlObject {
  const filters = p.list('Filter');
  for (const f of filters) {
    if (!AUTHORIZATION_FILTERS.includes(f)) throw validationError('filter', f, `Member must satisfy enum value set: [${AUTHORIZATION_FILTERS.join(', ')}]`);
  }
  const wants = (f: string) => filters.length === 0 || filters.includes(f);
  type Entry = { key: string; role?: RoleRecord; policy?: ManagedPolicyRecord };
  const entries: Entry[] = [
    ...(wants('Role') ? iam.listRoles().map((role) => ({ key: `1:${lower(role.roleName)}`, role })) : []),
    ...(wants('LocalManagedPolicy') ? iam.listPolicies().map((policy) => ({ key: `2:${lower(policy.name)}`, policy })) : []),
  ];
  const { items, ...page } = paginate(entries, (e) => e.key, p);
  return {
    UserDetailList: [],
    GroupDetailList: [],
    RoleDetailList: items.filter((e) => e.role).map((e) => roleDetailXml(iam, e.role as RoleRecord)),
    Policies: items
      .filter((e) => e.policy)
      .map((e) => {
        const policy = e.policy as ManagedPolicyRecord;
        const { Tags: _tags, Description: _description, ...rest } = policyXml(policy, false, iam);
        return {
          ...rest,
          PolicyVersionList: [
            { Document: encodePolicy(policy.document), VersionId: policy.defaultVersionId, IsDefaultVersion: true, CreateDate: policy.updateDate },
          ],
        };
      }),
    ...page,
  };
}

/** `iam`: to count the roles using the policy as their boundary, as IAM reports it. */
function policyXml(policy: ManagedPolicyRecord, withTags: boolean, iam?: IamState): XmlObject {
  return {
    PolicyName: policy.name,
    PolicyId: policy.id,
    Arn: policy.arn,
    Path: policy.path,
    DefaultVersionId: policy.defaultVersionId,
    AttachmentCount: policy.attachmentCount ?? 0,
    PermissionsBoundaryUsageCount: iam ? iam.listRoles().filter((r) => r.permissionsBoundaryArn === policy.arn).length : 0,
    IsAttachable: true,
    Description: policy.description,
    CreateDate: policy.createDate,
    UpdateDate: policy.updateDate,
    Tags: withTags && policy.tags.length > 0 ? tagsXml(policy.tags) : undefined,
  };
}

/**
 * The deployed provisioning role's boundary conditions, as IAM would apply them: under the rule's
 * path a role is created (or its boundary set) only with the deployment's boundary ARN. Only the
 * service's own calls (signed with its access key, `sandbox`) are the provisioning role: an admin
 * with the AWS CLI and other credentials is not bound by its policy, as in a real account.
 */
function requireBoundary(iam: IamState, action: string, roleName: string | undefined, path: string | undefined, boundary: string | undefined): void {
  const rule = iam.boundaryRule;
  if (!rule || roleName === undefined || !iam.callerIsService) return;
  const rolePath = validatePath(path);
  if (!rolePath.startsWith(rule.pathPrefix) || boundary === rule.arn) return;
  throw iamError(
    'AccessDenied',
    `User: arn:aws:sts::${iam.accountId}:assumed-role/iam-mapping-provisioning/sandbox is not authorized to perform: iam:${action} on resource: ` +
      `arn:aws:iam::${iam.accountId}:role${rolePath}${roleName} because no identity-based policy allows the iam:${action} action ` +
      `(the permissions boundary must be ${rule.arn})`,
  );
}

// --------------------------------------------------------------- action tables

interface QueryAction<S> {
  mutating: boolean;
  run(p: QueryParams, state: S): XmlObject | void | Promise<XmlObject>;
}

const read = <S>(run: QueryAction<S>['run']): QueryAction<S> => ({ mutating: false, run });
const write = <S>(run: QueryAction<S>['run']): QueryAction<S> => ({ mutating: true, run });

export const IAM_ACTIONS: Record<string, QueryAction<IamState>> = {
  // roles
  CreateRole: write((p, iam) => {
    requireBoundary(iam, 'CreateRole', p.str('RoleName'), p.str('Path'), p.str('PermissionsBoundary'));
    return {
      Role: roleXml(
        iam.createRole({
          roleName: p.str('RoleName'),
          path: p.str('Path'),
          assumeRolePolicyDocument: p.str('AssumeRolePolicyDocument'),
          description: p.str('Description'),
          maxSessionDuration: p.int('MaxSessionDuration'),
          tags: p.tags(),
          permissionsBoundary: p.str('PermissionsBoundary'),
        }),
        true,
      ),
    };
  }),
  PutRolePermissionsBoundary: write((p, iam) => {
    const role = iam.getRole(p.str('RoleName'));
    requireBoundary(iam, 'PutRolePermissionsBoundary', role.roleName, role.path, p.str('PermissionsBoundary'));
    iam.putRolePermissionsBoundary(role.roleName, p.str('PermissionsBoundary'));
  }),
  DeleteRolePermissionsBoundary: write((p, iam) => iam.deleteRolePermissionsBoundary(p.str('RoleName'))),
  GetRole: read((p, iam) => ({ Role: roleXml(iam.getRole(p.str('RoleName')), true) })),
  DeleteRole: write((p, iam) => iam.deleteRole(p.str('RoleName'))),
  ListRoles: read((p, iam) => {
    const { items, ...page } = paginate(iam.listRoles(p.str('PathPrefix')), (r) => lower(r.roleName), p);
    return { Roles: items.map((r) => roleXml(r, false)), ...page };
  }),
  UpdateAssumeRolePolicy: write((p, iam) => iam.updateAssumeRolePolicy(p.str('RoleName'), p.str('PolicyDocument'))),
  UpdateRole: write((p, iam) => iam.updateRole(p.str('RoleName'), { description: p.str('Description'), maxSessionDuration: p.int('MaxSessionDuration') })),
  TagRole: write((p, iam) => iam.tagRole(p.str('RoleName'), p.tags())),
  UntagRole: write((p, iam) => iam.untagRole(p.str('RoleName'), p.list('TagKeys'))),
  ListRoleTags: read((p, iam) => tagsPage(iam.getRole(p.str('RoleName')).tags, p)),

  // inline policies
  PutRolePolicy: write((p, iam) => iam.putRolePolicy(p.str('RoleName'), p.str('PolicyName'), p.str('PolicyDocument'))),
  GetRolePolicy: read((p, iam) => {
    const policy = iam.getRolePolicy(p.str('RoleName'), p.str('PolicyName'));
    return { RoleName: policy.roleName, PolicyName: policy.policyName, PolicyDocument: encodePolicy(policy.document) };
  }),
  DeleteRolePolicy: write((p, iam) => iam.deleteRolePolicy(p.str('RoleName'), p.str('PolicyName'))),
  ListRolePolicies: read((p, iam) => {
    const { items, ...page } = paginate(iam.listRolePolicies(p.str('RoleName')), (n) => n, p);
    return { PolicyNames: items, ...page };
  }),

  // managed policies
  AttachRolePolicy: write((p, iam) => iam.attachRolePolicy(p.str('RoleName'), p.str('PolicyArn'))),
  DetachRolePolicy: write((p, iam) => iam.detachRolePolicy(p.str('RoleName'), p.str('PolicyArn'))),
  ListAttachedRolePolicies: read((p, iam) => {
    const attached = iam.listAttachedRolePolicies(p.str('RoleName'), p.str('PathPrefix'));
    const { items, ...page } = paginate(attached, (a) => a.policyArn, p);
    return { AttachedPolicies: items.map((a) => ({ PolicyName: a.policyName, PolicyArn: a.policyArn })), ...page };
  }),
  CreatePolicy: write((p, iam) => ({
    Policy: policyXml(
      iam.createPolicy({
        policyName: p.str('PolicyName'),
        path: p.str('Path'),
        document: p.str('PolicyDocument'),
        description: p.str('Description'),
        tags: p.tags(),
      }),
      true,
    ),
  })),
  GetPolicy: read((p, iam) => ({ Policy: policyXml(iam.getPolicy(p.str('PolicyArn')), true, iam) })),
  DeletePolicy: write((p, iam) => iam.deletePolicy(p.str('PolicyArn'))),
  ListPolicies: read((p, iam) => {
    const policies = iam.listPolicies(p.str('PathPrefix'), p.bool('OnlyAttached') ?? false);
    const { items, ...page } = paginate(policies, (x) => lower(x.name), p);
    return { Policies: items.map((x) => policyXml(x, false, iam)), ...page };
  }),

  // instance profiles
  CreateInstanceProfile: write((p, iam) => ({
    InstanceProfile: instanceProfileXml(iam, iam.createInstanceProfile({ name: p.str('InstanceProfileName'), path: p.str('Path'), tags: p.tags() })),
  })),
  GetInstanceProfile: read((p, iam) => ({ InstanceProfile: instanceProfileXml(iam, iam.getInstanceProfile(p.str('InstanceProfileName'))) })),
  DeleteInstanceProfile: write((p, iam) => iam.deleteInstanceProfile(p.str('InstanceProfileName'))),
  AddRoleToInstanceProfile: write((p, iam) => iam.addRoleToInstanceProfile(p.str('InstanceProfileName'), p.str('RoleName'))),
  RemoveRoleFromInstanceProfile: write((p, iam) => iam.removeRoleFromInstanceProfile(p.str('InstanceProfileName'), p.str('RoleName'))),
  ListInstanceProfiles: read((p, iam) => instanceProfilesPage(iam, iam.listInstanceProfiles(p.str('PathPrefix')), p)),
  ListInstanceProfilesForRole: read((p, iam) => instanceProfilesPage(iam, iam.listInstanceProfilesForRole(p.str('RoleName')), p)),
  TagInstanceProfile: write((p, iam) => iam.tagInstanceProfile(p.str('InstanceProfileName'), p.tags())),
  UntagInstanceProfile: write((p, iam) => iam.untagInstanceProfile(p.str('InstanceProfileName'), p.list('TagKeys'))),
  ListInstanceProfileTags: read((p, iam) => tagsPage(iam.getInstanceProfile(p.str('InstanceProfileName')).tags, p)),

  // the bulk read (drift)
  GetAccountAuthorizationDetails: read(accountAuthorizationDetails),

  // the policy simulator (may the control plane pass the instance-profile roles to EC2?)
  SimulatePrincipalPolicy: read((p, iam) =>
    simulatePrincipalPolicy(iam, {
      policySourceArn: p.str('PolicySourceArn'),
      actionNames: p.list('ActionNames'),
      resourceArns: p.list('ResourceArns'),
      contextEntries: p.contextEntries(),
      policyInputList: p.list('PolicyInputList'),
      permissionsBoundaryPolicyInputList: p.list('PermissionsBoundaryPolicyInputList'),
      maxItems: p.int('MaxItems'),
      marker: p.str('Marker'),
    }),
  ),

  // OIDC providers
  CreateOpenIDConnectProvider: write((p, iam) => {
    const provider = iam.createOpenIdConnectProvider({
      url: p.str('Url'),
      clientIds: p.list('ClientIDList'),
      thumbprints: p.list('ThumbprintList'),
      tags: p.tags(),
    });
    return { OpenIDConnectProviderArn: provider.arn, Tags: provider.tags.length > 0 ? tagsXml(provider.tags) : undefined };
  }),
  GetOpenIDConnectProvider: read((p, iam) => {
    const provider = iam.getOpenIdConnectProvider(p.str('OpenIDConnectProviderArn'));
    return {
      Url: provider.url,
      ClientIDList: provider.clientIds,
      ThumbprintList: provider.thumbprints,
      CreateDate: provider.createDate,
      Tags: provider.tags.length > 0 ? tagsXml(provider.tags) : undefined,
    };
  }),
  DeleteOpenIDConnectProvider: write((p, iam) => iam.deleteOpenIdConnectProvider(p.str('OpenIDConnectProviderArn'))),
  ListOpenIDConnectProviders: read((_p, iam) => ({ OpenIDConnectProviderList: iam.listOpenIdConnectProviders().map((x) => ({ Arn: x.arn })) })),
};

export interface StsState {
  accountId: string;
}

export const STS_ACTIONS: Record<string, QueryAction<StsState>> = {
  GetCallerIdentity: read((_p, sts) => ({
    UserId: `AIDA${hexDigest(sts.accountId, 17)}`,
    Account: sts.accountId,
    Arn: `arn:aws:iam::${sts.accountId}:user/sandbox`,
  })),
};

// --------------------------------------------------------------- operation

const IAM_VERSION = '2010-05-08';
const STS_VERSION = '2011-06-15';

/** Resolves one query-protocol request into an executable operation (IAM, or STS by Version / signing scope). */
/** The access key the service signs its sandbox calls with (adapters/targets.ts). */
export const SERVICE_ACCESS_KEY = 'sandbox';

export function queryOperation(iam: IamState, params: QueryParams, signingService: string | undefined, accessKey?: string): Operation {
  const isSts = params.str('Version') === STS_VERSION || (params.str('Version') === undefined && signingService === 'sts');
  const service = isSts ? 'sts' : 'iam';
  const xmlns = isSts ? STS_XMLNS : IAM_XMLNS;
  const version = isSts ? STS_VERSION : IAM_VERSION;
  const actionName = params.str('Action');
  const table: Record<string, QueryAction<never>> = isSts ? STS_ACTIONS : IAM_ACTIONS;
  const action = actionName !== undefined && Object.hasOwn(table, actionName) ? table[actionName] : undefined;
  const requestId = uuid();
  const fail = (err: { status: number; code: string; message: string; type?: 'Sender' | 'Receiver' }): Reply => queryError(err, xmlns, requestId);

  return {
    service,
    action: actionName ?? 'MissingAction',
    mutating: action?.mutating ?? false,
    params: params.toRecord(),
    async execute(): Promise<Reply> {
      if (actionName === undefined) return fail(iamError('MissingAction', 'Missing Action'));
      if (!action) return fail(iamError('InvalidAction', `Could not find operation ${actionName} for version ${params.str('Version') ?? version}`));
      try {
        iam.callerIsService = accessKey === SERVICE_ACCESS_KEY;
        let result: XmlObject | void;
        try {
          result = await (isSts
            ? (action as QueryAction<StsState>).run(params, { accountId: iam.accountId })
            : (action as QueryAction<IamState>).run(params, iam));
        } finally {
          iam.callerIsService = false;
        }
        return { ...queryResponse(actionName, result ?? undefined, xmlns, requestId), committed: action.mutating };
      } catch (err) {
        if (err instanceof IamError) return fail(err);
        console.error('[sandbox] unexpected IAM error', err);
        return fail({ status: 500, code: 'ServiceFailure', message: 'Request processing has failed due to an unknown error.' });
      }
    },
    renderFault: (fault: FaultSpec): Reply =>
      withRetryAfter(fail({ status: fault.status, code: fault.code, message: fault.message ?? `Injected fault: ${fault.code}` }), fault),
  };
}

export function withRetryAfter(reply: Reply, fault: FaultSpec): Reply {
  return fault.retryAfterSeconds === undefined ? reply : { ...reply, headers: { ...reply.headers, 'retry-after': String(fault.retryAfterSeconds) } };
}
