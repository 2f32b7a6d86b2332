/** DynamoConfigStore against a real (embedded) dynalite. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../lib/json.js';
import { DynamoConfigStore } from '../../adapters/dynamodb/config-store.js';
import { parseIfMatch } from '../../functions/http.js';
import { AppError, DependencyUnavailableError } from '../../lib/errors.js';
import type { StickyResolution } from '../../lib/ports.js';
import { createLocalDocumentClient, ensureTable, startDynalite, type DynaliteHandle } from '../../local/dynalite.js';
import { bigConfig, incompressibleConfig, newCloudId } from './helpers.js';

const TABLE = 'iam-mapping-test';

let dyn: DynaliteHandle;
let client: DynamoDBDocumentClient;
let store: DynamoConfigStore;

beforeAll(async () => {
  dyn = await startDynalite();
  client = createLocalDocumentClient(dyn.endpoint);
  await ensureTable(client, TABLE);
  store = new DynamoConfigStore({ client, tableName: TABLE });
});

afterAll(async () => {
  client?.destroy();
  await dyn?.close();
});

const put = (cloudId: string, document: Record<string, unknown>, ifMatch?: string) =>
  store.putVersion({ cloudId, document, createdBy: 'alice@example.com', ruleCount: 0, ...(ifMatch !== undefined ? { ifMatch: parseIfMatch(ifMatch)! } : {}) });

async function expectAppError(p: Promise<unknown>, code: string): Promise<AppError> {
  const err = await p.then(
    () => {
      throw new Error(`expected AppError ${code}, got success`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  return err as AppError;
}

async function blobItemCount(cloudId: string): Promise<number> {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const res = await client.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
        ExpressionAttributeValues: { ':pk': `CLOUD#${cloudId}`, ':p': 'BLOB#' },
        Select: 'COUNT',
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    count += res.Count ?? 0;
    startKey = res.LastEvaluatedKey;
  } while (startKey);
  return count;
}

describe('DynamoConfigStore on dynalite', () => {
  it('ensureTable is idempotent', async () => {
    await ensureTable(client, TABLE);
  });

  it('round-trips a document with metadata', async () => {
    const cloudId = newCloudId();
    const now = new Date('2025-01-02T03:04:05.000Z');
    const document = { z: 1, a: { '10': 'x', '9': 'y', nested: [3, { b: null, a: true }] }, unicode: 'çà 🚀' };
    const meta = await store.putVersion({ cloudId, document, createdBy: 'alice@example.com', ruleCount: 7, now });
    const canonical = canonicalJson(document);
    expect(meta).toEqual({
      cloudId,
      version: 1,
      etag: `1-${sha256Hex(canonical).slice(0, 12)}`,
      createdAt: now.toISOString(),
      createdBy: 'alice@example.com',
      contentHash: sha256Hex(canonical),
      ruleCount: 7,
      sizeBytes: Buffer.byteLength(canonical),
    });
    expect(await store.getLatestMeta(cloudId)).toEqual(meta);
    const latest = await store.getVersion(cloudId);
    expect(latest).toEqual({ ...meta, document });
    expect(await store.getVersion(cloudId, 1)).toEqual({ ...meta, document });
  });

  it('returns null / [] for unknown clouds and versions', async () => {
    const cloudId = newCloudId();
    expect(await store.getLatestMeta(cloudId)).toBeNull();
    expect(await store.getVersion(cloudId)).toBeNull();
    expect(await store.getVersion(cloudId, 3)).toBeNull();
    expect(await store.listVersions(cloudId)).toEqual([]);
    await put(cloudId, { a: 1 });
    expect(await store.getVersion(cloudId, 2)).toBeNull();
    expect(await store.getVersion(cloudId, 0)).toBeNull();
  });

  it('same content in a different key order has the same content hash', async () => {
    const cloudId = newCloudId();
    const a = await put(cloudId, { x: 1, y: { b: 2, a: 1 } });
    // Directly after a, the reordered document equals the current version: nothing is stored.
    const same = await put(cloudId, { y: { a: 1, b: 2 }, x: 1 });
    expect(same).toMatchObject({ version: a.version, etag: a.etag, contentHash: a.contentHash, unchanged: true });
    await put(cloudId, { other: true });
    const b = await put(cloudId, { y: { a: 1, b: 2 }, x: 1 });
    expect(b.unchanged).toBeUndefined();
    expect(b.contentHash).toBe(a.contentHash);
    expect(b.etag).not.toBe(a.etag);
    // each version keeps the key order it was written in (GET shows what the admin wrote)
    expect(Object.keys((await store.getVersion(cloudId, a.version))!.document)).toEqual(['x', 'y']);
    expect(Object.keys((await store.getVersion(cloudId, b.version))!.document)).toEqual(['y', 'x']);
    expect(await blobItemCount(cloudId)).toBe(3);
  });

  it('a stale If-Match names the current version, who stored it and when', async () => {
    const cloudId = newCloudId();
    const a = await put(cloudId, { n: 1 });
    const b = await store.putVersion({ cloudId, document: { n: 2 }, createdBy: 'bob@example.com', ruleCount: 0 });
    const err = await put(cloudId, { n: 3 }, `"${a.etag}"`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect((err as Error).message).toContain(`version ${b.version} stored by bob@example.com at ${b.createdAt}`);
  });

  it('identical documents share their chunks (content-addressed)', async () => {
    const cloudId = newCloudId();
    await put(cloudId, { x: 1, y: { b: 2, a: 1 } });
    await put(cloudId, { x: 2 });
    await put(cloudId, { x: 1, y: { b: 2, a: 1 } });
    expect(await blobItemCount(cloudId)).toBe(2);
  });

  it('round-trips a 10,000-rule document (~1.5 MB) in several chunks', async () => {
    const cloudId = newCloudId();
    const document = bigConfig(10_000);
    const t0 = performance.now();
    const meta = await store.putVersion({ cloudId, document, createdBy: 'alice@example.com', ruleCount: 10_000 });
    const t1 = performance.now();
    const got = await store.getVersion(cloudId);
    const t2 = performance.now();
    console.info(`10k-rule doc: ${meta.sizeBytes} B JSON; put ${(t1 - t0).toFixed(0)} ms, get ${(t2 - t1).toFixed(0)} ms`);
    expect(meta.sizeBytes).toBeGreaterThan(1_400_000);
    expect(meta.ruleCount).toBe(10_000);
    expect(got?.document).toEqual(document);
    expect(got?.contentHash).toBe(meta.contentHash);
    expect(await blobItemCount(cloudId)).toBeGreaterThan(1);
  });

  it('reads bodies spanning several 1 MB Query pages', async () => {
    const cloudId = newCloudId();
    const document = incompressibleConfig(1_600_000); // base64 of random bytes: gzip ≈ 1.2 MB
    await put(cloudId, document);
    expect(await blobItemCount(cloudId)).toBeGreaterThanOrEqual(4); // 4 × 300 KiB > one 1 MB page
    expect((await store.getVersion(cloudId))?.document).toEqual(document);
  });

  it('chunks small documents too when configured with a tiny chunk size', async () => {
    const cloudId = newCloudId();
    const tiny = new DynamoConfigStore({ client, tableName: TABLE, chunkSizeBytes: 64 });
    const document = bigConfig(20);
    const meta = await tiny.putVersion({ cloudId, document, createdBy: 'a@b.c', ruleCount: 20 });
    expect(await blobItemCount(cloudId)).toBeGreaterThan(10);
    expect((await tiny.getVersion(cloudId, meta.version))?.document).toEqual(document);
    expect((await store.getVersion(cloudId))?.document).toEqual(document); // chunk size is a writer concern
  });

  it('lists version history newest first, with limit and beforeVersion paging', async () => {
    const cloudId = newCloudId();
    for (let i = 1; i <= 12; i++) await put(cloudId, { i });
    const all = await store.listVersions(cloudId);
    expect(all.map((v) => v.version)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(all[0]).not.toHaveProperty('document');
    const page1 = await store.listVersions(cloudId, { limit: 5 });
    expect(page1.map((v) => v.version)).toEqual([12, 11, 10, 9, 8]);
    const page2 = await store.listVersions(cloudId, { limit: 5, beforeVersion: page1.at(-1)!.version });
    expect(page2.map((v) => v.version)).toEqual([7, 6, 5, 4, 3]);
    const page3 = await store.listVersions(cloudId, { limit: 5, beforeVersion: 3 });
    expect(page3.map((v) => v.version)).toEqual([2, 1]);
    expect(await store.listVersions(cloudId, { beforeVersion: 1 })).toEqual([]);
    expect((await store.listVersions(cloudId, { limit: 0 })).length).toBe(1); // clamped to ≥ 1
    expect((await store.getVersion(cloudId, 4))?.document).toEqual({ i: 4 });
  });

  it('If-Match: matching etag (strong, weak, quoted) succeeds; stale fails naming the current etag', async () => {
    const cloudId = newCloudId();
    const v1 = await put(cloudId, { n: 1 });
    const v2 = await put(cloudId, { n: 2 }, v1.etag);
    const v3 = await put(cloudId, { n: 3 }, `W/"${v2.etag}"`);
    const v4 = await put(cloudId, { n: 4 }, `"nope", "${v3.etag}"`);
    expect(v4.version).toBe(4);

    const err = await expectAppError(put(cloudId, { n: 5 }, v1.etag), 'PRECONDITION_FAILED');
    expect(err.status).toBe(412);
    expect(err.message).toContain(v4.etag);
    expect((await store.getLatestMeta(cloudId))?.version).toBe(4);
  });

  it('If-Match: * requires an existing version', async () => {
    const cloudId = newCloudId();
    await expectAppError(put(cloudId, { n: 1 }, '*'), 'PRECONDITION_FAILED');
    await expectAppError(put(cloudId, { n: 1 }, '"1-abc"'), 'PRECONDITION_FAILED');
    expect(await store.getLatestMeta(cloudId)).toBeNull();
    await put(cloudId, { n: 1 });
    expect((await put(cloudId, { n: 2 }, '*')).version).toBe(2);
  });

  it('50 concurrent puts with the same If-Match: exactly one wins, 49 get PRECONDITION_FAILED', async () => {
    const cloudId = newCloudId();
    const base = await put(cloudId, { n: 0 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => put(cloudId, { writer: i }, base.etag)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(49);
    for (const e of failed) expect((e as AppError).code).toBe('PRECONDITION_FAILED');
    const history = await store.listVersions(cloudId);
    expect(history.map((v) => v.version)).toEqual([2, 1]);
    expect(history[0]).toEqual((ok[0] as PromiseFulfilledResult<unknown>).value);
  });

  it('50 concurrent puts without If-Match: versions 1..50, all distinct', async () => {
    const cloudId = newCloudId();
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => put(cloudId, { writer: i })));
    console.info(`50 concurrent unconditional puts: ${(performance.now() - t0).toFixed(0)} ms`);
    expect(results.map((m) => m.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const history = await store.listVersions(cloudId);
    expect(history.map((v) => v.version)).toEqual(Array.from({ length: 50 }, (_, i) => 50 - i));
    // Each committed version holds the document of the writer that committed it.
    for (const m of results.slice(0, 5)) {
      const got = await store.getVersion(cloudId, m.version);
      expect(got?.contentHash).toBe(m.contentHash);
    }
  });

  it('sticky: first writer wins under 20 concurrent puts', async () => {
    const cloudId = newCloudId();
    const clusterId = 'cluster-1';
    expect(await store.getSticky(cloudId, clusterId)).toBeNull();
    const mk = (i: number): StickyResolution => ({
      value: i % 2 ? `arn:aws:iam::123456789012:role/r${i}` : null,
      source: i % 2 ? 'RULE' : 'CLOUD_DEFAULT',
      rule_index: i % 2 ? i : null,
      config_version: 3,
      resolved_at: new Date(1_700_000_000_000 + i).toISOString(),
      workload_type: 'training',
      project: 'p',
      user: `u${i}@example.com`,
    });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.putStickyIfAbsent(cloudId, clusterId, mk(i))));
    const stored = await store.getSticky(cloudId, clusterId);
    expect(stored).not.toBeNull();
    expect(results.every((r) => JSON.stringify(r) === JSON.stringify(results[0]))).toBe(true);
    expect(stored).toEqual(results[0]);
    expect(Array.from({ length: 20 }, (_, i) => mk(i))).toContainEqual(stored);
    // A later put does not replace it.
    expect(await store.putStickyIfAbsent(cloudId, clusterId, mk(99))).toEqual(stored);
    expect(await store.getSticky(cloudId, 'other-cluster')).toBeNull();
  });

  it('listClouds lists every cloud with a version, once', async () => {
    const a = newCloudId();
    const b = newCloudId();
    await put(a, { n: 1 });
    await put(a, { n: 2 });
    await Promise.all([put(b, { n: 1 }), put(b, { n: 2 })]);
    const clouds = await store.listClouds();
    expect(clouds).toContain(a);
    expect(clouds).toContain(b);
    expect(new Set(clouds).size).toBe(clouds.length);
    const c = newCloudId();
    await expectAppError(put(c, { n: 1 }, '*'), 'PRECONDITION_FAILED');
    expect(await store.listClouds()).not.toContain(c);
  });
});

describe('unreachable DynamoDB', () => {
  it('connection refused → DependencyUnavailableError (fails fast)', async () => {
    const d = await startDynalite();
    const endpoint = d.endpoint;
    await d.close(); // nothing listens on this port any more
    const c = createLocalDocumentClient(endpoint);
    const s = new DynamoConfigStore({ client: c, tableName: TABLE });
    const t0 = performance.now();
    const err = await s.getLatestMeta(newCloudId()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect(performance.now() - t0).toBeLessThan(5_000);
    c.destroy();
  });
});

describe('dynalite persistence', () => {
  it('keeps data across a stop/start with a dataDir', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'dynalite-store-'));
    try {
      const cloudId = newCloudId();
      let d = await startDynalite({ dataDir });
      let c = createLocalDocumentClient(d.endpoint);
      await ensureTable(c, TABLE);
      let s = new DynamoConfigStore({ client: c, tableName: TABLE });
      const document = bigConfig(500);
      const meta = await s.putVersion({ cloudId, document, createdBy: 'a@b.c', ruleCount: 500 });
      c.destroy();
      await d.close();
      await d.close(); // idempotent

      d = await startDynalite({ dataDir });
      c = createLocalDocumentClient(d.endpoint);
      await ensureTable(c, TABLE); // already there: no-op
      s = new DynamoConfigStore({ client: c, tableName: TABLE });
      expect(await s.getVersion(cloudId)).toEqual({ ...meta, document });
      expect(await s.listClouds()).toEqual([cloudId]);
      c.destroy();
      await d.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
