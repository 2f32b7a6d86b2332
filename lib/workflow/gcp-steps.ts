/**
 * The provisioning steps of Google Cloud items (lib/provisioning/gcp-plan.ts), Lambda tasks of the
 * same state machine (workflow/provisioning.asl.yml, the `gcp-*` branch of the item processor):
 *
 *   GcpEnsureAccount        the Google service account exists (GKE: created, or adopted; VM: it
 *                           must exist unless `create_missing_accounts`) — results.role
 *   GcpEnsureAccountPolicy  its IAM policy: GKE `roles/iam.workloadIdentityUser` for exactly the
 *                           planned KSAs; VM `roles/iam.serviceAccountUser` for the control plane — results.trust
 *   GcpEnsureBucketAccess   the default bucket's IAM policy grants the account its roles — results.permissions
 *   GcpEnsureServiceAccount GKE: the Kubernetes ServiceAccounts, annotated iam.gke.io/gcp-service-account — results.target
 *
 * Policies are edited read-modify-write with the etag read (a stale etag is re-read and re-applied
 * a few times here, then left to the state machine's ConflictError retry). Only members the
 * service added (recorded in the ownership inventory as `gcp-iam-member`) are ever removed; a
 * member someone else added is left in place and reported (`left-alone`), never dropped.
 */
import { AppError } from '../errors.js';
import type { GcpPort, GkeCluster, GoogleIamPolicy, GoogleServiceAccount, InventoryRecord, OwnershipStore, ResourceRef, ResourceResult } from '../ports.js';
import { editMembers, membersOf } from '../provisioning/gcp-policy.js';
import { gcpAccountMarks, type GcpPlanItem, type GkeItem } from '../provisioning/gcp-plan.js';
import { GKE_SA_ANNOTATION } from '../provisioning/gcp-settings.js';
import { gcpAccountRef, INVENTORY_TOKEN_KEY, judgeOwnership, type Verdict } from '../provisioning/inventory.js';
import { findAnyPlanItem, isAwsItem } from '../provisioning/plan.js';
import { invalidInput, isTargetError, notOwned, notReady, superseded } from '../target-errors.js';
import { recordOwned } from './ownership-checks.js';
import type { PlanCache } from './planning.js';
import { reserveCreate } from './ownership-checks.js';
import { ensureAnnotatedServiceAccount, type ItemInput, type ServiceAccountBinding, type StepOutput, type WorkflowDeps } from './steps.js';

const CONFLICT_ATTEMPTS = 5;

export interface GcpStepDeps extends Pick<WorkflowDeps, 'runs' | 'ownership'> {
  gcp?: GcpPort;
}

/** The inventory record of one member the service added to one role of one resource's policy. */
export const memberRef = (resource: string, role: string, member: string): ResourceRef => ({ kind: 'gcp-iam-member', name: `${resource}|${role}|${member}` });

export function judgeGcpAccount(account: GoogleServiceAccount, record: InventoryRecord | null, cloudId: string): Verdict {
  const marks = gcpAccountMarks(account.description);
  return judgeOwnership({ kind: 'gcp-service-account', marks, tokenSource: marks, id: account.uniqueId }, record, cloudId);
}

function accountRefusal(email: string, verdict: Verdict, value: string, kind: GcpPlanItem['kind']): string {
  const adopt = `provisioning.gcp.accounts.${value}.adopt_account: true`;
  switch (verdict.kind) {
    case 'other-cloud':
      return (
        `Google service account ${email} belongs to cloud ${verdict.owner}; it is never adopted, changed or deleted for another cloud and was left alone. ` +
        (kind === 'gcp-vm'
          ? "A VM rule's value is the account's e-mail: change the rule's value to an account of this cloud's own"
          : `Set another provisioning.gcp.accounts.${value}.account_id`)
      );
    case 'unverified':
      return `Google service account ${email} carries this cloud's ownership marks but ${verdict.reason}; it was left alone. Delete it, or remove the marks from its description and set ${adopt}`;
    default:
      return `Google service account ${email} exists without this service's ownership marks; it was left alone. To let the service manage it, set ${adopt}`;
  }
}

/**
 * Whether an item must leave its existing Google account alone (and fail, before any write): the
 * judgement GcpEnsureAccount and GcpEnsureAccountPolicy make, and the plan route shows. Another
 * cloud's account, or one with this cloud's marks the inventory does not confirm, is refused; one
 * without marks only for GKE without `adopt_account` (a VM rule's own account is only granted on).
 */
export function gcpAccountRefusal(item: GcpPlanItem, verdict: Verdict, value: string): string | null {
  if (verdict.kind === 'ours') return null;
  if (verdict.kind === 'unmarked' && (item.adopt.account || item.kind === 'gcp-vm')) return null;
  return accountRefusal(item.account.email, verdict, value, item.kind);
}

/**
 * Read-modify-write of one IAM policy: `edit` gets the policy as read and returns the policy to
 * write (null: nothing to change). Re-read on a stale etag, up to CONFLICT_ATTEMPTS times.
 */
async function editPolicy(
  read: () => Promise<GoogleIamPolicy | null>,
  write: (p: GoogleIamPolicy) => Promise<GoogleIamPolicy>,
  edit: (p: GoogleIamPolicy) => GoogleIamPolicy | null,
): Promise<{ before: GoogleIamPolicy | null; written: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const before = await read();
    if (!before) return { before, written: false };
    const next = edit(before);
    if (!next) return { before, written: false };
    try {
      await write(next);
      return { before, written: true };
    } catch (e) {
      if (!isTargetError(e, 'ConflictError') || attempt >= CONFLICT_ATTEMPTS) throw e;
    }
  }
}

/** A Google account by e-mail with the verdict of its marks and the inventory (null: no such account). */
export async function readGcpAccountVerdict(
  gcp: Pick<GcpPort, 'getServiceAccount'>,
  ownership: Pick<OwnershipStore, 'getInventory'>,
  project: string,
  email: string,
  cloudId: string,
): Promise<{ account: GoogleServiceAccount; verdict: Verdict } | null> {
  const account = await gcp.getServiceAccount(project, email);
  if (!account) return null;
  return { account, verdict: judgeGcpAccount(account, await ownership.getInventory(gcpAccountRef(email)), cloudId) };
}

/**
 * Removes `member` from every unconditional role of the bucket's policy that the inventory records
 * this cloud adding and `keep` does not name (etag-guarded); answers the roles removed.
 */
export async function removeOwnBucketGrants(
  gcp: Pick<GcpPort, 'getBucketPolicy' | 'setBucketPolicy'>,
  ownership: Pick<OwnershipStore, 'getInventory' | 'deleteInventory'>,
  input: { bucket: string; member: string; cloudId: string; keep?: readonly string[] },
): Promise<string[]> {
  const { bucket, member, cloudId } = input;
  const resource = `buckets/${bucket}`;
  const current = await gcp.getBucketPolicy(bucket);
  const removed: string[] = [];
  for (const role of [...new Set((current?.bindings ?? []).filter((b) => b.condition === undefined && b.members.includes(member)).map((b) => b.role))]) {
    if (input.keep?.includes(role) || (await ownership.getInventory(memberRef(resource, role, member)))?.cloudId !== cloudId) continue;
    await editPolicy(
      () => gcp.getBucketPolicy(bucket),
      (p) => gcp.setBucketPolicy(bucket, p),
      (p) => editMembers(p, role, { remove: [member] }),
    );
    await ownership.deleteInventory(memberRef(resource, role, member), cloudId);
    removed.push(role);
  }
  return removed;
}

export function createGcpSteps(deps: GcpStepDeps, plans: PlanCache, now: () => string) {
  const gcp = (): GcpPort => {
    if (!deps.gcp) throw new AppError('INTERNAL', 'this deployment has no Google Cloud targets configured');
    return deps.gcp;
  };

  async function itemOf(input: ItemInput) {
    const claimed = await deps.runs.claimedVersion(input.cloudId);
    if (claimed !== null && claimed > input.version)
      throw superseded(`config version ${input.version} of ${input.cloudId} was superseded by version ${claimed}`);
    const planned = await plans.get(input.cloudId, input.version);
    const item = findAnyPlanItem(planned.plan, input.ref);
    if (isAwsItem(item)) throw new AppError('INTERNAL', `item ${item.kind} is not a Google Cloud item`);
    return { planned, item };
  }

  /** Whether the service manages the account (ours or adopted) — the only accounts whose policy it may make exact. */
  async function accountVerdict(item: GcpPlanItem, cloudId: string): Promise<{ account: GoogleServiceAccount | null; verdict: Verdict | null }> {
    return (await readGcpAccountVerdict(gcp(), deps.ownership, item.account.project, item.account.email, cloudId)) ?? { account: null, verdict: null };
  }

  /** Adds the wanted members of `role`, removes members the service added that are no longer wanted, reports the others. */
  async function ensureMembers(input: {
    cloudId: string;
    resource: string;
    kind: string;
    name: string;
    role: string;
    want: readonly string[];
    /** Make the binding exact: members not wanted that this service added are removed (others are reported). */
    exact: boolean;
    read: () => Promise<GoogleIamPolicy | null>;
    write: (p: GoogleIamPolicy) => Promise<GoogleIamPolicy>;
    missing: string;
  }): Promise<ResourceResult[]> {
    const { cloudId, resource, role, want } = input;
    const ours = async (member: string) => (await deps.ownership.getInventory(memberRef(resource, role, member)))?.cloudId === cloudId;
    // Which present, unwanted members are ours is decided before the write (from the policy as first read).
    const first = await input.read();
    if (!first) return [{ kind: input.kind, name: input.name, action: 'failed', detail: input.missing }];
    const unwanted = membersOf(first, role).filter((m) => !want.includes(m));
    const removable: string[] = [];
    const foreign: string[] = [];
    if (input.exact) for (const m of unwanted) ((await ours(m)) ? removable : foreign).push(m);
    // The members about to be added are recorded first: a lost write answer still leaves them ours.
    const adding = want.filter((m) => !membersOf(first, role).includes(m));
    for (const m of adding) await deps.ownership.putInventory({ ...memberRef(resource, role, m), cloudId, id: 'member', recordedAt: now() });
    const { written } = await editPolicy(input.read, input.write, (p) => editMembers(p, role, { add: want, remove: removable }));
    for (const m of removable) await deps.ownership.deleteInventory(memberRef(resource, role, m), cloudId);
    const results: ResourceResult[] = [
      {
        kind: input.kind,
        name: input.name,
        action: written ? (adding.length > 0 && membersOf(first, role).length === unwanted.length ? 'created' : 'updated') : 'unchanged',
        detail: `${role} for ${want.join(', ')}${removable.length ? `; removed ${removable.join(', ')} (added by this service, no longer configured)` : ''}`,
      },
    ];
    if (foreign.length > 0) {
      results.push({
        kind: input.kind,
        name: input.name,
        action: 'left-alone',
        detail: `${role} also has ${foreign.join(', ')}, added outside this service: not removed (the drift check reports it)`,
      });
    }
    return results;
  }

  return {
    /** The Google service account exists: GKE accounts are created (or adopted); a VM rule's account must exist unless create_missing_accounts. */
    async gcpEnsureAccount(input: ItemInput): Promise<StepOutput> {
      const { item } = await itemOf(input);
      const want = item.account;
      const ref = gcpAccountRef(want.email);
      const base = { kind: 'gcp-service-account', name: want.email };
      const { account, verdict } = await accountVerdict(item, input.cloudId);
      if (!account) {
        if (item.kind === 'gcp-vm' && !item.account.create) {
          throw invalidInput(
            `Google service account ${want.email} does not exist${want.project === '-' ? '' : ` in project ${want.project}`}: create it (the rule's value names it), or set provisioning.gcp.create_missing_accounts: true to let the service create it`,
          );
        }
        const reserved = await reserveCreate(deps.ownership, ref, input.cloudId, now());
        if ('owner' in reserved)
          throw notOwned(
            ref,
            `Google service account ${want.email} is recorded for cloud ${reserved.owner}; it is never shared between clouds and was left alone`,
          );
        let created: GoogleServiceAccount;
        try {
          created = await gcp().createServiceAccount({
            project: want.project,
            accountId: want.accountId,
            displayName: want.displayName,
            description: `${want.description} ${INVENTORY_TOKEN_KEY}=${reserved.record.token as string}`,
          });
        } catch (e) {
          // Made meanwhile (or by our own attempt whose answer was lost): re-read on the next attempt.
          if (isTargetError(e, 'AlreadyExistsError')) throw notReady(`Google service account ${want.email} was created concurrently; re-reading`);
          throw e;
        }
        await deps.ownership.putInventory({ ...reserved.record, id: created.uniqueId ?? null, recordedAt: now() });
        return { resources: [{ ...base, action: 'created', detail: `${want.displayName} in project ${want.project}` }], createdRole: true };
      }
      const v = verdict as Verdict;
      if (v.kind === 'ours') {
        if (v.finalize) await recordOwned(deps.ownership, ref, input.cloudId, account.uniqueId, now(), null);
        return { resources: [{ ...base, action: 'unchanged', detail: `project ${account.projectId || want.project}` }], createdRole: false };
      }
      const refused = gcpAccountRefusal(item, v, input.ref.name);
      if (refused) throw notOwned(ref, refused);
      if (item.adopt.account) {
        await recordOwned(deps.ownership, ref, input.cloudId, account.uniqueId, now(), await deps.ownership.getInventory(ref), true);
        return { resources: [{ ...base, action: 'adopted', detail: `project ${account.projectId || want.project}` }], createdRole: false };
      }
      if (item.kind === 'gcp-vm') {
        // The config's own account: the service only grants on it (below), it does not manage it.
        return {
          resources: [{ ...base, action: 'unchanged', detail: `exists in project ${account.projectId || want.project}; only its bindings are managed here` }],
          createdRole: false,
        };
      }
      throw notOwned(ref, accountRefusal(want.email, v, input.ref.name, item.kind));
    },

    /** The account's own IAM policy: GKE workloadIdentityUser exactly for the planned KSAs; VM serviceAccountUser for the control plane. */
    async gcpEnsureAccountPolicy(input: ItemInput): Promise<StepOutput> {
      const { item } = await itemOf(input);
      const { account, verdict } = await accountVerdict(item, input.cloudId);
      if (!account) throw notReady(`Google service account ${item.account.email} is not visible yet`);
      const managed = verdict?.kind === 'ours' || (verdict?.kind === 'unmarked' && item.adopt.account);
      const refused = verdict ? gcpAccountRefusal(item, verdict, input.ref.name) : null;
      if (refused) throw notOwned(gcpAccountRef(item.account.email), refused);
      const { project, email } = item.account;
      return {
        resources: await ensureMembers({
          cloudId: input.cloudId,
          resource: `projects/${project}/serviceAccounts/${email}`,
          kind: 'gcp-iam-binding',
          name: email,
          role: item.accountBinding.role,
          want: item.accountBinding.members,
          exact: item.kind === 'gcp-gke' || managed,
          read: () => gcp().getServiceAccountPolicy(project, email),
          write: (p) => gcp().setServiceAccountPolicy(project, email, p),
          missing: `Google service account ${email} has no IAM policy`,
        }),
      };
    },

    /** The default bucket grants the account object read/write (roles/storage.objectUser) and the allow-listed extra roles. */
    async gcpEnsureBucketAccess(input: ItemInput): Promise<StepOutput> {
      const { item } = await itemOf(input);
      const { bucket, roles, member } = item.bucket;
      const resources: ResourceResult[] = [];
      for (const role of roles) {
        const results = await ensureMembers({
          cloudId: input.cloudId,
          resource: `buckets/${bucket}`,
          kind: 'gcs-bucket-binding',
          name: bucket,
          role,
          want: [member],
          exact: false,
          read: () => gcp().getBucketPolicy(bucket),
          write: (p) => gcp().setBucketPolicy(bucket, p),
          missing: `bucket ${bucket} does not exist (provisioning.default_bucket)`,
        });
        resources.push(...results.map((r) => (r.action === 'failed' ? r : { ...r, detail: `${role} for ${member}` })));
      }
      // A bucket role the config no longer names (an extra role dropped): the service's own grant of it is removed.
      for (const role of await removeOwnBucketGrants(gcp(), deps.ownership, { bucket, member, cloudId: input.cloudId, keep: roles })) {
        resources.push({ kind: 'gcs-bucket-binding', name: bucket, action: 'deleted', detail: `${role} for ${member} (no longer configured)` });
      }
      return { resources };
    },

    /** GKE: the ServiceAccount in every namespace of every GKE cluster, annotated with the Google account. */
    async gcpEnsureServiceAccount(input: ItemInput): Promise<StepOutput> {
      const { planned, item } = await itemOf(input);
      if (item.kind !== 'gcp-gke') return { resources: [] };
      const resources: ResourceResult[] = [];
      const binding = gkeServiceAccountBinding(item);
      for (const cluster of planned.clusters as GkeCluster[]) {
        const k8s = gcp().kubernetes(cluster);
        for (const namespace of item.serviceAccount.namespaces) {
          resources.push(await ensureAnnotatedServiceAccount(deps.ownership, k8s, cluster, namespace, item, input.cloudId, now, binding));
        }
      }
      return { resources };
    },
  };
}

export type GcpSteps = ReturnType<typeof createGcpSteps>;

/** GKE: Workload Identity's annotation naming the Google account (the AWS step's rules: ours, adopted on request, or left alone). */
function gkeServiceAccountBinding(item: GkeItem): ServiceAccountBinding {
  const email = item.annotations[GKE_SA_ANNOTATION];
  return {
    key: GKE_SA_ANNOTATION,
    value: email,
    shown: `${GKE_SA_ANNOTATION}: ${email}`,
    leftAlone: 'exists without the ownership label; its annotation already names the account',
    refused: (verdict) =>
      verdict.kind === 'other-cloud'
        ? `belongs to cloud ${verdict.owner}; never adopted or changed for another cloud, left alone`
        : `carries this cloud's labels but ${verdict.reason}; left alone`,
  };
}
