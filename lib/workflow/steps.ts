/**
 * The provisioning workflow's steps. Each is a Lambda task of the state machine
 * (workflow/provisioning.asl.yml) and follows the same discipline: read before writing, write
 * only what differs (a re-run over converged state makes no mutating call), never modify what
 * lacks our ownership marks unless the config adopts it, and stop without writing once a newer
 * config version has claimed the cloud.
 */
import { AppError } from '../errors.js';
import { policiesEqual } from '../policy-compare.js';
import type {
  ClusterIdentity,
  ClusterPort,
  ConfigStore,
  IamPort,
  ItemResult,
  KubernetesPort,
  ProvisioningRunStore,
  ResourceResult,
  RoleInfo,
} from '../ports.js';
import { findPlanItem, planItemsFor, type InstanceProfileItem, type K8sIrsaItem, type PlanItem, type PlanItemRef } from '../provisioning/plan.js';
import { isOwnedRole, isOwnedServiceAccount, ROLE_ARN_ANNOTATION, type IamTag } from '../provisioning/ownership.js';
import type { SettingsDefaults } from '../provisioning/settings.js';
import { invalidInput, notOwned, notReady, superseded, TargetError } from '../target-errors.js';
import { PlanCache, type PlannedVersion } from './planning.js';

export interface WorkflowDeps {
  configs: ConfigStore;
  runs: ProvisioningRunStore;
  iam: IamPort;
  clusters: ClusterPort;
  kubernetes: (cluster: ClusterIdentity) => KubernetesPort;
  defaults: SettingsDefaults;
  now?: () => Date;
}

export interface RunInput {
  cloudId: string;
  version: number;
}
/** What starts a run: a config version, optionally only some of its items (a drift repair). */
export interface StartInput extends RunInput {
  only?: string[];
}
export interface PlanOutput extends RunInput {
  superseded: boolean;
  items: PlanItemRef[];
}
export interface ItemInput extends RunInput {
  ref: PlanItemRef;
  /** Outputs of the item's earlier steps (the state machine passes its whole state along). */
  results?: { role?: StepOutput };
}
export interface StepOutput {
  resources: ResourceResult[];
  createdRole?: boolean;
}
/** Step Functions' error output of a Catch (`{Error, Cause}`). */
export interface CaughtError {
  Error: string;
  Cause?: string;
}
export interface ItemOutcome {
  name: string;
  status: ItemResult['status'];
}

const tagMap = (tags: IamTag[]) => Object.fromEntries(tags.map((t) => [t.Key, t.Value]));

export function createWorkflowSteps(deps: WorkflowDeps) {
  const plans = new PlanCache(deps.configs, deps.clusters, deps.defaults);
  const now = () => (deps.now ?? (() => new Date()))().toISOString();

  /** Stop (without writing) when a newer version claimed the cloud. */
  async function fence({ cloudId, version }: RunInput): Promise<void> {
    const claimed = await deps.runs.claimedVersion(cloudId);
    if (claimed !== null && claimed > version) {
      throw superseded(`config version ${version} of ${cloudId} was superseded by version ${claimed}`);
    }
  }

  async function itemOf(input: ItemInput): Promise<{ planned: PlannedVersion; item: PlanItem }> {
    await fence(input);
    const planned = await plans.get(input.cloudId, input.version);
    return { planned, item: findPlanItem(planned.plan, input.ref) };
  }

  function requireOwned(role: RoleInfo, item: PlanItem, cloudId: string): void {
    if (isOwnedRole(role.tags, cloudId)) return;
    const key = item.kind === 'k8s-irsa' ? item.serviceAccount.name : item.instanceProfile.name;
    throw notOwned(
      `IAM role ${role.name} exists without the ownership tags of this service; it was left alone. ` +
        `To let the service manage it, set provisioning.service_accounts.${key}.adopt_role: true`,
    );
  }

  return {
    /** Claims the cloud for this version, builds and checks the plan, and records the run as RUNNING. */
    async plan(input: StartInput): Promise<PlanOutput> {
      const { cloudId, version } = input;
      await deps.runs.createRun(cloudId, version);
      if (!(await deps.runs.claim(cloudId, version))) {
        await deps.runs.updateRun(cloudId, version, { status: 'SUPERSEDED', finishedAt: now() }, { onlyFrom: ['PENDING', 'RUNNING'] });
        return { cloudId, version, superseded: true, items: [] };
      }
      const { plan } = await plans.get(cloudId, version);
      const only = input.only ? new Set(input.only) : null;
      const items = planItemsFor(plan).filter((ref) => !only || only.has(ref.name));
      await deps.runs.updateRun(cloudId, version, {
        status: 'RUNNING',
        startedAt: now(),
        planDigest: plan.digest,
        itemCount: items.length,
        ...(plan.reason ? { reason: plan.reason } : {}),
      });
      return { cloudId, version, superseded: false, items };
    },

    /** The IAM role exists and carries our ownership tags (created, adopted, or left alone → error). */
    async ensureRole(input: ItemInput): Promise<StepOutput> {
      const { item } = await itemOf(input);
      const want = item.role;
      const wantTags = tagMap(want.tags);
      const existing = await deps.iam.getRole(want.name);
      if (!existing) {
        try {
          await deps.iam.createRole({
            name: want.name,
            path: want.path,
            trustPolicy: want.trustPolicy,
            tags: wantTags,
            description: `Managed by iam-mapping for ${input.cloudId} (${input.ref.name})`,
          });
        } catch (e) {
          // Someone (or our own earlier attempt whose answer was lost) created it meanwhile: re-read next attempt.
          if (e instanceof TargetError && e.name === 'AlreadyExistsError') throw notReady(`role ${want.name} was created concurrently; re-reading`);
          throw e;
        }
        return { resources: [{ kind: 'iam-role', name: want.name, action: 'created', detail: want.arn }], createdRole: true };
      }
      const owned = isOwnedRole(existing.tags, input.cloudId);
      if (!owned && !item.adopt.role) requireOwned(existing, item, input.cloudId);
      if (existing.arn !== want.arn) {
        // IAM cannot move a role to another path, and ServiceAccounts are annotated with the planned ARN.
        throw invalidInput(
          `IAM role ${want.name} exists as ${existing.arn}, not ${want.arn}; it was left alone. ` +
            `Set provisioning.role_path to ${existing.path} to adopt it there, or remove it`,
        );
      }
      const missing = Object.fromEntries(Object.entries(wantTags).filter(([k, v]) => existing.tags[k] !== v));
      if (Object.keys(missing).length > 0) await deps.iam.tagRole(want.name, missing);
      const action = !owned ? 'adopted' : Object.keys(missing).length > 0 ? 'updated' : 'unchanged';
      return { resources: [{ kind: 'iam-role', name: want.name, action, detail: existing.arn }], createdRole: false };
    },

    /** The trust policy equals the plan's (compared semantically). */
    async ensureTrustPolicy(input: ItemInput): Promise<StepOutput> {
      const { item } = await itemOf(input);
      const role = await deps.iam.getRole(item.role.name);
      if (!role) throw notReady(`role ${item.role.name} is not visible yet`);
      requireOwned(role, item, input.cloudId);
      if (policiesEqual(role.trustPolicy, item.role.trustPolicy)) {
        // CreateRole wrote it moments ago: report it as made with the role, not as pre-existing.
        if (input.results?.role?.createdRole === true) {
          return { resources: [{ kind: 'trust-policy', name: item.role.name, action: 'created', detail: `with the role, ${item.role.trustPolicySize} characters` }] };
        }
        return { resources: [{ kind: 'trust-policy', name: item.role.name, action: 'unchanged' }] };
      }
      await deps.iam.updateTrustPolicy(item.role.name, item.role.trustPolicy);
      return { resources: [{ kind: 'trust-policy', name: item.role.name, action: 'updated', detail: `${item.role.trustPolicySize} characters` }] };
    },

    /** The default-bucket policy (inline) and the config's extra managed policies are in place. */
    async ensurePermissions(input: ItemInput): Promise<StepOutput> {
      const { item } = await itemOf(input);
      const roleName = item.role.name;
      const role = await deps.iam.getRole(roleName);
      if (!role) throw notReady(`role ${roleName} is not visible yet`);
      requireOwned(role, item, input.cloudId);
      const resources: ResourceResult[] = [];
      const policy = item.role.permissionPolicy;
      const current = await deps.iam.getInlinePolicy(roleName, policy.name);
      if (policiesEqual(current, policy.document)) {
        resources.push({ kind: 'permission-policy', name: `${roleName}/${policy.name}`, action: 'unchanged' });
      } else {
        await deps.iam.putInlinePolicy(roleName, policy.name, policy.document);
        resources.push({ kind: 'permission-policy', name: `${roleName}/${policy.name}`, action: current ? 'updated' : 'created' });
      }
      const attached = new Set(await deps.iam.listAttachedPolicies(roleName));
      for (const arn of item.role.extraPolicyArns) {
        if (attached.has(arn)) resources.push({ kind: 'managed-policy', name: arn, action: 'unchanged', detail: roleName });
        else {
          await deps.iam.attachPolicy(roleName, arn);
          resources.push({ kind: 'managed-policy', name: arn, action: 'created', detail: `attached to ${roleName}` });
        }
      }
      for (const arn of attached) {
        if (!item.role.extraPolicyArns.includes(arn)) {
          resources.push({ kind: 'managed-policy', name: arn, action: 'left-alone', detail: `attached to ${roleName} outside this config; not detached` });
        }
      }
      return { resources };
    },

    /** IAM is eventually consistent: the role must be readable before anything points at it. */
    async awaitRole(input: ItemInput): Promise<StepOutput> {
      const { item } = await itemOf(input);
      const role = await deps.iam.getRole(item.role.name);
      if (!role || !policiesEqual(role.trustPolicy, item.role.trustPolicy)) {
        throw notReady(`role ${item.role.name} has not propagated yet`);
      }
      return { resources: [] };
    },

    /** The ServiceAccount exists in every namespace of every cluster, annotated with the role ARN. */
    async ensureServiceAccount(input: ItemInput): Promise<StepOutput> {
      const { planned, item } = await itemOf(input);
      if (item.kind !== 'k8s-irsa') throw new AppError('INTERNAL', `item ${item.kind} has no service account`);
      const resources: ResourceResult[] = [];
      for (const cluster of planned.clusters) {
        const k8s = deps.kubernetes(cluster);
        for (const namespace of item.serviceAccount.namespaces) {
          resources.push(await ensureOneServiceAccount(k8s, cluster.name, namespace, item, input.cloudId));
        }
      }
      return { resources };
    },

    /** VM stack: the instance profile exists (owned or adopted) and holds the planned role. */
    async ensureInstanceProfile(input: ItemInput): Promise<StepOutput> {
      const { item } = await itemOf(input);
      if (item.kind !== 'instance-profile') throw new AppError('INTERNAL', `item ${item.kind} has no instance profile`);
      return { resources: await ensureInstanceProfile(deps.iam, item, input.cloudId) };
    },

    /** Records a finished item; an item with a failed resource is FAILED. */
    async recordItem(input: ItemInput & { results?: Record<string, StepOutput> }): Promise<ItemOutcome> {
      const resources = collect(input.results);
      const failed = resources.find((r) => r.action === 'failed');
      const result: ItemResult = {
        name: input.ref.name,
        kind: input.ref.kind,
        status: failed ? 'FAILED' : 'SUCCEEDED',
        resources,
        ...(failed ? { error: { name: 'ResourceFailed', message: `${failed.kind} ${failed.name}: ${failed.detail ?? 'failed'}` } } : {}),
        finishedAt: now(),
      };
      await deps.runs.putItemResult(input.cloudId, input.version, result);
      return { name: result.name, status: result.status };
    },

    /** Records an item whose step failed for good (after retries), with the cause. */
    async recordItemFailure(input: ItemInput & { results?: Record<string, StepOutput>; error: CaughtError }): Promise<ItemOutcome> {
      const status = input.error.Error === 'SupersededError' ? 'SUPERSEDED' : 'FAILED';
      const resources = collect(input.results);
      if (input.error.Error === 'NotOwnedError') {
        const roleName = /IAM role (\S+)/.exec(input.error.Cause ?? '')?.[1] ?? input.ref.name;
        resources.push({ kind: 'iam-role', name: roleName, action: 'left-alone', detail: 'exists without ownership tags' });
      }
      const result: ItemResult = {
        name: input.ref.name,
        kind: input.ref.kind,
        status,
        resources,
        error: { name: input.error.Error, message: causeMessage(input.error) },
        finishedAt: now(),
      };
      await deps.runs.putItemResult(input.cloudId, input.version, result);
      return { name: result.name, status };
    },

    /** Ends the run: SUCCEEDED when every item did, else FAILED (or SUPERSEDED). */
    async finalize(input: RunInput & { outcomes?: ItemOutcome[]; superseded?: boolean }): Promise<{ status: string }> {
      const outcomes = input.outcomes ?? [];
      const status = input.superseded || outcomes.some((o) => o.status === 'SUPERSEDED')
        ? 'SUPERSEDED'
        : outcomes.some((o) => o.status === 'FAILED')
          ? 'FAILED'
          : 'SUCCEEDED';
      const failedCount = outcomes.filter((o) => o.status === 'FAILED').length;
      await deps.runs.updateRun(
        input.cloudId,
        input.version,
        {
          status,
          finishedAt: now(),
          ...(status === 'FAILED' ? { error: { name: 'ItemsFailed', message: `${failedCount} of ${outcomes.length} items failed; see their errors` } } : {}),
        },
        { onlyFrom: ['PENDING', 'RUNNING'] },
      );
      return { status };
    },

    /** The run failed before or outside the items (plan error, dependency down): record why. */
    async recordRunFailure(input: RunInput & { error: CaughtError }): Promise<{ status: string }> {
      const status = input.error.Error === 'SupersededError' ? 'SUPERSEDED' : 'FAILED';
      await deps.runs.updateRun(
        input.cloudId,
        input.version,
        { status, finishedAt: now(), error: { name: input.error.Error, message: causeMessage(input.error) } },
        { onlyFrom: ['PENDING', 'RUNNING'] },
      );
      return { status };
    },
  };
}

export type WorkflowSteps = ReturnType<typeof createWorkflowSteps>;

async function ensureOneServiceAccount(
  k8s: KubernetesPort,
  clusterName: string,
  namespace: string,
  item: K8sIrsaItem,
  cloudId: string,
): Promise<ResourceResult> {
  const name = item.serviceAccount.name;
  const arn = item.annotations[ROLE_ARN_ANNOTATION];
  const base = { kind: 'service-account', name, namespace, cluster: clusterName };
  const sa = await k8s.getServiceAccount(namespace, name);
  if (!sa) {
    if (!(await k8s.namespaceExists(namespace))) {
      return { ...base, action: 'failed', detail: `namespace ${namespace} does not exist in cluster ${clusterName}` };
    }
    await k8s.createServiceAccount({ namespace, name, annotations: { ...item.annotations }, labels: { ...item.labels } });
    return { ...base, action: 'created', detail: arn };
  }
  const owned = isOwnedServiceAccount(sa.labels, cloudId);
  const annotationOk = sa.annotations[ROLE_ARN_ANNOTATION] === arn;
  const missingLabels = Object.fromEntries(Object.entries(item.labels).filter(([k, v]) => sa.labels[k] !== v));
  if (!owned && !item.adopt.serviceAccount) {
    return annotationOk
      ? { ...base, action: 'left-alone', detail: 'exists without the ownership label; its annotation already names the role' }
      : {
          ...base,
          action: 'failed',
          detail: `exists without the ownership label and was left alone (annotation: ${sa.annotations[ROLE_ARN_ANNOTATION] ?? 'none'}); set provisioning.service_accounts.${name}.adopt_service_account: true to adopt it`,
        };
  }
  if (annotationOk && Object.keys(missingLabels).length === 0) return { ...base, action: 'unchanged', detail: arn };
  await k8s.patchServiceAccountMetadata({
    namespace,
    name,
    resourceVersion: sa.resourceVersion,
    ...(annotationOk ? {} : { annotations: { [ROLE_ARN_ANNOTATION]: arn } }),
    ...(Object.keys(missingLabels).length ? { labels: missingLabels } : {}),
  });
  return { ...base, action: owned ? 'updated' : 'adopted', detail: arn };
}

async function ensureInstanceProfile(iam: IamPort, item: InstanceProfileItem, cloudId: string): Promise<ResourceResult[]> {
  const want = item.instanceProfile;
  const base = { kind: 'instance-profile', name: want.name };
  const tags = tagMap(want.tags);
  const existing = await iam.getInstanceProfile(want.name);
  if (!existing) {
    try {
      await iam.createInstanceProfile({ name: want.name, path: want.path, tags });
    } catch (e) {
      if (e instanceof TargetError && e.name === 'AlreadyExistsError') throw notReady(`instance profile ${want.name} was created concurrently`);
      throw e;
    }
    await iam.addRoleToInstanceProfile(want.name, item.role.name);
    return [{ ...base, action: 'created', detail: `with role ${item.role.name}` }];
  }
  const owned = isOwnedRole(existing.tags, cloudId);
  if (!owned && !item.adopt.instanceProfile) {
    throw notOwned(
      `IAM instance profile ${want.name} exists without the ownership tags of this service; it was left alone. ` +
        `To let the service manage it, set provisioning.service_accounts.${want.name}.adopt_instance_profile: true`,
    );
  }
  if (existing.roleNames.includes(item.role.name)) return [{ ...base, action: owned ? 'unchanged' : 'adopted', detail: `with role ${item.role.name}` }];
  for (const other of existing.roleNames) await iam.removeRoleFromInstanceProfile(want.name, other);
  await iam.addRoleToInstanceProfile(want.name, item.role.name);
  return [{ ...base, action: owned ? 'updated' : 'adopted', detail: `role set to ${item.role.name}` }];
}

function collect(results: Record<string, StepOutput> | undefined): ResourceResult[] {
  if (!results) return [];
  return ['role', 'trust', 'permissions', 'target'].flatMap((k) => results[k]?.resources ?? []);
}

/** Step Functions puts a Lambda error's JSON (`{errorType, errorMessage}`) in Cause; locally it is the message. */
function causeMessage(error: CaughtError): string {
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // plain text
  }
  return cause || error.Error;
}
