/**
 * Ownership checks against the live resource and the inventory, shared by the workflow steps
 * and the drift check's orphan deletion. Each reads the inventory record of the resource (one
 * consistent GetItem) and judges marks + record together (lib/provisioning/inventory.ts).
 */
import type { InstanceProfileInfo, InventoryRecord, OwnershipStore, ResourceRef, RoleInfo, ServiceAccountInfo } from '../ports.js';
import { instanceProfileRef, judgeOwnership, roleRef, type Verdict } from '../provisioning/inventory.js';

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
): Promise<boolean> {
  const staleId = previous && previous.cloudId !== cloudId ? previous.id : null;
  const { stored } = await store.putInventory({ ...ref, cloudId, id: id ?? null, recordedAt: now }, { staleId });
  return stored;
}

/** The resource was deleted: drop its inventory record and this cloud's claim on its name. */
export async function forgetOwned(store: OwnershipStore, ref: ResourceRef, cloudId: string): Promise<void> {
  await store.deleteInventory(ref, cloudId);
  await store.releaseClaim(ref, cloudId);
}
