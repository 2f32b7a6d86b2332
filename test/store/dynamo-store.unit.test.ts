/**
 * DynamoConfigStore error mapping and conditional-write paths, with a mocked SDK.
 * Note: with aws-sdk-client-mock a catch-all `ddb.on(Cmd)` must be registered BEFORE input-specific
 * `ddb.on(Cmd, input)` behaviours, otherwise it overrides them.
 */
import { randomBytes } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeDocument } from '../../adapters/dynamodb/codec.js';
import { canonicalJson } from '../../lib/json.js';
import { DynamoConfigStore } from '../../adapters/dynamodb/config-store.js';
import { isUnavailableError, mapDynamoError } from '../../adapters/dynamodb/errors.js';
import { AppError, DependencyUnavailableError } from '../../lib/errors.js';
import type { StickyResolution } from '../../lib/ports.js';

const ddb = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
const store = new DynamoConfigStore({ client: doc, tableName: 'tbl', maxCommitAttempts: 3 });
const meta$ = { $metadata: {} };

const ccf = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', ...meta$ });
const throttling = () => new ThrottlingException({ message: 'Rate exceeded', ...meta$ });

async function versionItem(version: number, document: Record<string, unknown>, chunkSizeBytes = 300 * 1024) {
  const body = await encodeDocument(document, chunkSizeBytes);
  const item = {
    PK: 'CLOUD#c1',
    SK: `VERSION#${String(version).padStart(10, '0')}`,
    type: 'VERSION',
    cloudId: 'c1',
    version,
    etag: `${version}-${body.contentHash.slice(0, 12)}`,
    createdAt: '2025-01-01T00:00:00.000Z',
    createdBy: 'a@b.c',
    contentHash: body.contentHash,
    ruleCount: 0,
    sizeBytes: body.sizeBytes,
    blobHash: body.blobHash,
    blobBytes: body.blobBytes,
    chunkCount: body.chunks.length,
  };
  const chunks = body.chunks.map((data, chunkNo) => ({ chunkNo, data: new Uint8Array(data) }));
  return { item, chunks };
}

const isLatestQuery = { KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)', Limit: 1 };

async function caught(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

beforeEach(() => {
  ddb.reset();
});

describe('error mapping', () => {
  it.each([
    ['ThrottlingException', throttling()],
    ['ProvisionedThroughputExceededException', new ProvisionedThroughputExceededException({ message: 'x', ...meta$ })],
    ['InternalServerError', new InternalServerError({ message: 'x', ...meta$ })],
    ['RequestLimitExceeded', Object.assign(new Error('x'), { name: 'RequestLimitExceeded' })],
    ['HTTP 503', Object.assign(new Error('x'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } })],
    ['unknown 500', Object.assign(new Error('x'), { name: 'Weird', $metadata: { httpStatusCode: 500 } })],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })],
    ['ECONNRESET in cause', Object.assign(new Error('fetch failed'), { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) })],
    ['TimeoutError', Object.assign(new Error('request timed out'), { name: 'TimeoutError' })],
  ])('%s on a read → DependencyUnavailableError (503, Retry-After)', async (_label, error) => {
    ddb.on(QueryCommand).rejects(error);
    const err = await caught(store.getLatestMeta('c1'));
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503, headers: { 'Retry-After': '1' } });
    expect((err as Error).cause).toBe(error);
  });

  it('throttling on the commit put → DependencyUnavailableError', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).resolves({});
    ddb.on(PutCommand, { Item: { type: 'VERSION' } }).rejects(throttling());
    expect(await caught(store.putVersion({ cloudId: 'c1', document: { a: 1 }, createdBy: 'x', ruleCount: 0 }))).toBeInstanceOf(DependencyUnavailableError);
  });

  it('throttling on sticky reads and writes → DependencyUnavailableError', async () => {
    ddb.on(GetCommand).rejects(throttling());
    ddb.on(PutCommand).rejects(throttling());
    expect(await caught(store.getSticky('c1', 'k1'))).toBeInstanceOf(DependencyUnavailableError);
    expect(await caught(store.putStickyIfAbsent('c1', 'k1', sticky('a')))).toBeInstanceOf(DependencyUnavailableError);
  });

  it('client errors (validation, missing table) → AppError INTERNAL, not 503', async () => {
    const validation = Object.assign(new Error('One or more parameter values were invalid'), {
      name: 'ValidationException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    ddb.on(QueryCommand).rejects(validation);
    const err = await caught(store.listClouds());
    expect(err).toBeInstanceOf(AppError);
    expect(err).not.toBeInstanceOf(DependencyUnavailableError);
    expect(err).toMatchObject({ code: 'INTERNAL', status: 500 });
    expect(isUnavailableError(validation)).toBe(false);
    expect(mapDynamoError(new AppError('NOT_FOUND', 'x'), 'Query').code).toBe('NOT_FOUND');
  });
});

describe('integrity', () => {
  it('rejects a corrupted chunk', async () => {
    const { item, chunks } = await versionItem(1, { a: 'b'.repeat(1000) });
    chunks[0]!.data[chunks[0]!.data.length - 10]! ^= 0xff;
    ddb.on(QueryCommand).resolves({ Items: chunks });
    ddb.on(QueryCommand, isLatestQuery).resolves({ Items: [item] });
    const err = await caught(store.getVersion('c1'));
    expect(err).toMatchObject({ code: 'INTERNAL' });
    expect((err as Error).message).toMatch(/corrupted/);
  });

  it('rejects a body whose content hash does not match the version', async () => {
    const { item, chunks } = await versionItem(1, { a: 1 });
    ddb.on(QueryCommand).resolves({ Items: chunks });
    ddb.on(QueryCommand, isLatestQuery).resolves({ Items: [{ ...item, contentHash: '0'.repeat(64) }] });
    expect(await caught(store.getVersion('c1'))).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/content hash/) });
  });

  it('rejects a missing chunk', async () => {
    const { item, chunks } = await versionItem(2, { a: randomBytes(300).toString('hex') }, 64);
    ddb.on(GetCommand).resolves({ Item: item });
    ddb.on(QueryCommand).resolves({ Items: chunks.slice(1) });
    expect(await caught(store.getVersion('c1', 2))).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/chunks/) });
  });

  it('follows LastEvaluatedKey when reading chunks', async () => {
    const document = { a: randomBytes(300).toString('hex') };
    const { item, chunks } = await versionItem(2, document, 64);
    expect(chunks.length).toBeGreaterThan(2);
    ddb.on(GetCommand).resolves({ Item: item });
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: chunks.slice(0, 2), LastEvaluatedKey: { PK: 'x', SK: 'y' } })
      .resolvesOnce({ Items: chunks.slice(2) });
    expect((await store.getVersion('c1', 2))?.document).toEqual(document);
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(ddb).toHaveReceivedNthCommandWith(QueryCommand, 2, { ExclusiveStartKey: { PK: 'x', SK: 'y' } });
  });
});

describe('conditional-write paths', () => {
  it('If-Match + ConditionalCheckFailed on commit → PRECONDITION_FAILED naming the new etag', async () => {
    const v1 = await versionItem(1, { a: 1 });
    const v2 = await versionItem(2, { a: 2 });
    ddb
      .on(QueryCommand, isLatestQuery)
      .resolvesOnce({ Items: [v1.item] })
      .resolves({ Items: [v2.item] });
    ddb.on(PutCommand).resolves({});
    ddb.on(PutCommand, { Item: { type: 'VERSION' } }).rejects(ccf());
    const err = await caught(
      store.putVersion({ cloudId: 'c1', document: { a: 3 }, createdBy: 'x', ruleCount: 0, ifMatch: { kind: 'etags', etags: [v1.item.etag] } }),
    );
    expect(err).toMatchObject({ code: 'PRECONDITION_FAILED', status: 412 });
    expect((err as Error).message).toContain(v2.item.etag);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 2); // 1 chunk + 1 commit attempt, no retry
  });

  it('stale If-Match fails before writing anything', async () => {
    const v1 = await versionItem(1, { a: 1 });
    ddb.on(QueryCommand).resolves({ Items: [v1.item] });
    expect(
      await caught(
        store.putVersion({ cloudId: 'c1', document: { a: 3 }, createdBy: 'x', ruleCount: 0, ifMatch: { kind: 'etags', etags: ['0-000000000000'] } }),
      ),
    ).toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining(v1.item.etag) });
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
  });

  it('no If-Match + ConditionalCheckFailed → re-reads latest and commits the next version', async () => {
    const v1 = await versionItem(1, { a: 1 });
    const v2 = await versionItem(2, { a: 2 });
    ddb
      .on(QueryCommand, isLatestQuery)
      .resolvesOnce({ Items: [v1.item] })
      .resolves({ Items: [v2.item] });
    ddb.on(PutCommand).resolves({});
    ddb
      .on(PutCommand, { Item: { type: 'VERSION' } })
      .rejectsOnce(ccf())
      .resolves({});
    const meta = await store.putVersion({ cloudId: 'c1', document: { a: 3 }, createdBy: 'x', ruleCount: 0 });
    expect(meta.version).toBe(3);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ SK: 'VERSION#0000000003' }),
      ConditionExpression: 'attribute_not_exists(PK)',
    });
  });

  it('no If-Match + endless ConditionalCheckFailed → CONFLICT after maxCommitAttempts', async () => {
    let n = 0;
    ddb.on(QueryCommand, isLatestQuery).callsFake(async () => ({ Items: [(await versionItem(++n, { n })).item] }));
    ddb.on(PutCommand).resolves({});
    ddb.on(PutCommand, { Item: { type: 'VERSION' } }).rejects(ccf());
    expect(await caught(store.putVersion({ cloudId: 'c1', document: { a: 3 }, createdBy: 'x', ruleCount: 0 }))).toMatchObject({
      code: 'CONFLICT',
      status: 409,
    });
    expect(ddb.commandCalls(PutCommand, { Item: { type: 'VERSION' } })).toHaveLength(3);
  });

  it('first version registers the cloud (registration conflict is ignored)', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).resolves({});
    ddb.on(PutCommand, { Item: { type: 'CLOUD' } }).rejects(ccf());
    const meta = await store.putVersion({ cloudId: 'c9', document: {}, createdBy: 'x', ruleCount: 0 });
    expect(meta.version).toBe(1);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining({ PK: 'CLOUDS', SK: 'c9' }) });
  });

  it('sticky: ConditionalCheckFailed → returns the stored resolution (consistent read)', async () => {
    const stored = sticky('first');
    ddb.on(PutCommand).rejects(ccf());
    ddb.on(GetCommand).resolves({ Item: { PK: 'CLOUD#c1', SK: 'CLUSTER#k1', resolution: stored } });
    expect(await store.putStickyIfAbsent('c1', 'k1', sticky('second'))).toEqual(stored);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { ConsistentRead: true, Key: { PK: 'CLOUD#c1', SK: 'CLUSTER#k1' } });
  });

  it('sticky: successful conditional put returns the given resolution', async () => {
    ddb.on(PutCommand).resolves({});
    const r = sticky('mine');
    expect(await store.putStickyIfAbsent('c1', 'k1', r)).toEqual(r);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, { ConditionExpression: 'attribute_not_exists(PK)' });
  });
});

describe('helpers', () => {
  it('canonicalJson sorts keys at every depth (incl. integer-like keys) and matches JSON semantics', () => {
    expect(canonicalJson({ b: 1, a: { '10': 1, '9': 2, x: [{ d: 1, c: undefined }, undefined] } })).toBe('{"a":{"10":1,"9":2,"x":[{"d":1},null]},"b":1}');
    expect(canonicalJson({ z: undefined, a: 1 })).toBe('{"a":1}');
    expect(canonicalJson({ d: new Date(0), n: NaN, s: 'é"\n' })).toBe(JSON.stringify({ d: new Date(0), n: NaN, s: 'é"\n' }));
  });
});

function sticky(value: string): StickyResolution {
  return {
    value,
    source: 'RULE',
    rule_index: 0,
    config_version: 1,
    resolved_at: '2025-01-01T00:00:00.000Z',
    workload_type: 'training',
    project: 'p',
    user: 'u@example.com',
  };
}
