/**
 * IamPort over the AWS SDK v3 IAM client. Policy documents travel URL-encoded in IAM responses and
 * are decoded here; list calls page with the SDK's `paginate*` helpers (Marker/IsTruncated/MaxItems);
 * drift's bulk read is GetAccountAuthorizationDetails (Filter=Role, up to 1,000 roles a page with
 * their policies, tags and instance profiles); every error becomes a TargetError
 * (`./errors.ts`). Reads of a missing entity return null; deletes of a missing entity succeed.
 */
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListOpenIDConnectProvidersCommand,
  paginateGetAccountAuthorizationDetails,
  paginateListAttachedRolePolicies,
  paginateListRolePolicies,
  paginateListRoleTags,
  paginateListRoles,
  paginateSimulatePrincipalPolicy,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type InstanceProfile,
  type Role,
  type RoleDetail as AwsRoleDetail,
  type EvaluationResult,
  type Tag,
} from '@aws-sdk/client-iam';
import pMap from 'p-map';
import type {
  CreateRoleInput,
  IamPort,
  InstanceProfileInfo,
  ObservedPolicy,
  PolicyEvalDecision,
  PolicySimulationInput,
  PolicySimulationResult,
  RoleDetail,
  RoleInfo,
} from '../../lib/ports.js';
import type { PolicyDocument } from '../../lib/provisioning/policies.js';
import { invalidInput } from '../../lib/target-errors.js';
import { awsClientConfig, withRequestHeaders, type AwsClientOptions } from './clients.js';
import { isNoSuchEntity, mapAwsError } from './errors.js';
import { FixedRateLimiter, pacedRetryStrategy, type PacerStats } from './write-pacing.js';

export type AwsIamOptions = AwsClientOptions & {
  /** Parallel ListRoleTags calls while listing roles. Default 5. */
  tagConcurrency?: number;
  /**
   * Mutating calls per second this adapter may make (every SDK attempt takes a token; IAM's
   * throttling lowers the pace for a while). Unset: the SDK's adaptive limiter learns the pace
   * from IAM's throttling answers. See `./write-pacing.ts`.
   */
  writeRatePerSecond?: number;
  /** SDK attempts of a mutating call (throttling and transient errors retried with the SDK's back-off). Default `maxAttempts` if set, else 5. */
  writeMaxAttempts?: number;
};

/** Default SDK attempts of a mutating call: a throttle is absorbed here before Step Functions' Retry (seconds of sleep) sees it. */
const WRITE_MAX_ATTEMPTS = 5;

/** MaxItems of the bulk read's pages: IAM's maximum (it may return fewer per page). */
const PAGE_SIZE = 1000;

/** ResourceArns per SimulatePrincipalPolicy request (its results are paged by MaxItems on top). */
export const SIMULATION_BATCH = 100;

/** Decodes an IAM policy document: URL-encoded JSON (as IAM returns it) or plain JSON. */
export function decodePolicyDocument(raw: string | undefined, what = 'policy document'): ObservedPolicy {
  if (raw === undefined || raw === '') return {};
  const trimmed = raw.trim();
  let text = trimmed;
  if (!trimmed.startsWith('{')) {
    try {
      text = decodeURIComponent(trimmed);
    } catch (err) {
      throw invalidInput(`IAM returned an undecodable ${what}`, err);
    }
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed;
  } catch (err) {
    throw invalidInput(`IAM returned a ${what} that is not a JSON object`, err);
  }
}

export const tagsToRecord = (tags: Tag[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key as string, t.Value ?? '']));

export const recordToTags = (tags: Record<string, string>): Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

function roleInfo(role: Role, tags?: Record<string, string>): RoleInfo {
  return {
    name: role.RoleName ?? '',
    arn: role.Arn ?? '',
    path: role.Path ?? '/',
    trustPolicy: decodePolicyDocument(role.AssumeRolePolicyDocument, `trust policy of role ${role.RoleName}`),
    tags: tags ?? tagsToRecord(role.Tags),
    ...(role.CreateDate ? { createdAt: role.CreateDate.toISOString() } : {}),
    ...(role.PermissionsBoundary?.PermissionsBoundaryArn ? { permissionsBoundaryArn: role.PermissionsBoundary.PermissionsBoundaryArn } : {}),
    ...(role.RoleId ? { id: role.RoleId } : {}),
  };
}

function instanceProfileInfo(profile: InstanceProfile): InstanceProfileInfo {
  return {
    name: profile.InstanceProfileName ?? '',
    arn: profile.Arn ?? '',
    roleNames: (profile.Roles ?? []).map((r) => r.RoleName ?? '').filter((n) => n !== ''),
    tags: tagsToRecord(profile.Tags),
    ...(profile.InstanceProfileId ? { id: profile.InstanceProfileId } : {}),
  };
}

export class AwsIam implements IamPort {
  /** Reads. */
  readonly client: IAMClient;
  /** Mutating calls: paced (a client of its own, so reads never wait for a write token). */
  readonly writeClient: IAMClient;
  /** The fixed pace of mutating calls, when one is configured. */
  readonly writePacer: FixedRateLimiter | undefined;
  private readonly tagConcurrency: number;

  constructor(clientOrOptions: IAMClient | AwsIamOptions, options: { tagConcurrency?: number } = {}) {
    if (clientOrOptions instanceof IAMClient) {
      this.client = clientOrOptions;
      this.writeClient = clientOrOptions;
    } else {
      const config = awsClientConfig(clientOrOptions);
      this.client = withRequestHeaders(new IAMClient(config), clientOrOptions);
      const rate = clientOrOptions.writeRatePerSecond;
      this.writePacer = rate !== undefined && rate > 0 ? new FixedRateLimiter(rate) : undefined;
      const { maxAttempts: _readAttempts, ...rest } = config;
      this.writeClient = withRequestHeaders(
        new IAMClient({
          ...rest,
          retryStrategy: pacedRetryStrategy(
            Math.max(1, clientOrOptions.writeMaxAttempts ?? clientOrOptions.maxAttempts ?? WRITE_MAX_ATTEMPTS),
            this.writePacer,
          ),
        }),
        clientOrOptions,
      );
    }
    this.tagConcurrency = Math.max(1, options.tagConcurrency ?? (clientOrOptions instanceof IAMClient ? undefined : clientOrOptions.tagConcurrency) ?? 5);
  }

  /** The write pace's counters (tokens, throttling answers, time waited), when a pace is configured. */
  writePacing(): PacerStats | undefined {
    return this.writePacer ? { ...this.writePacer.stats } : undefined;
  }

  /** Sends a command, mapping failures; `onNoSuchEntity` decides what a NoSuchEntity means (else NotFoundError). */
  private async call<T>(context: string, send: () => Promise<T>): Promise<T>;
  private async call<T, F>(context: string, send: () => Promise<T>, onNoSuchEntity: () => F): Promise<T | F>;
  private async call<T, F>(context: string, send: () => Promise<T>, onNoSuchEntity?: () => F): Promise<T | F> {
    try {
      return await send();
    } catch (err) {
      if (onNoSuchEntity && isNoSuchEntity(err)) return onNoSuchEntity();
      throw mapAwsError(err, `IAM ${context}`);
    }
  }

  async getRole(name: string): Promise<RoleInfo | null> {
    const out = await this.call(
      `GetRole ${name}`,
      () => this.client.send(new GetRoleCommand({ RoleName: name })),
      () => null,
    );
    return out?.Role ? roleInfo(out.Role) : null;
  }

  async listRoles(pathPrefix: string): Promise<RoleInfo[]> {
    const roles = await this.collect(`ListRoles ${pathPrefix}`, paginateListRoles({ client: this.client }, { PathPrefix: pathPrefix }), (page) => page.Roles);
    // ListRoles does not return tags: read them per role (a role deleted meanwhile is skipped).
    const withTags = await pMap(
      roles,
      async (role) => {
        if (role.Tags && role.Tags.length > 0) return roleInfo(role);
        const tags = await this.roleTags(role.RoleName ?? '');
        return tags === null ? null : roleInfo(role, tags);
      },
      { concurrency: this.tagConcurrency },
    );
    return withTags.filter((r): r is RoleInfo => r !== null);
  }

  /** Every page of a paginator, flattened; failures mapped (NoSuchEntity → `onNoSuchEntity()` when given). */
  private async collect<P, T>(context: string, pages: AsyncIterable<P>, itemsOf: (page: P) => T[] | undefined): Promise<T[]>;
  private async collect<P, T, F>(context: string, pages: AsyncIterable<P>, itemsOf: (page: P) => T[] | undefined, onNoSuchEntity: () => F): Promise<T[] | F>;
  private async collect<P, T, F>(context: string, pages: AsyncIterable<P>, itemsOf: (page: P) => T[] | undefined, onNoSuchEntity?: () => F): Promise<T[] | F> {
    const out: T[] = [];
    try {
      for await (const page of pages) out.push(...(itemsOf(page) ?? []));
    } catch (err) {
      if (onNoSuchEntity && isNoSuchEntity(err)) return onNoSuchEntity();
      throw mapAwsError(err, `IAM ${context}`);
    }
    return out;
  }

  private async roleTags(roleName: string): Promise<Record<string, string> | null> {
    const tags = await this.collect(
      `ListRoleTags ${roleName}`,
      paginateListRoleTags({ client: this.client }, { RoleName: roleName }),
      (page) => page.Tags,
      () => null,
    );
    return tags === null ? null : tagsToRecord(tags);
  }

  async listRoleDetails(): Promise<RoleDetail[]> {
    const details = await this.collect(
      'GetAccountAuthorizationDetails Filter=Role',
      paginateGetAccountAuthorizationDetails({ client: this.client, pageSize: PAGE_SIZE }, { Filter: ['Role'] }),
      (page) => page.RoleDetailList,
    );
    return details.map(roleDetail);
  }

  async listOpenIdConnectProviders(): Promise<string[]> {
    const out = await this.call('ListOpenIDConnectProviders', () => this.client.send(new ListOpenIDConnectProvidersCommand({})));
    return (out.OpenIDConnectProviderList ?? []).map((p) => p.Arn ?? '').filter((a) => a !== '');
  }

  async createRole(input: CreateRoleInput): Promise<RoleInfo> {
    const out = await this.call(`CreateRole ${input.name}`, () =>
      this.writeClient.send(
        new CreateRoleCommand({
          RoleName: input.name,
          Path: input.path,
          AssumeRolePolicyDocument: JSON.stringify(input.trustPolicy),
          ...(Object.keys(input.tags).length > 0 ? { Tags: recordToTags(input.tags) } : {}),
          ...(input.description !== undefined ? { Description: input.description } : {}),
          ...(input.permissionsBoundaryArn !== undefined ? { PermissionsBoundary: input.permissionsBoundaryArn } : {}),
        }),
      ),
    );
    const role = out.Role;
    if (!role) throw mapAwsError(new Error('CreateRole returned no Role'), `IAM CreateRole ${input.name}`);
    return {
      ...roleInfo({ ...role, AssumeRolePolicyDocument: role.AssumeRolePolicyDocument ?? JSON.stringify(input.trustPolicy) }),
      tags: role.Tags ? tagsToRecord(role.Tags) : { ...input.tags },
    };
  }

  async putRolePermissionsBoundary(roleName: string, boundaryArn: string): Promise<void> {
    await this.call(`PutRolePermissionsBoundary ${roleName}`, () =>
      this.writeClient.send(new PutRolePermissionsBoundaryCommand({ RoleName: roleName, PermissionsBoundary: boundaryArn })),
    );
  }

  async updateTrustPolicy(roleName: string, trustPolicy: PolicyDocument): Promise<void> {
    await this.call(`UpdateAssumeRolePolicy ${roleName}`, () =>
      this.writeClient.send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(trustPolicy) })),
    );
  }

  async tagRole(roleName: string, tags: Record<string, string>): Promise<void> {
    if (Object.keys(tags).length === 0) return;
    await this.call(`TagRole ${roleName}`, () => this.writeClient.send(new TagRoleCommand({ RoleName: roleName, Tags: recordToTags(tags) })));
  }

  async deleteRole(roleName: string): Promise<void> {
    await this.call(
      `DeleteRole ${roleName}`,
      () => this.writeClient.send(new DeleteRoleCommand({ RoleName: roleName })),
      () => undefined,
    );
  }

  async listInlinePolicies(roleName: string): Promise<string[]> {
    return this.collect(`ListRolePolicies ${roleName}`, paginateListRolePolicies({ client: this.client }, { RoleName: roleName }), (page) => page.PolicyNames);
  }

  async getInlinePolicy(roleName: string, policyName: string): Promise<ObservedPolicy | null> {
    const out = await this.call(
      `GetRolePolicy ${roleName}/${policyName}`,
      () => this.client.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
      () => null,
    );
    return out === null ? null : decodePolicyDocument(out.PolicyDocument, `inline policy ${policyName} of role ${roleName}`);
  }

  async putInlinePolicy(roleName: string, policyName: string, document: PolicyDocument): Promise<void> {
    await this.call(`PutRolePolicy ${roleName}/${policyName}`, () =>
      this.writeClient.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: JSON.stringify(document) })),
    );
  }

  async deleteInlinePolicy(roleName: string, policyName: string): Promise<void> {
    await this.call(
      `DeleteRolePolicy ${roleName}/${policyName}`,
      () => this.writeClient.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
      () => undefined,
    );
  }

  async listAttachedPolicies(roleName: string): Promise<string[]> {
    const attached = await this.collect(
      `ListAttachedRolePolicies ${roleName}`,
      paginateListAttachedRolePolicies({ client: this.client }, { RoleName: roleName }),
      (page) => page.AttachedPolicies,
    );
    return attached.map((p) => p.PolicyArn ?? '').filter((a) => a !== '');
  }

  async attachPolicy(roleName: string, policyArn: string): Promise<void> {
    await this.call(`AttachRolePolicy ${roleName} ${policyArn}`, () =>
      this.writeClient.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn })),
    );
  }

  async detachPolicy(roleName: string, policyArn: string): Promise<void> {
    await this.call(
      `DetachRolePolicy ${roleName} ${policyArn}`,
      () => this.writeClient.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn })),
      () => undefined,
    );
  }

  async getInstanceProfile(name: string): Promise<InstanceProfileInfo | null> {
    const out = await this.call(
      `GetInstanceProfile ${name}`,
      () => this.client.send(new GetInstanceProfileCommand({ InstanceProfileName: name })),
      () => null,
    );
    return out?.InstanceProfile ? instanceProfileInfo(out.InstanceProfile) : null;
  }

  async createInstanceProfile(input: { name: string; path: string; tags: Record<string, string> }): Promise<InstanceProfileInfo> {
    const out = await this.call(`CreateInstanceProfile ${input.name}`, () =>
      this.writeClient.send(
        new CreateInstanceProfileCommand({
          InstanceProfileName: input.name,
          Path: input.path,
          ...(Object.keys(input.tags).length > 0 ? { Tags: recordToTags(input.tags) } : {}),
        }),
      ),
    );
    const profile = out.InstanceProfile;
    if (!profile) throw mapAwsError(new Error('CreateInstanceProfile returned no InstanceProfile'), `IAM CreateInstanceProfile ${input.name}`);
    const info = instanceProfileInfo(profile);
    return profile.Tags ? info : { ...info, tags: { ...input.tags } };
  }

  async addRoleToInstanceProfile(profileName: string, roleName: string): Promise<void> {
    await this.call(`AddRoleToInstanceProfile ${profileName} ${roleName}`, () =>
      this.writeClient.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: profileName, RoleName: roleName })),
    );
  }

  async deleteInstanceProfile(name: string): Promise<void> {
    await this.call(
      `DeleteInstanceProfile ${name}`,
      () => this.writeClient.send(new DeleteInstanceProfileCommand({ InstanceProfileName: name })),
      () => undefined,
    );
  }

  async simulatePrincipalPolicy(input: PolicySimulationInput): Promise<PolicySimulationResult[]> {
    const out: PolicySimulationResult[] = [];
    for (let i = 0; i < input.resourceArns.length; i += SIMULATION_BATCH) {
      const batch = input.resourceArns.slice(i, i + SIMULATION_BATCH);
      const results = await this.collect(
        `SimulatePrincipalPolicy ${input.policySourceArn}`,
        paginateSimulatePrincipalPolicy(
          { client: this.client, pageSize: PAGE_SIZE },
          {
            PolicySourceArn: input.policySourceArn,
            ActionNames: input.actionNames,
            ResourceArns: batch,
            ...(input.contextEntries?.length
              ? { ContextEntries: input.contextEntries.map((c) => ({ ContextKeyName: c.key, ContextKeyType: c.type, ContextKeyValues: c.values })) }
              : {}),
          },
        ),
        (page) => page.EvaluationResults,
      );
      out.push(...results.map(simulationResult));
    }
    return out;
  }

  async removeRoleFromInstanceProfile(profileName: string, roleName: string): Promise<void> {
    await this.call(
      `RemoveRoleFromInstanceProfile ${profileName} ${roleName}`,
      () => this.writeClient.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: profileName, RoleName: roleName })),
      () => undefined,
    );
  }
}

/** A GetAccountAuthorizationDetails role entry as the port's RoleDetail (documents decoded). */
function roleDetail(detail: AwsRoleDetail): RoleDetail {
  const name = detail.RoleName ?? '';
  return {
    role: roleInfo({ ...detail, RoleName: name } as Role),
    inlinePolicies: Object.fromEntries(
      (detail.RolePolicyList ?? [])
        .filter((p) => p.PolicyName !== undefined)
        .map((p) => [p.PolicyName as string, decodePolicyDocument(p.PolicyDocument, `inline policy ${p.PolicyName} of role ${name}`)]),
    ),
    attachedPolicyArns: (detail.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn ?? '').filter((a) => a !== ''),
    instanceProfiles: (detail.InstanceProfileList ?? []).map(instanceProfileInfo),
  };
}

const DECISIONS: readonly string[] = ['allowed', 'explicitDeny', 'implicitDeny'] satisfies PolicyEvalDecision[];

/** An EvaluationResult as the port's result (an unknown decision counts as not allowed). */
function simulationResult(r: EvaluationResult): PolicySimulationResult {
  const decision = DECISIONS.includes(r.EvalDecision ?? '') ? (r.EvalDecision as PolicyEvalDecision) : 'implicitDeny';
  const boundary = r.PermissionsBoundaryDecisionDetail?.AllowedByPermissionsBoundary;
  return {
    action: r.EvalActionName ?? '',
    resource: r.EvalResourceName ?? '',
    decision,
    matchedStatements: (r.MatchedStatements ?? []).map((m) => ({ sourcePolicyId: m.SourcePolicyId ?? '', sourcePolicyType: m.SourcePolicyType ?? '' })),
    ...(boundary !== undefined ? { allowedByPermissionsBoundary: boundary } : {}),
  };
}
