/** DynamoOwnershipStore against dynalite: first cloud wins a claim or an inventory record, conditions hold under races. */
import { describe, expect, it } from 'vitest';
import { DynamoOwnershipStore } from '../../adapters/dynamodb/ownership-store.js';
import { roleRef, serviceAccountRef } from '../../lib/provisioning/inventory.js';
import { dynaliteTable } from '../helpers/dynalite-table.js';

const TABLE = 'iam-mapping-ownership-test';
const db = dynaliteTable(TABLE, (o) => new DynamoOwnershipStore(o));
const at = new Date(0).toISOString();

describe('claims', () => {
  it('first cloud wins, names compared ignoring case; 20 racing clouds → exactly one holder', async () => {
    const ref = roleRef('Shared-Role');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.store.claim({ ...roleRef(i % 2 ? 'shared-role' : 'SHARED-ROLE'), cloudId: `c${i}`, configVersion: 1, claimedAt: at }),
      ),
    );
    const holders = new Set(results.map((r) => r.cloudId));
    expect(holders.size).toBe(1);
    const holder = [...holders][0]!;
    expect((await db.store.getClaim(ref))?.cloudId).toBe(holder);
    expect((await db.store.listClaims(holder)).map((c) => c.name.toLowerCase())).toEqual(['shared-role']);
    // Another cloud's release is a no-op; the holder's frees it.
    await db.store.releaseClaim(ref, holder === 'c0' ? 'c1' : 'c0');
    expect((await db.store.getClaim(ref))?.cloudId).toBe(holder);
    await db.store.releaseClaim(ref, holder);
    expect(await db.store.getClaim(ref)).toBeNull();
    expect(await db.store.listClaims(holder)).toEqual([]);
  });

  it('ServiceAccounts are claimed per cluster issuer, namespace and name', async () => {
    const a = serviceAccountRef({ name: 'prod', issuerHost: 'oidc.example/id/A' }, 'ns', 'sa');
    const b = serviceAccountRef({ name: 'prod', issuerHost: 'oidc.example/id/B' }, 'ns', 'sa');
    expect((await db.store.claim({ ...a, cloudId: 'x', configVersion: 1, claimedAt: at })).cloudId).toBe('x');
    expect((await db.store.claim({ ...b, cloudId: 'y', configVersion: 1, claimedAt: at })).cloudId).toBe('y');
    expect((await db.store.claim({ ...a, cloudId: 'y', configVersion: 2, claimedAt: at })).cloudId).toBe('x');
  });
});

describe('inventory', () => {
  it("another cloud's record stands unless its id is the stale one given; own records are replaced; delete only by the owner", async () => {
    const ref = roleRef('inv-role');
    expect((await db.store.putInventory({ ...ref, cloudId: 'a', id: 'AROA1', recordedAt: at })).stored).toBe(true);
    const refused = await db.store.putInventory({ ...ref, cloudId: 'b', id: 'AROA2', recordedAt: at });
    expect(refused).toMatchObject({ stored: false, current: { cloudId: 'a', id: 'AROA1' } });
    expect((await db.store.putInventory({ ...ref, cloudId: 'b', id: 'AROA2', recordedAt: at }, { staleId: 'AROA9' })).stored).toBe(false);
    expect((await db.store.putInventory({ ...ref, cloudId: 'b', id: 'AROA2', recordedAt: at }, { staleId: 'AROA1' })).stored).toBe(true);
    expect((await db.store.putInventory({ ...ref, cloudId: 'b', id: 'AROA3', token: 't', recordedAt: at })).stored).toBe(true);
    await db.store.deleteInventory(ref, 'a');
    expect((await db.store.getInventory(roleRef('INV-ROLE')))?.id).toBe('AROA3');
    await db.store.deleteInventory(ref, 'b');
    expect(await db.store.getInventory(ref)).toBeNull();
  });
});

describe('batched reads (the plan route)', () => {
  it('getInventories and getClaims answer by resource key, past 100 keys per BatchGetItem, missing ones absent', async () => {
    const refs = Array.from({ length: 230 }, (_, i) => roleRef(`Batch-Role-${i}`));
    for (const ref of refs.slice(0, 150)) await db.store.putInventory({ ...ref, cloudId: 'batch', id: `AROA${ref.name}`, recordedAt: at });
    await db.store.claim({ ...refs[200]!, cloudId: 'other', configVersion: 1, claimedAt: at });
    const inventory = await db.store.getInventories([...refs, refs[0]!]);
    expect(inventory.size).toBe(150);
    expect(inventory.get('iam-role#batch-role-7')).toMatchObject({ cloudId: 'batch', id: 'AROABatch-Role-7', name: 'Batch-Role-7' });
    expect(inventory.has('iam-role#batch-role-199')).toBe(false);
    const claims = await db.store.getClaims(refs);
    expect([...claims.keys()]).toEqual(['iam-role#batch-role-200']);
    expect(claims.get('iam-role#batch-role-200')).toMatchObject({ cloudId: 'other' });
    expect((await db.store.getInventories([])).size).toBe(0);
  });
});
