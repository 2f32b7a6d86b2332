/** StickyStore on dynalite: every kept answer of a cloud is listed (across Query pages), and one can be forgotten. */
import { describe, expect, it } from 'vitest';
import { DynamoConfigStore } from '../../adapters/dynamodb/config-store.js';
import type { StickyResolution } from '../../lib/ports.js';
import { dynaliteTable } from '../helpers/dynalite-table.js';

const TABLE = 'iam-mapping-sticky-test';
const db = dynaliteTable(TABLE, (o) => new DynamoConfigStore(o));

// ~1.3 KB per item, so 1,200 of them span two 1 MB Query pages.
const kept = (i: number): StickyResolution => ({
  value: `sa-${i}`,
  source: 'RULE',
  rule_index: i,
  config_version: 1,
  resolved_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)).toISOString(),
  workload_type: 'job',
  project: `p${'x'.repeat(600)}`,
  user: `u${'y'.repeat(600)}@example.com`,
});

describe('sticky list and delete', () => {
  it('lists every kept answer of a cloud across Query pages, and only that cloud’s', async () => {
    const N = 1_200;
    for (let i = 0; i < N; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, N - i) }, (_, j) => db.store.putStickyIfAbsent('cld_big', `c${i + j}`, kept(i + j))));
    }
    await db.store.putStickyIfAbsent('cld_other', 'c0', kept(0));
    const listed = await db.store.listSticky('cld_big');
    expect(listed).toHaveLength(N);
    expect(new Set(listed.map((l) => l.clusterId)).size).toBe(N);
    expect(listed.find((l) => l.clusterId === 'c7')!.resolution).toMatchObject({ value: 'sa-7', rule_index: 7 });
    expect(await db.store.listSticky('cld_other')).toEqual([{ clusterId: 'c0', resolution: kept(0) }]);
    expect(await db.store.listSticky('cld_none')).toEqual([]);
  });

  it('deletes one kept answer: true once, then false; the next put is a first write again', async () => {
    expect(await db.store.deleteSticky('cld_other', 'c0')).toBe(true);
    expect(await db.store.deleteSticky('cld_other', 'c0')).toBe(false);
    expect(await db.store.getSticky('cld_other', 'c0')).toBeNull();
    expect(await db.store.putStickyIfAbsent('cld_other', 'c0', kept(5))).toMatchObject({ value: 'sa-5' });
  });
});
