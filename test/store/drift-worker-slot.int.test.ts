/** The drift worker's slot (DynamoDriftStore) against a real (embedded) dynalite: one pending check per cloud and kind. */
import { describe, expect, it } from 'vitest';
import { DynamoDriftStore } from '../../adapters/dynamodb/drift-store.js';
import { dynaliteTable } from '../helpers/dynalite-table.js';

const TABLE = 'iam-mapping-slot-test';
const db = dynaliteTable(TABLE, (o) => new DynamoDriftStore(o));

const at = (minute: number) => new Date(Date.UTC(2026, 11, 3, 10, minute)).toISOString();

describe('the drift worker slot', () => {
  it('the first claim wins; later claims and reads see it until it is released or runs out', async () => {
    expect(await db.store.workerSlot('c1', 'mode', at(0))).toBeNull();
    expect(await db.store.claimWorkerSlot('c1', 'mode', { requestedAt: at(0), until: at(16) })).toBeNull();
    // Held: a second claim (also concurrently) gets the first one's request.
    const [a, b] = await Promise.all([
      db.store.claimWorkerSlot('c1', 'mode', { requestedAt: at(1), until: at(17) }),
      db.store.claimWorkerSlot('c1', 'mode', { requestedAt: at(1), until: at(17) }),
    ]);
    expect([a, b]).toEqual([{ requestedAt: at(0) }, { requestedAt: at(0) }]);
    expect(await db.store.workerSlot('c1', 'mode', at(5))).toEqual({ requestedAt: at(0) });
    // Other kinds and clouds have their own slots.
    expect(await db.store.claimWorkerSlot('c1', 'true', { requestedAt: at(1), until: at(17) })).toBeNull();
    expect(await db.store.claimWorkerSlot('c2', 'mode', { requestedAt: at(1), until: at(17) })).toBeNull();
    // Past `until` (a worker that died): not held, and the next claim takes it.
    expect(await db.store.workerSlot('c1', 'mode', at(20))).toBeNull();
    expect(await db.store.claimWorkerSlot('c1', 'mode', { requestedAt: at(20), until: at(36) })).toBeNull();
    expect(await db.store.workerSlot('c1', 'mode', at(21))).toEqual({ requestedAt: at(20) });
  });

  it('release frees only the slot of the same request', async () => {
    expect(await db.store.claimWorkerSlot('c3', 'false', { requestedAt: at(0), until: at(16) })).toBeNull();
    await db.store.releaseWorkerSlot('c3', 'false', at(9)); // someone else's: no effect
    expect(await db.store.workerSlot('c3', 'false', at(1))).toEqual({ requestedAt: at(0) });
    await db.store.releaseWorkerSlot('c3', 'false', at(0));
    expect(await db.store.workerSlot('c3', 'false', at(1))).toBeNull();
    await db.store.releaseWorkerSlot('c3', 'false', at(0)); // twice: still fine
    // Reports of the cloud do not see the slot item.
    expect(await db.store.listReports('c3')).toEqual([]);
    expect(await db.store.latestReport('c3')).toBeNull();
  });

  it('a failed check frees its slot and stays listed with why until its own `until`', async () => {
    expect(await db.store.claimWorkerSlot('c4', 'mode', { requestedAt: at(0), until: at(16) })).toBeNull();
    expect(await db.store.claimWorkerSlot('c4', 'true', { requestedAt: at(1), until: at(17) })).toBeNull();
    await db.store.failWorkerSlot('c4', 'mode', at(9), { error: 'not this one', until: at(20) }); // someone else's: no effect
    await db.store.failWorkerSlot('c4', 'mode', at(0), { error: 'INTERNAL: AccessDenied', until: at(12) });
    expect(await db.store.workerSlot('c4', 'mode', at(2))).toBeNull();
    expect(await db.store.workerSlots('c4', at(2))).toEqual([
      { slot: 'mode', requestedAt: at(0), until: at(12), error: 'INTERNAL: AccessDenied' },
      { slot: 'true', requestedAt: at(1), until: at(17) },
    ]);
    expect(await db.store.workerSlots('c4', at(13))).toEqual([{ slot: 'true', requestedAt: at(1), until: at(17) }]);
    // Free for the next request although still listed.
    expect(await db.store.claimWorkerSlot('c4', 'mode', { requestedAt: at(3), until: at(19) })).toBeNull();
    expect(await db.store.workerSlot('c4', 'mode', at(4))).toEqual({ requestedAt: at(3) });
  });
});
