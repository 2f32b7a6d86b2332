/**
 * The provisioning workflow's steps. Each is a Lambda task of the state machine
 * (workflow/provisioning.asl.yml) and follows the same discipline: read before writing, write
 * only what differs (a re-run over converged state makes no mutating call), never modify what
 * lacks our ownership marks unless the config adopts it, and stop without writing once a newer
 * config version has claimed the cloud.
 */
import pMap from 'p-map';
import { randomBytes } from 'node:crypto';
import { AppError } from '../errors.js';
import { policiesEqual } from '../policy-compare.js';
import type {
  ClusterIdentity,
  ClusterPort,
  ConfigStore,
  IamPort,
  InstanceProfileInfo,
  ItemResult,
  KubernetesPort,
  OwnershipStore,
  PodIdentityPort,
  ProvisioningRunStore,
  ResourceResult,
  RoleInfo,
} from '../ports.js';
import {
  findAnyPlanItem,
  findPlanItem,
  isAwsItem,
  planItemsFor,
  type PlanItem as AwsPlanItem,
  type InstanceProfileItem,
  type K8sIrsaItem,
  type PlanItemRef,
} from '../provisioning/plan.js';
import { ROLE_ARN_ANNOTATION, type IamTag } from '../provisioning/ownership.js';
import { INVENTORY_TOKEN_KEY, instanceProfileRef, refusal, roleRef, serviceAccountRef, type Verdict } from '../provisioning/inventory.js';
import type { GkeItem } from '../provisioning/gcp-plan.js';
import type { InventoryRecord, ResourceRef } from '../ports.js';
import { isPlanRefusal, settleClaims, type PlanRefusalError } from './claims.js';
import { irsaItemCount, oidcProviderMissingMessage } from '../drift/diff.js';
import { judgeInstanceProfile, judgeRole, judgeServiceAccount, recordOwned, reserveCreate } from './ownership-checks.js';
import type { SettingsDefaults } from '../provisioning/settings.js';
import { caughtIs, invalidInput, isTargetError, notOwned, notReady, superseded, type TargetResourceKind } from '../target-errors.js';
import { PlanCache, type PlannedVersion } from './planning.js';
import { runWarnings } from './run-warnings.js';
import { ensureAssociations, finishMigration, isPodIdentityItem, transitionalTrust, trustCovers, type AssociationOutput } from './pod-identity-steps.js';
import { createGcpSteps } from './gcp-steps.js';
import type { GcpPort, GkeCluster } from '../ports.js';

export interface WorkflowDeps {
  configs: ConfigStore;
  runs: ProvisioningRunStore;
  /** Inventory of what the service made, and the cross-cloud claims (lib/workflow/claims.ts). */
  ownership: OwnershipStore;
  iam: IamPort;
  clusters: ClusterPort;
  kubernetes: (cluster: ClusterIdentity) => KubernetesPort;
  /** EKS Pod Identity (items with `mechanism: pod-identity`); absent where no target offers it. */
  podIdentity?: PodIdentityPort;
  defaults: SettingsDefaults;
  now?: () => Date;
  /** Plan item refs per stored page, i.e. per Distributed Map child execution (default PLAN_PAGE_SIZE). */
  planPageSize?: number;
  /** Google Cloud IAM, Storage and GKE (GCP clouds; lib/workflow/gcp-steps.ts). */
  gcp?: GcpPort;
}

/**
 * Items per plan page, i.e. per child execution of the Distributed Map. Sized for Step Functions'
 * 25,000-event history quota of each child: an item's path is ~40 events (the provider Choice included), and even if every Task
 * of every item exhausted its retries (3 events per retry: Scheduled, Started, Failed; 6 retries
 * on each of 7 Tasks and 10 on AwaitRole ≈ 156) a page of 100 stays under ~19,500 events.
 */
export const PLAN_PAGE_SIZE = 100;

export interface RunInput {
  cloudId: string;
  version: number;
}
/** What starts a run: a config version, optionally only some of its items (a drift repair). */
export interface StartInput extends RunInput {
  only?: string[];
}
/**
 * What Plan hands the state machine: counts and page numbers only (a few bytes per 100 items), so
 * no state's payload grows with the config; the item refs are stored page by page.
 */
export interface PlanOutput extends RunInput {
  superseded: boolean;
  /** Names the stored pages of this plan (two runs of one version never share pages). */
  planId: string;
  itemCount: number;
  pageSize: number;
  /** Page numbers 0..n-1: the Distributed Map's items, one child execution each. */
  pages: number[];
}
/** One page of a plan: the input of a Distributed Map child. */
export interface PageInput extends RunInput {
  planId: string;
  page: number;
}
export interface PageOutput extends PageInput {
  items: PlanItemRef[];
}
export interface ItemInput extends RunInput {
  ref: PlanItemRef;
  /** Outputs of the item's earlier steps (the state machine passes its whole state along). */
  results?: { role?: StepOutput; trust?: StepOutput; target?: StepOutput; association?: AssociationOutput };
}
export interface StepOutput {
  resources: ResourceResult[];
  createdRole?: boolean;
  /** EnsureTrustPolicy: the role still trusts the other mechanism too (irsa ↔ pod-identity in progress; FinishMigration ends it). */
  migrating?: boolean;
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

/** Unique per plan: time then randomness, short enough for a sort key. */
const newPlanId = () => `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

const tagMap = (tags: IamTag[]) => Object.fromEntries(tags.map((t) => [t.Key, t.Value]));

export function createWorkflowSteps(deps: WorkflowDeps) {
  const plans = new PlanCache(deps.configs, deps.clusters, deps.defaults, undefined, deps.gcp);
  const pageSize = Math.max(1, Math.floor(deps.planPageSize ?? PLAN_PAGE_SIZE));
  const now = () => (deps.now ?? (() => new Date()))().toISOString();

  /** Stop (without writing) when a newer version claimed the cloud. */
  async function fence({ cloudId, version }: RunInput): Promise<void> {
    const claimed = await deps.runs.claimedVersion(cloudId);
    if (claimed !== null && claimed > version) {
      throw superseded(`config version ${version} of ${cloudId} was superseded by version ${claimed}`);
    }
  }

  async function itemOf(input: ItemInput): Promise<{ planned: PlannedVersion; item: AwsPlanItem }> {
    await fence(input);
    const planned = await plans.get(input.cloudId, input.version);
    return { planned, item: findPlanItem(planned.plan, input.ref) };
  }

  const itemKey = (item: AwsPlanItem) => (item.kind === 'k8s-irsa' ? item.serviceAccount.name : item.instanceProfile.name);

  /** Proceeds only when marks and inventory agree that the role is this cloud's (finalising a create whose answer was lost). */
  async function requireOwned(role: RoleInfo, item: AwsPlanItem, cloudId: string): Promise<void> {
    const { verdict } = await judgeRole(deps.ownership, role, cloudId);
    if (verdict.kind !== 'ours') throw notOwned(roleRef(role.name), refusal(roleRef(role.name), verdict, itemKey(item), 'adopt_role'));
    if (verdict.finalize) await recordOwned(deps.ownership, roleRef(role.name), cloudId, role.id, now(), null);
  }

  /** The inventory record to write before creating `ref`: our own pending one is reused (its token may be on a create whose answer was lost). */
  async function beginCreate(ref: ResourceRef, cloudId: string): Promise<InventoryRecord> {
    const reserved = await reserveCreate(deps.ownership, ref, cloudId, now());
    if ('owner' in reserved)
      throw notOwned(ref, `IAM role ${ref.name} is recorded for cloud ${reserved.owner}; it is never shared between clouds and was left alone`);
    return reserved.record;
  }

  async function finishCreate(record: InventoryRecord, id: string | undefined): Promise<void> {
    if (id !== undefined) await deps.ownership.putInventory({ ...record, id, recordedAt: now() });
  }

  /**
   * The resource a NotOwnedError of this item is about. The error carries it (`resource`), but a
   * Lambda error reaches the Catch as `{Error, Cause}` only, so it is taken from the plan: the
   * role, unless the role's steps all passed (then the instance profile, the only later check).
   */
  async function leftAlone(input: ItemInput & { results?: Record<string, StepOutput> }): Promise<{ kind: TargetResourceKind; name: string }> {
    try {
      const { plan } = await plans.get(input.cloudId, input.version);
      const item = findAnyPlanItem(plan, input.ref);
      if (!isAwsItem(item)) return { kind: 'gcp-service-account', name: item.account.email };
      if (item.kind === 'instance-profile' && input.results?.permissions) return { kind: 'instance-profile', name: item.instanceProfile.name };
      return { kind: 'iam-role', name: item.role.name };
    } catch {
      return { kind: 'iam-role', name: input.ref.name };
    }
  }

  /**
   * The IRSA items of a run fail in Plan when a cluster's IAM OIDC provider is gone (CreateRole would
   * answer MalformedPolicyDocument "Invalid principal"), with drift's and the plan route's message.
   */
  async function refuseWithoutOidcProvider(
    plan: PlannedVersion['plan'],
    clusters: readonly ClusterIdentity[],
    refs: readonly PlanItemRef[],
    refused: Map<string, ItemResult>,
  ): Promise<void> {
    const irsa = refs.filter((r) => r.kind === 'k8s-irsa' && !r.mechanism && !refused.has(r.name));
    if (irsa.length === 0 || clusters.length === 0) return;
    const providers = new Set(await deps.iam.listOpenIdConnectProviders());
    const missing = clusters.filter((c) => !providers.has(c.oidcProviderArn));
    if (missing.length === 0) return;
    const roles = irsaItemCount(plan);
    const message = missing.map((c) => oidcProviderMissingMessage(c, roles)).join('; ');
    for (const ref of irsa) {
      refused.set(ref.name, {
        name: ref.name,
        kind: ref.kind,
        status: 'FAILED',
        resources: missing.map((c) => ({
          kind: 'oidc-provider',
          name: c.name,
          cluster: c.name,
          action: 'failed',
          detail: `${c.oidcProviderArn} does not exist`,
        })),
        error: { name: 'OidcProviderMissing' satisfies PlanRefusalError, message: `${message}; nothing was created for ${ref.name}` },
        finishedAt: now(),
      });
    }
  }

  return {
    ...createGcpSteps(deps, plans, now),
    /** Claims the cloud for this version, builds and checks the plan, and records the run as RUNNING. */
    async plan(input: StartInput): Promise<PlanOutput> {
      const { cloudId, version } = input;
      await deps.runs.createRun(cloudId, version);
      const planId = newPlanId();
      if (!(await deps.runs.claim(cloudId, version))) {
        await deps.runs.updateRun(cloudId, version, { status: 'SUPERSEDED', finishedAt: now() }, { onlyFrom: ['PENDING', 'RUNNING'] });
        return { cloudId, version, superseded: true, planId, itemCount: 0, pageSize, pages: [] };
      }
      const planned = await plans.get(cloudId, version);
      const { plan } = planned;
      const only = input.only ? new Set(input.only) : null;
      const refs = planItemsFor(plan).filter((ref) => !only || only.has(ref.name));
      // Cross-cloud conflicts, before any role is created: refused items are recorded now and never run.
      const gke = plan.provider === 'GCP' && deps.gcp ? deps.gcp : undefined;
      const { refused, lingering } = await settleClaims(gke ? { ...deps, kubernetes: (c) => gke.kubernetes(c as GkeCluster) } : deps, {
        cloudId,
        version,
        items: refs.map((ref) => ({ ref, item: findAnyPlanItem(plan, ref) })),
        clusters: planned.clusters,
        full: only === null,
        now: now(),
      });
      // IRSA needs each cluster's IAM OIDC provider: one list per run; without it the IRSA items fail here, before any write.
      await refuseWithoutOidcProvider(plan, planned.clusters, refs, refused);
      for (const result of refused.values()) await deps.runs.putItemResult(cloudId, version, result);
      const items = refs.filter((ref) => !refused.has(ref.name));
      const pages = Array.from({ length: Math.ceil(items.length / pageSize) }, (_, p) => p);
      await pMap(pages, (p) => deps.runs.putPlanPage(cloudId, version, planId, p, items.slice(p * pageSize, (p + 1) * pageSize)), { concurrency: 8 });
      await deps.runs.updateRun(cloudId, version, {
        status: 'RUNNING',
        startedAt: now(),
        planDigest: plan.digest,
        itemCount: refs.length,
        ...(plan.reason ? { reason: plan.reason } : {}),
        ...(only === null ? { lingering } : {}),
      });
      return { cloudId, version, superseded: false, planId, itemCount: items.length, pageSize, pages };
    },

    /** A Distributed Map child's first step: its page of item refs, read by number from the stored plan. */
    async loadPage(input: PageInput): Promise<PageOutput> {
      await fence(input);
      const items = await deps.runs.getPlanPage(input.cloudId, input.version, input.planId, input.page);
      if (!items) throw new AppError('NOT_FOUND', `plan ${input.planId} of ${input.cloudId} version ${input.version} has no page ${input.page}`);
      return { ...input, items };
    },

    /** The IAM role exists and carries our ownership tags (created, adopted, or left alone → error). */
    async ensureRole(input: ItemInput): Promise<StepOutput> {
      const { item } = await itemOf(input);
      const want = item.role;
      const wantTags = tagMap(want.tags);
      const boundary = deps.defaults.permissionsBoundaryArn;
      const ref = roleRef(want.name);
      const existing = await deps.iam.getRole(want.name);
      if (!existing) {
        const record = await beginCreate(ref, input.cloudId);
        let created: RoleInfo;
        try {
          created = await deps.iam.createRole({
            name: want.name,
            path: want.path,
            trustPolicy: want.trustPolicy,
            tags: { ...wantTags, [INVENTORY_TOKEN_KEY]: record.token as string },
            description: `Managed by iam-mapping for ${input.cloudId} (${input.ref.name})`,
            ...(boundary !== undefined ? { permissionsBoundaryArn: boundary } : {}),
          });
        } catch (e) {
          // Someone (or our own earlier attempt whose answer was lost) created it meanwhile: re-read next attempt.
          if (isTargetError(e, 'AlreadyExistsError')) throw notReady(`role ${want.name} was created concurrently; re-reading`);
          throw e;
        }
        await finishCreate(record, created.id);
        return { resources: [{ kind: 'iam-role', name: want.name, action: 'created', detail: want.arn }], createdRole: true };
      }
      // Ownership before any write: ours (marks and inventory agree), adoptable (no marks at all), or refused.
      const { verdict, record } = await judgeRole(deps.ownership, existing, input.cloudId);
      const owned = verdict.kind === 'ours';
      if (!owned && !(verdict.kind === 'unmarked' && item.adopt.role)) throw notOwned(ref, refusal(ref, verdict, itemKey(item), 'adopt_role'));
      if (existing.arn !== want.arn) {
        // IAM cannot move a role to another path, and ServiceAccounts are annotated with the planned ARN.
        throw invalidInput(
          `IAM role ${want.name} exists as ${existing.arn}, not ${want.arn}; it was left alone. ` +
            `Set provisioning.role_path to ${existing.path} to adopt it there, or remove it`,
        );
      }
      const missing = Object.fromEntries(Object.entries(wantTags).filter(([k, v]) => existing.tags[k] !== v));
      if (Object.keys(missing).length > 0) await deps.iam.tagRole(want.name, missing);
      // Every role the service manages carries the deployment's boundary: put a removed (or another) one back.
      const boundaryFixed = boundary !== undefined && existing.permissionsBoundaryArn !== boundary;
      if (boundaryFixed) await deps.iam.putRolePermissionsBoundary(want.name, boundary);
      if (!owned || verdict.finalize) {
        // Adopted (or a create whose answer was lost): inventoried with its RoleId from now on.
        await recordOwned(deps.ownership, ref, input.cloudId, existing.id, now(), record, !owned);
      }
      const action = !owned ? 'adopted' : Object.keys(missing).length > 0 || boundaryFixed ? 'updated' : 'unchanged';
      const detail = boundaryFixed
        ? `${existing.arn}; permissions boundary ${existing.permissionsBoundaryArn ? `${existing.permissionsBoundaryArn} replaced by` : 'set to'} ${boundary}`
        : existing.arn;
      return { resources: [{ kind: 'iam-role', name: want.name, action, detail }], createdRole: false };
    },

    /** The trust policy equals the plan's (compared semantically). */
    async ensureTrustPolicy(input: ItemInput): Promise<StepOutput> {
      const { planned, item } = await itemOf(input);
      const role = await deps.iam.getRole(item.role.name);
      if (!role) throw notReady(`role ${item.role.name} is not visible yet`);
      await requireOwned(role, item, input.cloudId);
      // irsa ↔ pod-identity: the other mechanism's statements stay until FinishMigration (no gap).
      const transition = item.kind === 'k8s-irsa' ? transitionalTrust(item, role.trustPolicy, planned.clusters) : null;
      if (transition && transition.retained > 0) {
        const to = isPodIdentityItem(item) ? 'pod-identity' : 'irsa';
        const detail = `moving to ${to}: keeps ${transition.retained} statement${transition.retained === 1 ? '' : 's'} of the old mechanism until the ServiceAccounts moved`;
        if (policiesEqual(role.trustPolicy, transition.document)) {
          return { resources: [{ kind: 'trust-policy', name: item.role.name, action: 'unchanged', detail }], migrating: true };
        }
        await deps.iam.updateTrustPolicy(item.role.name, transition.document);
        return { resources: [{ kind: 'trust-policy', name: item.role.name, action: 'updated', detail }], migrating: true };
      }
      if (policiesEqual(role.trustPolicy, item.role.trustPolicy)) {
        // CreateRole wrote it moments ago: report it as made with the role, not as pre-existing.
        if (input.results?.role?.createdRole === true) {
          return {
            resources: [{ kind: 'trust-policy', name: item.role.name, action: 'created', detail: `with the role, ${item.role.trustPolicySize} characters` }],
          };
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
      await requireOwned(role, item, input.cloudId);
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
      const migrating = input.results?.trust?.migrating === true;
      if (!role || !(policiesEqual(role.trustPolicy, item.role.trustPolicy) || (migrating && trustCovers(role.trustPolicy, item.role.trustPolicy)))) {
        throw notReady(`role ${item.role.name} has not propagated yet`);
      }
      return { resources: [] };
    },

    /** Pod Identity: the add-on on every cluster, and one association per (cluster, namespace) naming the role. */
    async ensureAssociation(input: ItemInput): Promise<AssociationOutput> {
      const { planned, item } = await itemOf(input);
      if (item.kind !== 'k8s-irsa' || !isPodIdentityItem(item)) throw new AppError('INTERNAL', `item ${input.ref.name} is not a pod-identity item`);
      return ensureAssociations(deps.podIdentity, deps.ownership, item, planned.clusters, input.cloudId, now);
    },

    /** irsa ↔ pod-identity: once the ServiceAccounts use the new binding, the old one goes (associations, then trust statements). */
    async finishMigration(input: ItemInput): Promise<StepOutput> {
      const { planned, item } = await itemOf(input);
      if (item.kind !== 'k8s-irsa') throw new AppError('INTERNAL', `item ${item.kind} has no mechanism to migrate`);
      const role = await deps.iam.getRole(item.role.name);
      if (!role) throw notReady(`role ${item.role.name} is not visible yet`);
      await requireOwned(role, item, input.cloudId);
      return finishMigration({
        port: deps.podIdentity,
        ownership: deps.ownership,
        item,
        clusters: planned.clusters,
        cloudId: input.cloudId,
        results: input.results,
        currentTrust: role.trustPolicy,
        updateTrust: (doc) => deps.iam.updateTrustPolicy(item.role.name, doc),
      });
    },

    /** The ServiceAccount exists in every namespace of every cluster, annotated with the role ARN. */
    async ensureServiceAccount(input: ItemInput): Promise<StepOutput> {
      const { planned, item } = await itemOf(input);
      if (item.kind !== 'k8s-irsa') throw new AppError('INTERNAL', `item ${item.kind} has no service account`);
      const resources: ResourceResult[] = [];
      const binding = eksServiceAccountBinding(item, planned.clusters);
      for (const cluster of planned.clusters) {
        const k8s = deps.kubernetes(cluster);
        for (const namespace of item.serviceAccount.namespaces) {
          resources.push(await ensureAnnotatedServiceAccount(deps.ownership, k8s, cluster, namespace, item, input.cloudId, now, binding));
        }
      }
      return { resources };
    },

    /** VM stack: the instance profile exists (owned or adopted) and holds the planned role. */
    async ensureInstanceProfile(input: ItemInput): Promise<StepOutput> {
      const { item } = await itemOf(input);
      if (item.kind !== 'instance-profile') throw new AppError('INTERNAL', `item ${item.kind} has no instance profile`);
      return { resources: await ensureInstanceProfile(deps.iam, deps.ownership, item, input.cloudId, now) };
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
      const status = caughtIs(input.error, 'SupersededError') ? 'SUPERSEDED' : 'FAILED';
      const resources = collect(input.results);
      if (caughtIs(input.error, 'NotOwnedError')) {
        resources.push({ ...(await leftAlone(input)), action: 'left-alone', detail: causeMessage(input.error) });
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
    async finalize(
      input: RunInput & { outcomes?: ItemOutcome[]; pages?: Array<Array<ItemOutcome['status']>>; superseded?: boolean },
    ): Promise<{ status: string }> {
      // The Distributed Map hands over each page's item statuses (a few bytes per item); `outcomes` is the per-item form.
      const outcomes = input.outcomes ? [...input.outcomes] : (input.pages ?? []).flat().map((status) => ({ name: '', status }));
      // Items refused in Plan (cross-cloud conflicts) never reached the Map: count them from the run.
      if (!input.superseded) {
        const run = await deps.runs.getRun(input.cloudId, input.version);
        const seen = new Set(outcomes.map((o) => o.name));
        for (const r of run?.items ?? [])
          if (r.status === 'FAILED' && isPlanRefusal(r.error?.name) && !seen.has(r.name)) outcomes.push({ name: r.name, status: 'FAILED' });
      }
      const status =
        input.superseded || outcomes.some((o) => o.status === 'SUPERSEDED')
          ? 'SUPERSEDED'
          : outcomes.some((o) => o.status === 'FAILED')
            ? 'FAILED'
            : 'SUCCEEDED';
      const failedCount = outcomes.filter((o) => o.status === 'FAILED').length;
      const warnings = status === 'SUPERSEDED' ? null : await runWarnings(deps.iam, () => plans.get(input.cloudId, input.version));
      await deps.runs.updateRun(
        input.cloudId,
        input.version,
        {
          status,
          finishedAt: now(),
          ...(status === 'FAILED' ? { error: { name: 'ItemsFailed', message: `${failedCount} of ${outcomes.length} items failed; see their errors` } } : {}),
          ...(warnings ? { warnings } : {}),
        },
        { onlyFrom: ['PENDING', 'RUNNING'] },
      );
      return { status };
    },

    /** The run failed before or outside the items (plan error, dependency down): record why. */
    async recordRunFailure(input: RunInput & { error: CaughtError }): Promise<{ status: string }> {
      const status = caughtIs(input.error, 'SupersededError') ? 'SUPERSEDED' : 'FAILED';
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

/** EKS: IRSA's role ARN annotation, or none (Pod Identity). */
function eksServiceAccountBinding(item: K8sIrsaItem, allClusters: readonly ClusterIdentity[]): ServiceAccountBinding {
  const arn = item.annotations[ROLE_ARN_ANNOTATION];
  return {
    key: ROLE_ARN_ANNOTATION,
    // Pod Identity (no planned annotation): ok only without one (an IRSA annotation would take precedence in the SDKs).
    value: arn,
    shown: arn ?? `${item.role.arn} by pod identity association, no role annotation`,
    leftAlone: arn
      ? 'exists without the ownership label; its annotation already names the role'
      : 'exists without the ownership label; it carries no role annotation (Pod Identity)',
    refused: (verdict, ref) => refusal(ref, verdict, item.serviceAccount.name, 'adopt_service_account'),
    allClusters,
  };
}

/** What sets one kind of annotated ServiceAccount apart: the annotation that binds it (EKS IRSA / Pod Identity, GKE Workload Identity) and its wording. */
export interface ServiceAccountBinding {
  /** The annotation that binds the account, and its planned value; undefined: the account must carry none (a present one is removed). */
  key: string;
  value: string | undefined;
  /** What the account is bound to, in the result's detail. */
  shown: string;
  /** The `left-alone` detail: unowned, not to be adopted, and its annotation already as planned. */
  leftAlone: string;
  /** The `failed` detail for another cloud's account, or one with this cloud's labels that the inventory does not confirm. */
  refused: (verdict: Extract<Verdict, { kind: 'other-cloud' | 'unverified' }>, ref: ResourceRef) => string;
  /** The configured clusters: an unverified account may be recorded under another name of the same API server. */
  allClusters?: readonly ClusterIdentity[];
}

/** One annotated ServiceAccount: created, ours (updated), adopted on request, or left alone. */
export async function ensureAnnotatedServiceAccount(
  store: OwnershipStore,
  k8s: KubernetesPort,
  cluster: ClusterIdentity,
  namespace: string,
  item: K8sIrsaItem | GkeItem,
  cloudId: string,
  now: () => string,
  binding: ServiceAccountBinding,
): Promise<ResourceResult> {
  const { key, value, shown } = binding;
  const name = item.serviceAccount.name;
  const base = { kind: 'service-account', name, namespace, cluster: cluster.name };
  const ref = serviceAccountRef(cluster, namespace, name);
  const sa = await k8s.getServiceAccount(namespace, name);
  if (!sa) {
    if (!(await k8s.namespaceExists(namespace))) {
      return { ...base, action: 'failed', detail: `namespace ${namespace} does not exist in cluster ${cluster.name}` };
    }
    const reserved = await reserveCreate(store, ref, cloudId, now());
    if ('owner' in reserved) return { ...base, action: 'failed', detail: `recorded for cloud ${reserved.owner}; never shared between clouds, left alone` };
    const { record } = reserved;
    const created = await k8s.createServiceAccount({
      namespace,
      name,
      annotations: { ...item.annotations, [INVENTORY_TOKEN_KEY]: record.token as string },
      labels: { ...item.labels },
    });
    if (created.uid !== undefined) await store.putInventory({ ...record, id: created.uid, recordedAt: now() });
    return { ...base, action: 'created', detail: shown };
  }
  // Ownership before any write: ours (labels and inventory agree), adoptable (no marks), or refused.
  const judged = await judgeServiceAccount(store, ref, sa, cloudId);
  let { verdict } = judged;
  const { record } = judged;
  if (verdict.kind === 'unverified' && record === null && sa.uid !== undefined) {
    // The same object reached through another configured cluster name (one API server): ours if we recorded that uid there.
    for (const other of binding.allClusters ?? []) {
      if (other.issuerHost === cluster.issuerHost) continue;
      const seen = await store.getInventory(serviceAccountRef(other, namespace, name));
      if (seen?.cloudId === cloudId && seen.id === sa.uid) {
        verdict = { kind: 'ours', finalize: true };
        break;
      }
    }
  }
  const owned = verdict.kind === 'ours';
  const annotationOk = sa.annotations[key] === value;
  const missingLabels = Object.fromEntries(Object.entries(item.labels).filter(([k, v]) => sa.labels[k] !== v));
  if (verdict.kind === 'other-cloud' || verdict.kind === 'unverified') {
    return { ...base, action: 'failed', detail: binding.refused(verdict, ref) };
  }
  if (!owned && !item.adopt.serviceAccount) {
    return annotationOk
      ? { ...base, action: 'left-alone', detail: binding.leftAlone }
      : {
          ...base,
          action: 'failed',
          detail: `exists without the ownership label and was left alone (annotation: ${sa.annotations[key] ?? 'none'}); set provisioning.service_accounts.${name}.adopt_service_account: true to adopt it`,
        };
  }
  if (verdict.kind !== 'ours' || verdict.finalize) await recordOwned(store, ref, cloudId, sa.uid, now(), record, verdict.kind !== 'ours');
  if (annotationOk && Object.keys(missingLabels).length === 0) return { ...base, action: owned ? 'unchanged' : 'adopted', detail: shown };
  await k8s.patchServiceAccountMetadata({
    namespace,
    name,
    resourceVersion: sa.resourceVersion,
    ...(annotationOk ? {} : { annotations: { [key]: value ?? null } }),
    ...(Object.keys(missingLabels).length ? { labels: missingLabels } : {}),
  });
  const removed = !annotationOk && value === undefined ? `; removed annotation ${key}=${sa.annotations[key]}` : '';
  return { ...base, action: owned ? 'updated' : 'adopted', detail: `${shown}${removed}` };
}

async function ensureInstanceProfile(
  iam: IamPort,
  store: OwnershipStore,
  item: InstanceProfileItem,
  cloudId: string,
  now: () => string,
): Promise<ResourceResult[]> {
  const want = item.instanceProfile;
  const base = { kind: 'instance-profile', name: want.name };
  const ref = instanceProfileRef(want.name);
  const tags = tagMap(want.tags);
  const existing = await iam.getInstanceProfile(want.name);
  if (!existing) {
    const reserved = await reserveCreate(store, ref, cloudId, now());
    if ('owner' in reserved) {
      throw notOwned(ref, `IAM instance profile ${want.name} is recorded for cloud ${reserved.owner}; it is never shared between clouds and was left alone`);
    }
    const { record } = reserved;
    let created: InstanceProfileInfo;
    try {
      created = await iam.createInstanceProfile({ name: want.name, path: want.path, tags: { ...tags, [INVENTORY_TOKEN_KEY]: record.token as string } });
    } catch (e) {
      if (isTargetError(e, 'AlreadyExistsError')) throw notReady(`instance profile ${want.name} was created concurrently`);
      throw e;
    }
    if (created.id !== undefined) await store.putInventory({ ...record, id: created.id, recordedAt: now() });
    await iam.addRoleToInstanceProfile(want.name, item.role.name);
    return [{ ...base, action: 'created', detail: `with role ${item.role.name}` }];
  }
  // Ownership before any write; a profile marked or inventoried for another cloud is never adopted.
  const { verdict, record } = await judgeInstanceProfile(store, existing, cloudId);
  const owned = verdict.kind === 'ours';
  if (!owned && !(verdict.kind === 'unmarked' && item.adopt.instanceProfile)) throw notOwned(ref, refusal(ref, verdict, want.name, 'adopt_instance_profile'));
  if (!owned || verdict.finalize) await recordOwned(store, ref, cloudId, existing.id, now(), record, !owned);
  if (existing.roleNames.includes(item.role.name)) return [{ ...base, action: owned ? 'unchanged' : 'adopted', detail: `with role ${item.role.name}` }];
  for (const other of existing.roleNames) await iam.removeRoleFromInstanceProfile(want.name, other);
  await iam.addRoleToInstanceProfile(want.name, item.role.name);
  return [{ ...base, action: owned ? 'updated' : 'adopted', detail: `role set to ${item.role.name}` }];
}

function collect(results: Record<string, StepOutput> | undefined): ResourceResult[] {
  if (!results) return [];
  return ['role', 'trust', 'permissions', 'association', 'target', 'migration'].flatMap((k) => results[k]?.resources ?? []);
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
