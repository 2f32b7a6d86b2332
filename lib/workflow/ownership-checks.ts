/**
 * Ownership checks against the live resource and the inventory, shared by the workflow steps
 * and the drift check's orphan deletion. Each reads the inventory record of the resource (one
 * consistent GetItem) and judges marks + record together (lib/provisioning/inventory.ts).
 */
import type { InstanceProfileInfo, InventoryRecord, OwnershipStore, PodIdentityAssociationInfo, ResourceRef, RoleInfo, ServiceAccountInfo } from '../ports.js';
import { isOwnedRole } from '../provisioning/ownership.js';
import { instanceProfileRef, judgeOwnership, pendingRecord, roleRef, type Verdict } from '../provisioning/inventory.js';

export interface Judged {
  verdict: Verdict;
  record: InventoryRecord | null;
}

export async function judgeRole(store: OwnershipStore, role: RoleInfo, cloudId: string): Promise<Judged> {
  const record = await store.getInventory(roleRef(role.name));
  return { record, verdict: judgeOwnership({ kind: 'iam-role', marks: role.tags, tokenSource: role.tags, id: role.id }, record, cloudId) };
}

export async function judgeInstanceProfile(store: OwnershipStore, profile: InstanceProfileInfo, cloudId: string): Promise<Judged> {
  const record = await store.getInventory(instanceProfileRef(profile.name));
  return { record, verdict: judgeOwnership({ kind: 'instance-profile', marks: profile.tags, tokenSource: profile.tags, id: profile.id }, record, cloudId) };
}

export async function judgeServiceAccount(store: OwnershipStore, ref: ResourceRef, sa: ServiceAccountInfo, cloudId: string): Promise<Judged> {
  const record = await store.getInventory(ref);
  return { record, verdict: judgeOwnership({ kind: 'service-account', marks: sa.labels, tokenSource: sa.annotations, id: sa.uid }, record, cloudId) };
}

/**
 * A pod identity association at `ref` (associationRef): its tags and the inventory record of its
 * associationId. `record` passes a record read already (a batched read); without a store (read-only
 * callers that have none) the tags alone decide.
 */
export async function judgeAssociation(
  store: OwnershipStore | undefined,
  ref: ResourceRef,
  association: PodIdentityAssociationInfo,
  cloudId: string,
  record?: InventoryRecord | null,
): Promise<Judged> {
  const observed = { kind: 'pod-identity-association' as const, marks: association.tags, tokenSource: association.tags, id: association.associationId };
  if (!store && isOwnedRole(association.tags, cloudId)) return { record: null, verdict: { kind: 'ours', finalize: false } };
  const known = record !== undefined ? record : store ? await store.getInventory(ref) : null;
  return { record: known, verdict: judgeOwnership(observed, known, cloudId) };
}

/**
 * Records `ref` (with its id) as this cloud's: after a create answered, after a lost answer was
 * recognised by its token, or on adoption. Replaces a record whose resource is gone (`staleId`).
 * Returns false when another cloud's record stands.
 */
export async function recordOwned(
  store: OwnershipStore,
  ref: ResourceRef,
  cloudId: string,
  id: string | undefined,
  now: string,
  previous: InventoryRecord | null,
  /** Adopted (not made by the service): said so wherever the record is described (lingering). */
  adopted = false,
): Promise<boolean> {
  const staleId = previous && previous.cloudId !== cloudId ? previous.id : null;
  const { stored } = await store.putInventory(
    { ...ref, cloudId, id: id ?? null, ...(adopted ? { adopted: true as const } : {}), recordedAt: now },
    { staleId },
  );
  return stored;
}

/** The resource was deleted: drop its inventory record and this cloud's claim on its name. */
export async function forgetOwned(store: OwnershipStore, ref: ResourceRef, cloudId: string): Promise<void> {
  await store.deleteInventory(ref, cloudId);
  await store.releaseClaim(ref, cloudId);
}

/**
 * The inventory record to write before creating `ref`: this cloud's own pending record is reused
 * (its token may be on a create whose answer was lost); a record of another cloud — pending or
 * made — wins, and its cloud is returned instead.
 */
export async function reserveCreate(
  store: OwnershipStore,
  ref: ResourceRef,
  cloudId: string,
  at: string,
): Promise<{ record: InventoryRecord } | { owner: string }> {
  const prior = await store.getInventory(ref);
  if (prior && prior.cloudId === cloudId && prior.id === null && prior.token) return { record: prior };
  if (prior && prior.cloudId !== cloudId && prior.id === null) return { owner: prior.cloudId };
  const record = pendingRecord(ref, cloudId, at);
  const { stored, current } = await store.putInventory(record, { staleId: prior && prior.cloudId !== cloudId ? prior.id : null });
  return stored ? { record } : { owner: current?.cloudId ?? 'another cloud' };
}
