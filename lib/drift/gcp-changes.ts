/**
 * What provisioning would do for a Google Cloud draft (the plan route): the GCP drift of the
 * draft's plan against what Google and the GKE clusters hold now (lib/drift/gcp.ts, read only),
 * turned into creates and updates — or, where the run would not touch a resource (a member
 * someone else added, an account without the ownership marks, a bucket that does not exist), a
 * left-alone entry with the reason the run would give. An account of this cloud the draft no
 * longer names is a delete (deferred unless delete_orphans), or left alone when the inventory does
 * not agree it is ours (drift's repair would refuse it too).
 */
import type { DriftFinding } from '../ports.js';
import type { GcpPlanItem } from '../provisioning/gcp-plan.js';
import { orphanDeleteTiming, type LeftAlone, type PlannedChange } from './changes.js';

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(text) : v === null || v === undefined ? [] : [text(v)]);

export async function gcpChangesOf(
  items: readonly GcpPlanItem[],
  findings: readonly DriftFinding[],
  orphans: {
    drift: { deleteOrphans: boolean; mode: string };
    /** Do marks and inventory agree that this orphan finding's resource is this cloud's (as drift's repair requires)? */
    isOurs: (finding: DriftFinding) => Promise<boolean>;
  },
  /** Items the run refuses before any write (by item name; planTimeRefusal, gcpAccountRefusal): left alone, nothing of them planned. */
  refused: ReadonlyMap<string, LeftAlone> = new Map(),
): Promise<{ changes: PlannedChange[]; left_alone: LeftAlone[] }> {
  const changes: PlannedChange[] = [];
  const alone: LeftAlone[] = [...refused.values()];
  const byItem = new Map(items.map((i) => [i.kind === 'gcp-gke' ? i.serviceAccount.name : i.account.email, i] as const));
  for (const f of findings) {
    if (f.item !== undefined && refused.has(f.item)) continue;
    const item = f.item !== undefined ? byItem.get(f.item) : undefined;
    const where = {
      ...(f.item !== undefined ? { item: f.item } : {}),
      ...(f.cluster ? { cluster: f.cluster } : {}),
      ...(f.namespace ? { namespace: f.namespace } : {}),
    };
    switch (f.kind) {
      case 'gcp-account-missing':
        if (!f.repairable || !item) {
          alone.push({
            kind: 'gcp-service-account',
            name: f.name,
            ...where,
            reason: `${f.name} does not exist and the config does not ask to create it: provisioning would fail this item`,
          });
          break;
        }
        changes.push({ action: 'create', kind: 'gcp-service-account', name: f.name, ...where });
        changes.push({
          action: 'create',
          kind: 'gcp-iam-binding',
          name: `${f.name}/${item.accountBinding.role}`,
          ...where,
          diff: item.accountBinding.members.map((m) => `+ ${m}`).join('\n'),
        });
        for (const role of item.bucket.roles) {
          changes.push({ action: 'create', kind: 'gcs-bucket-binding', name: `${item.bucket.bucket}/${role}`, ...where, diff: `+ ${item.bucket.member}` });
        }
        break;
      case 'gcp-workload-identity-removed':
      case 'gcp-service-account-user-removed': {
        const have = list(f.actual);
        const add = list(f.expected).filter((m) => !have.includes(m));
        if (f.repairable) changes.push({ action: 'update', kind: 'gcp-iam-binding', name: f.name, ...where, diff: add.map((m) => `+ ${m}`).join('\n') });
        else alone.push({ kind: 'gcp-iam-binding', name: f.name, ...where, reason: f.message });
        break;
      }
      case 'gcp-workload-identity-widened':
        alone.push({ kind: 'gcp-iam-binding', name: f.name, ...where, reason: f.message });
        break;
      case 'gcp-bucket-access-removed':
        if (f.repairable) changes.push({ action: 'update', kind: 'gcs-bucket-binding', name: f.name, ...where, diff: `+ ${text(f.expected)}` });
        else alone.push({ kind: 'gcs-bucket-binding', name: f.name, ...where, reason: `${f.message}: provisioning would fail this item` });
        break;
      case 'service-account-missing':
        changes.push({ action: 'create', kind: 'service-account', name: f.name, ...where, diff: `+ iam.gke.io/gcp-service-account: ${text(f.expected)}` });
        break;
      case 'gcp-annotation-changed':
        if (f.repairable) {
          const from = f.actual === null || f.actual === undefined ? [] : [`- iam.gke.io/gcp-service-account: ${text(f.actual)}`];
          changes.push({
            action: 'update',
            kind: 'service-account',
            name: f.name,
            ...where,
            diff: [...from, `+ iam.gke.io/gcp-service-account: ${text(f.expected)}`].join('\n'),
          });
        } else {
          alone.push({
            kind: 'service-account',
            name: f.name,
            ...where,
            reason: `${f.message}; it lacks the ownership label: set adopt_service_account to take it over`,
          });
        }
        break;
      case 'gcp-account-orphan':
      case 'orphan-service-account': {
        const kind = f.kind === 'gcp-account-orphan' ? 'gcp-service-account' : 'service-account';
        if (!(await orphans.isOurs(f))) {
          alone.push({
            kind,
            name: f.name,
            ...where,
            reason: "carries this cloud's ownership marks but the service's inventory does not agree: never deleted",
          });
          break;
        }
        const { deferred, when } = orphanDeleteTiming(orphans.drift);
        changes.push({ action: 'delete', kind, name: f.name, ...where, reason: when, ...(deferred ? { deferred: true } : {}) });
        break;
      }
      default:
        alone.push({ kind: f.resource ?? f.kind, name: f.name, ...where, reason: f.message });
    }
  }
  return { changes, left_alone: alone };
}
