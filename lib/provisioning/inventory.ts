/**
 * Ownership that a copied tag cannot fake. A resource is this cloud's only when its ownership
 * marks (IAM / EKS tags, Kubernetes labels) name this cloud AND the service's inventory holds a
 * record of creating (or adopting) exactly that resource: same name and same RoleId /
 * InstanceProfileId / metadata.uid / pod identity associationId. A role re-created by hand with
 * copied tags has another RoleId,
 * so it is "not ours": never changed, never deleted. A resource whose marks or inventory record
 * name another cloud is never adopted, changed or deleted by this one.
 *
 * A create whose answer was lost (the role exists, the step is retried) is recognised by a random
 * token: the inventory record is written (id null, token T) before the create, and the create
 * puts T on the resource (tag / annotation); a resource carrying T was made by that create.
 */
import { randomUUID } from 'node:crypto';
import type { InventoryRecord, OwnedKind, ResourceRef } from '../ports.js';
import { CLOUD_LABEL, CLOUD_TAG, cloudLabelValue, cloudTagValue, MANAGED_BY_LABEL, MANAGED_BY_TAG, MANAGER } from './ownership.js';

/** Tag (IAM) / annotation (Kubernetes) holding the creation token. */
export const INVENTORY_TOKEN_KEY = 'iam-mapping.anyscale.io/inventory-token';

export const newInventoryToken = (): string => randomUUID();

/** The inventory / claim key of a resource: IAM names ignore case, so they are lowercased. */
export function resourceKey(ref: ResourceRef): string {
  if (ref.kind === 'service-account' || ref.kind === 'pod-identity-association')
    return `${ref.kind}#${ref.clusterIssuer ?? ref.cluster ?? ''}#${ref.namespace ?? ''}#${ref.name}`;
  return `${ref.kind}#${ref.name.toLowerCase()}`;
}

export const roleRef = (name: string): ResourceRef => ({ kind: 'iam-role', name });
export const instanceProfileRef = (name: string): ResourceRef => ({ kind: 'instance-profile', name });
/** A Google service account, by e-mail. */
export const gcpAccountRef = (email: string): ResourceRef => ({ kind: 'gcp-service-account', name: email });
export const serviceAccountRef = (cluster: { name: string; issuerHost: string }, namespace: string, name: string): ResourceRef => ({
  kind: 'service-account',
  name,
  namespace,
  cluster: cluster.name,
  clusterIssuer: cluster.issuerHost,
});

/** The EKS Pod Identity association of a ServiceAccount (EKS allows one per cluster, namespace and ServiceAccount). */
export const associationRef = (cluster: { name: string; issuerHost: string }, namespace: string, serviceAccount: string): ResourceRef => ({
  ...serviceAccountRef(cluster, namespace, serviceAccount),
  kind: 'pod-identity-association',
});

/** A resource in words: `IAM role x`, `ServiceAccount ns/sa in cluster c`. */
export function describeRef(ref: ResourceRef): string {
  if (ref.kind === 'service-account') return `ServiceAccount ${ref.namespace}/${ref.name}${ref.cluster ? ` in cluster ${ref.cluster}` : ''}`;
  if (ref.kind === 'pod-identity-association')
    return `the pod identity association of ${ref.namespace}/${ref.name}${ref.cluster ? ` in cluster ${ref.cluster}` : ''}`;
  if (ref.kind === 'gcp-service-account') return `Google service account ${ref.name}`;
  if (ref.kind === 'gcp-iam-member') return `IAM member ${ref.name}`;
  return `${ref.kind === 'iam-role' ? 'IAM role' : 'IAM instance profile'} ${ref.name}`;
}

export type Verdict =
  /** Marks and inventory agree: this cloud's. `finalize`: the record was pending and the token matched. */
  | { kind: 'ours'; finalize: boolean }
  /** No ownership marks and no other cloud's record: adoptable when the config says so. */
  | { kind: 'unmarked' }
  /** Another cloud's (by its marks or the inventory): never adopted, changed or deleted. */
  | { kind: 'other-cloud'; owner: string; by: 'inventory' | 'marks' }
  /** This cloud's marks without a matching inventory record (e.g. tags copied onto a hand-made role). */
  | { kind: 'unverified'; reason: string };

export interface Observed {
  kind: OwnedKind;
  /** IAM tags or Kubernetes labels. */
  marks: Readonly<Record<string, string | undefined>>;
  /** Where the creation token is: IAM tags, or the ServiceAccount's annotations. */
  tokenSource: Readonly<Record<string, string | undefined>>;
  id: string | undefined;
}

/** The cloud a mark value names: the cloud id itself, or (hashed form) whatever cloud the inventory says. */
function markKeys(kind: OwnedKind): { managedBy: string; cloud: string; value: (cloudId: string) => string } {
  // Google service accounts carry the label forms (in their description): ≤ 63 characters per cloud mark.
  return kind === 'service-account' || kind === 'gcp-service-account'
    ? { managedBy: MANAGED_BY_LABEL, cloud: CLOUD_LABEL, value: cloudLabelValue }
    : { managedBy: MANAGED_BY_TAG, cloud: CLOUD_TAG, value: cloudTagValue };
}

export function judgeOwnership(observed: Observed, record: InventoryRecord | null, cloudId: string): Verdict {
  const k = markKeys(observed.kind);
  const managedBy = Object.hasOwn(observed.marks, k.managedBy) ? observed.marks[k.managedBy] : undefined;
  const cloudMark = Object.hasOwn(observed.marks, k.cloud) ? observed.marks[k.cloud] : undefined;
  const token = Object.hasOwn(observed.tokenSource, INVENTORY_TOKEN_KEY) ? observed.tokenSource[INVENTORY_TOKEN_KEY] : undefined;
  // A record describes this very resource when its id matches (or, pending, when the token does).
  // (Without an id from the target — never the case with IAM or Kubernetes — the token decides.)
  const describesIt =
    record !== null && (record.id !== null && observed.id !== undefined ? record.id === observed.id : record.token !== undefined && token === record.token);
  if (record && describesIt && record.cloudId !== cloudId) return { kind: 'other-cloud', owner: record.cloudId, by: 'inventory' };
  const marked = managedBy !== undefined || cloudMark !== undefined;
  if (!marked) return { kind: 'unmarked' };
  if (cloudMark !== undefined && cloudMark !== k.value(cloudId)) return { kind: 'other-cloud', owner: cloudMark, by: 'marks' };
  if (managedBy !== MANAGER || cloudMark === undefined) {
    return {
      kind: 'unverified',
      reason: `its ownership marks are incomplete (${k.managedBy}=${managedBy ?? '(absent)'}, ${k.cloud}=${cloudMark ?? '(absent)'})`,
    };
  }
  if (record && describesIt) return { kind: 'ours', finalize: record.id === null };
  if (!record) return { kind: 'unverified', reason: "the service's inventory has no record of creating it (a copied tag is not proof of ownership)" };
  if (record.cloudId !== cloudId)
    return { kind: 'unverified', reason: `the service's inventory records another resource of this name for cloud ${record.cloudId}` };
  return {
    kind: 'unverified',
    reason:
      record.id !== null
        ? `it is not the resource the service created (id ${observed.id ?? 'unknown'}, the inventory recorded ${record.id}): it was re-created outside the service`
        : 'it does not carry the token of the create the service started',
  };
}

/** The message of an item that must not touch `ref`. Never suggests adopting what another cloud owns. */
export function refusal(ref: ResourceRef, verdict: Verdict, configKey: string, adoptField: string): string {
  const what = describeRef(ref);
  switch (verdict.kind) {
    case 'other-cloud':
      return (
        `${what} belongs to cloud ${verdict.owner} (${verdict.by === 'inventory' ? "the service's inventory" : 'its ownership marks'}); ` +
        `it is never adopted, changed or deleted for another cloud and was left alone. Choose another name for ${configKey}`
      );
    case 'unverified':
      return `${what} carries this cloud's ownership marks but ${verdict.reason}; it was left alone. Delete it, or remove its ownership marks and set provisioning.service_accounts.${configKey}.${adoptField}: true`;
    case 'unmarked':
      return `${what} exists without the ownership ${ref.kind === 'service-account' ? 'labels' : 'tags'} of this service; it was left alone. To let the service manage it, set provisioning.service_accounts.${configKey}.${adoptField}: true`;
    case 'ours':
      return `${what} is this cloud's`;
  }
}

/** A fresh record for a resource about to be created (id unknown until the create answers). */
export function pendingRecord(ref: ResourceRef, cloudId: string, now: string): InventoryRecord {
  return { ...ref, cloudId, id: null, token: newInventoryToken(), recordedAt: now };
}
