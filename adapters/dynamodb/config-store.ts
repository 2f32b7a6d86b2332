/**
 * DynamoDB adapter for ConfigStore and StickyStore. Item layout and commit protocol: see table.ts.
 * Uses only single-item conditional writes, so it runs on dynalite as well as on DynamoDB.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, DeleteCommand, GetCommand, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../lib/errors.js';
import type {
  ConfigStore,
  IfMatch,
  PutVersionInput,
  PutVersionResult,
  StickyResolution,
  StickyStore,
  StoredConfigVersion,
  VersionMeta,
} from '../../lib/ports.js';
import { corrupted, decodeDocument, encodeDocument, type EncodedBody } from './codec.js';
import { parseItem, stickyResolutionSchema, versionItemSchema, type ItemKey, type VersionItem } from './items.js';
import { TableClient } from './table-client.js';
import { ItemType, keys, MAX_CHUNK_BYTES, MAX_VERSION } from './table.js';

export { createDocumentClient } from './client.js';

export interface DynamoConfigStoreOptions {
  client: DynamoDBDocumentClient | DynamoDBClient;
  tableName: string;
  /**
   * Commit attempts for writes without a specific If-Match before giving up with CONFLICT.
   * An attempt only fails because another writer committed the very version it targeted, and
   * each retry targets a strictly higher version, so N attempts always suffice for up to N
   * concurrent writers on one cloud. Default 50.
   */
  maxCommitAttempts?: number;
  /** Bytes of gzip data per BLOB item (≤ 300 KiB). Tests lower it to force chunking. */
  chunkSizeBytes?: number;
}

/** Internal view of a VERSION item: public meta plus where its body lives. */
type VersionRecord = VersionItem;

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

const etagOf = (version: number, contentHash: string) => `${version}-${contentHash.slice(0, 12)}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function toMeta(r: VersionRecord): VersionMeta {
  return {
    cloudId: r.cloudId,
    version: r.version,
    etag: r.etag,
    createdAt: r.createdAt,
    createdBy: r.createdBy,
    ...(r.createdScope ? { createdScope: r.createdScope } : {}),
    contentHash: r.contentHash,
    ruleCount: r.ruleCount,
    sizeBytes: r.sizeBytes,
  };
}

const keyOf = (item: Record<string, unknown>): ItemKey => ({ PK: String(item.PK), SK: String(item.SK) });

/** A VERSION item, parsed (StoredDataError naming its key and field when it is not one). */
const toRecord = (item: Record<string, unknown>): VersionRecord => parseItem(versionItemSchema, item, keyOf(item));

function requireId(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) {
    throw new AppError('INVALID_REQUEST', `${name} must be a non-empty string`);
  }
  return value;
}

export class DynamoConfigStore implements ConfigStore, StickyStore {
  private readonly tableClient: TableClient;
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly maxCommitAttempts: number;
  private readonly chunkSize: number;

  constructor(options: DynamoConfigStoreOptions) {
    this.tableClient = new TableClient(options.client, options.tableName);
    this.doc = this.tableClient.doc;
    this.table = options.tableName;
    this.maxCommitAttempts = Math.max(1, options.maxCommitAttempts ?? 50);
    this.chunkSize = Math.min(MAX_CHUNK_BYTES, Math.max(1, options.chunkSizeBytes ?? MAX_CHUNK_BYTES));
  }

  // ---------------------------------------------------------------------------------- config

  /**
   * Commits the document as version N+1 — unless its canonical content hash equals the latest
   * version's: then nothing is written and that version comes back with `unchanged: true`.
   */
  async putVersion(input: PutVersionInput): Promise<PutVersionResult> {
    const cloudId = requireId('cloudId', input.cloudId);
    const createdAt = (input.now ?? new Date()).toISOString();
    const ifMatch = input.ifMatch ?? null;

    let latest = await this.latestRecord(cloudId);
    this.checkPrecondition(cloudId, ifMatch, latest);

    const body = await encodeDocument(input.document, this.chunkSize);
    if (latest && latest.contentHash === body.contentHash) return { ...toMeta(latest), unchanged: true };
    await this.writeChunks(cloudId, body);

    for (let attempt = 1; ; attempt++) {
      const version = (latest?.version ?? 0) + 1;
      if (version > MAX_VERSION) throw new AppError('INTERNAL', `cloud ${cloudId} reached the maximum version number`);
      if (!latest) await this.registerCloud(cloudId, createdAt);
      const record: VersionRecord = {
        cloudId,
        version,
        etag: etagOf(version, body.contentHash),
        createdAt,
        createdBy: input.createdBy,
        ...(input.createdScope ? { createdScope: input.createdScope } : {}),
        contentHash: body.contentHash,
        ruleCount: input.ruleCount,
        sizeBytes: body.sizeBytes,
        blobHash: body.blobHash,
        blobBytes: body.blobBytes,
        chunkCount: body.chunks.length,
      };
      const committed = await this.tableClient.sendConditional('PutItem', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              PK: keys.cloudPk(cloudId),
              SK: keys.versionSk(version),
              type: ItemType.VERSION,
              encoding: 'gzip',
              ...record,
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        ),
      );
      if (committed) return toMeta(record);
      // Someone else committed `version` first.
      latest = await this.latestRecord(cloudId);
      if (ifMatch?.kind === 'etags') this.checkPrecondition(cloudId, ifMatch, latest, true);
      if (latest && latest.contentHash === body.contentHash) return { ...toMeta(latest), unchanged: true };
      if (attempt >= this.maxCommitAttempts) {
        throw new AppError('CONFLICT', `cloud ${cloudId}: too many concurrent writers, gave up after ${attempt} attempts`);
      }
      await sleep(Math.random() * Math.min(20, 2 ** attempt));
    }
  }

  async getLatestMeta(cloudId: string): Promise<VersionMeta | null> {
    const r = await this.latestRecord(requireId('cloudId', cloudId));
    return r && toMeta(r);
  }

  async getVersion(cloudId: string, version?: number): Promise<StoredConfigVersion | null> {
    requireId('cloudId', cloudId);
    let record: VersionRecord | null;
    if (version === undefined) {
      record = await this.latestRecord(cloudId);
    } else {
      if (!Number.isInteger(version) || version < 1 || version > MAX_VERSION) return null;
      const res = await this.tableClient.send('GetItem', () =>
        this.doc.send(
          new GetCommand({
            TableName: this.table,
            Key: { PK: keys.cloudPk(cloudId), SK: keys.versionSk(version) },
            ConsistentRead: true,
          }),
        ),
      );
      record = res.Item ? toRecord(res.Item) : null;
    }
    if (!record) return null;
    const document = await decodeDocument(record, await this.readChunks(record));
    return { ...toMeta(record), document };
  }

  async listVersions(cloudId: string, options: { limit?: number; beforeVersion?: number } = {}): Promise<VersionMeta[]> {
    requireId('cloudId', cloudId);
    const limitIn = options.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isFinite(limitIn)) throw new AppError('INVALID_REQUEST', 'limit must be a number');
    const limit = Math.min(MAX_LIST_LIMIT, Math.max(1, Math.floor(limitIn)));

    const input: QueryCommandInput = {
      TableName: this.table,
      ScanIndexForward: false,
      ConsistentRead: true,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'PK', '#sk': 'SK' },
      ExpressionAttributeValues: { ':pk': keys.cloudPk(cloudId), ':prefix': keys.versionPrefix },
    };
    if (options.beforeVersion !== undefined) {
      if (Number.isNaN(options.beforeVersion)) throw new AppError('INVALID_REQUEST', 'beforeVersion must be a number');
      const highest = Math.min(MAX_VERSION, Math.ceil(options.beforeVersion) - 1);
      if (highest < 1) return [];
      input.KeyConditionExpression = '#pk = :pk AND #sk BETWEEN :lo AND :hi';
      input.ExpressionAttributeValues = {
        ':pk': keys.cloudPk(cloudId),
        ':lo': keys.versionSk(1),
        ':hi': keys.versionSk(highest),
      };
    }
    const items = await this.tableClient.queryAll(input, limit);
    return items.map((i) => toMeta(toRecord(i)));
  }

  async listClouds(): Promise<string[]> {
    const items = await this.tableClient.queryAll({
      TableName: this.table,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'PK', '#sk': 'SK' },
      ExpressionAttributeValues: { ':pk': keys.cloudsPk },
      ProjectionExpression: '#sk',
    });
    return items.map((i) => String(i.SK)); // a key attribute: always a string
  }

  // ---------------------------------------------------------------------------------- sticky

  async getSticky(cloudId: string, clusterId: string): Promise<StickyResolution | null> {
    const res = await this.tableClient.send('GetItem', () =>
      this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: { PK: keys.cloudPk(requireId('cloudId', cloudId)), SK: keys.clusterSk(requireId('clusterId', clusterId)) },
          ConsistentRead: true,
        }),
      ),
    );
    if (!res.Item) return null;
    return parseItem(stickyResolutionSchema, res.Item.resolution, keyOf(res.Item), 'resolution');
  }

  async putStickyIfAbsent(cloudId: string, clusterId: string, resolution: StickyResolution): Promise<StickyResolution> {
    requireId('cloudId', cloudId);
    requireId('clusterId', clusterId);
    // Plain-data copy (drops undefined members) so what we return equals what a reader gets.
    const value = JSON.parse(JSON.stringify(resolution)) as StickyResolution;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const written = await this.tableClient.sendConditional('PutItem', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              PK: keys.cloudPk(cloudId),
              SK: keys.clusterSk(clusterId),
              type: ItemType.STICKY,
              cloudId,
              clusterId,
              resolution: value,
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        ),
      );
      if (written) return value;
      const stored = await this.getSticky(cloudId, clusterId);
      if (stored) return stored;
      // Existed at put time but gone now (deleted in between): try again.
    }
    throw new AppError('CONFLICT', `sticky resolution of cluster ${clusterId} keeps changing; retry`);
  }

  async listSticky(cloudId: string): Promise<Array<{ clusterId: string; resolution: StickyResolution }>> {
    const items = await this.tableClient.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'PK', '#sk': 'SK' },
      ExpressionAttributeValues: { ':pk': keys.cloudPk(requireId('cloudId', cloudId)), ':prefix': keys.clusterSk('') },
      ConsistentRead: true,
    });
    return items.map((item) => ({
      clusterId: String(item.clusterId),
      resolution: parseItem(stickyResolutionSchema, item.resolution, keyOf(item), 'resolution'),
    }));
  }

  async deleteSticky(cloudId: string, clusterId: string): Promise<boolean> {
    const key = { PK: keys.cloudPk(requireId('cloudId', cloudId)), SK: keys.clusterSk(requireId('clusterId', clusterId)) };
    return this.tableClient.sendConditional('DeleteItem', () =>
      this.doc.send(new DeleteCommand({ TableName: this.table, Key: key, ConditionExpression: 'attribute_exists(PK)' })),
    );
  }

  // -------------------------------------------------------------------------------- internals

  private checkPrecondition(cloudId: string, ifMatch: IfMatch | null, latest: VersionRecord | null, lostRace = false): void {
    if (!ifMatch) return;
    if (!latest) {
      throw new AppError('PRECONDITION_FAILED', `If-Match given but cloud ${cloudId} has no config version yet`);
    }
    if (ifMatch.kind === 'any') return;
    if (!lostRace && ifMatch.etags.includes(latest.etag)) return;
    throw new AppError(
      'PRECONDITION_FAILED',
      `If-Match does not match the current config version of cloud ${cloudId}: ` +
        `version ${latest.version} stored by ${latest.createdBy} at ${latest.createdAt} is current (etag "${latest.etag}")` +
        (lostRace ? ' (committed concurrently with this write)' : '') +
        '; GET it, reapply your change and send its etag',
      [],
      { ETag: `"${latest.etag}"` },
    );
  }

  private async latestRecord(cloudId: string): Promise<VersionRecord | null> {
    const res = await this.tableClient.send('Query', () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': 'PK', '#sk': 'SK' },
          ExpressionAttributeValues: { ':pk': keys.cloudPk(cloudId), ':prefix': keys.versionPrefix },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    const item = res.Items?.[0];
    return item ? toRecord(item) : null;
  }

  /** Idempotent puts of the content-addressed chunks (same key ⇒ same bytes). */
  private async writeChunks(cloudId: string, body: EncodedBody): Promise<void> {
    const pk = keys.cloudPk(cloudId);
    await Promise.all(
      body.chunks.map((data, chunkNo) =>
        this.tableClient.send('PutItem', () =>
          this.doc.send(
            new PutCommand({
              TableName: this.table,
              Item: {
                PK: pk,
                SK: keys.blobSk(body.blobHash, chunkNo),
                type: ItemType.BLOB,
                chunkNo,
                chunkCount: body.chunks.length,
                data,
              },
            }),
          ),
        ),
      ),
    );
  }

  private async readChunks(record: VersionRecord): Promise<Uint8Array[]> {
    const items = await this.tableClient.queryAll({
      TableName: this.table,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'PK', '#sk': 'SK', '#data': 'data', '#no': 'chunkNo' },
      ExpressionAttributeValues: { ':pk': keys.cloudPk(record.cloudId), ':prefix': keys.blobPrefix(record.blobHash) },
      ProjectionExpression: '#no, #data',
      ConsistentRead: true,
    });
    if (items.length !== record.chunkCount) {
      throw corrupted(record, `expected ${record.chunkCount} chunks, found ${items.length}`);
    }
    return items.map((item, i) => {
      if (Number(item.chunkNo) !== i || !(item.data instanceof Uint8Array)) throw corrupted(record, `bad chunk #${i}`);
      return item.data;
    });
  }

  private async registerCloud(cloudId: string, registeredAt: string): Promise<void> {
    // First one wins; a cloud registered before needs nothing.
    await this.tableClient.sendConditional('PutItem', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { PK: keys.cloudsPk, SK: cloudId, type: ItemType.CLOUD, cloudId, registeredAt },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      ),
    );
  }
}
