/**
 * The ownership inventory and the cross-cloud claims, in the service table (layout in table.ts):
 *
 *   PK OWNERSHIP        SK INVENTORY#<resource key>   type INVENTORY  cloudId, id, token, kind, name, …
 *   PK OWNERSHIP        SK CLAIM#<resource key>       type CLAIM      cloudId, configVersion, kind, name, …
 *   PK CLOUD#<cloudId>  SK CLAIMED#<resource key>     type CLAIMED    the claim again (a cloud lists its claims with one Query)
 *
 * Resource keys (lib/provisioning/inventory.ts) lowercase IAM names (IAM compares them ignoring
 * case) and name ServiceAccounts by cluster OIDC issuer, namespace and name. Every write is a
 * single-item conditional write (dynalite has no transactions): the CLAIM / INVENTORY item is
 * the authority; the CLAIMED copy is written after a won claim and deleted after a release, so a
 * crash in between leaves at most a copy that the next plan step re-claims or releases.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ClaimRecord, InventoryRecord, OwnershipStore, ResourceRef } from '../../lib/ports.js';
import { resourceKey } from '../../lib/provisioning/inventory.js';
import { isConditionalCheckFailed } from './errors.js';
import { ItemType, keys } from './table.js';
import { TableClient } from './table-client.js';

const conditionFailed = (err: unknown) => isConditionalCheckFailed((err as { cause?: unknown }).cause ?? err);

function strip<T>(item: Record<string, unknown> | undefined): T | null {
  if (!item) return null;
  const { PK: _pk, SK: _sk, type: _type, key: _key, ...rest } = item;
  return rest as T;
}

export class DynamoOwnershipStore implements OwnershipStore {
  private readonly t: TableClient;

  constructor(options: { client: DynamoDBDocumentClient | DynamoDBClient; tableName: string }) {
    this.t = new TableClient(options.client, options.tableName);
  }

  private async get<T>(sk: string): Promise<T | null> {
    const res = await this.t.send('GetItem', () =>
      this.t.doc.send(new GetCommand({ TableName: this.t.tableName, Key: { PK: keys.ownershipPk, SK: sk }, ConsistentRead: true })),
    );
    return strip<T>(res.Item);
  }

  /**
   * Items by SK, 100 keys per BatchGetItem (consistent reads), unprocessed keys retried with a
   * short backoff; keyed by the item's resource key.
   */
  private async batchGet<T>(sks: readonly string[]): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    const unique = [...new Set(sks)];
    for (let i = 0; i < unique.length; i += 100) {
      let keysLeft: Array<Record<string, unknown>> = unique.slice(i, i + 100).map((SK) => ({ PK: keys.ownershipPk, SK }));
      for (let attempt = 0; keysLeft.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
        if (attempt > 8) throw new Error(`BatchGetItem left ${keysLeft.length} keys unprocessed after ${attempt} attempts`);
        const res = await this.t.send('BatchGetItem', () =>
          this.t.doc.send(new BatchGetCommand({ RequestItems: { [this.t.tableName]: { Keys: keysLeft, ConsistentRead: true } } })),
        );
        for (const item of res.Responses?.[this.t.tableName] ?? []) out.set(String(item.key), strip<T>(item) as T);
        keysLeft = (res.UnprocessedKeys?.[this.t.tableName]?.Keys ?? []) as Array<Record<string, unknown>>;
      }
    }
    return out;
  }

  getInventories(refs: readonly ResourceRef[]): Promise<Map<string, InventoryRecord>> {
    return this.batchGet<InventoryRecord>(refs.map((r) => keys.inventorySk(resourceKey(r))));
  }

  getClaims(refs: readonly ResourceRef[]): Promise<Map<string, ClaimRecord>> {
    return this.batchGet<ClaimRecord>(refs.map((r) => keys.claimSk(resourceKey(r))));
  }

  getInventory(ref: ResourceRef): Promise<InventoryRecord | null> {
    return this.get<InventoryRecord>(keys.inventorySk(resourceKey(ref)));
  }

  async putInventory(record: InventoryRecord, options: { staleId?: string | null } = {}): Promise<{ stored: boolean; current: InventoryRecord | null }> {
    const key = resourceKey(record);
    const values: Record<string, unknown> = { ':cloud': record.cloudId };
    let condition = 'attribute_not_exists(PK) OR cloudId = :cloud';
    if (options.staleId !== undefined && options.staleId !== null) {
      condition += ' OR #id = :stale';
      values[':stale'] = options.staleId;
    }
    try {
      await this.t.send('PutItem', () =>
        this.t.doc.send(
          new PutCommand({
            TableName: this.t.tableName,
            Item: { PK: keys.ownershipPk, SK: keys.inventorySk(key), type: ItemType.INVENTORY, key, ...withoutUndefined(record) },
            ConditionExpression: condition,
            ...(values[':stale'] !== undefined ? { ExpressionAttributeNames: { '#id': 'id' } } : {}),
            ExpressionAttributeValues: values,
          }),
        ),
      );
      return { stored: true, current: record };
    } catch (err) {
      if (!conditionFailed(err)) throw err;
      return { stored: false, current: await this.getInventory(record) };
    }
  }

  async deleteInventory(ref: ResourceRef, cloudId: string): Promise<void> {
    await this.deleteIf(keys.inventorySk(resourceKey(ref)), cloudId);
  }

  async claim(claim: ClaimRecord): Promise<ClaimRecord> {
    const key = resourceKey(claim);
    const item = { key, ...withoutUndefined(claim) };
    try {
      await this.t.send('PutItem', () =>
        this.t.doc.send(
          new PutCommand({
            TableName: this.t.tableName,
            Item: { PK: keys.ownershipPk, SK: keys.claimSk(key), type: ItemType.CLAIM, ...item },
            ConditionExpression: 'attribute_not_exists(PK) OR cloudId = :cloud',
            ExpressionAttributeValues: { ':cloud': claim.cloudId },
          }),
        ),
      );
    } catch (err) {
      if (!conditionFailed(err)) throw err;
      const holder = await this.getClaim(claim);
      // Released between our write and this read: try once more.
      if (holder === null) return this.claim(claim);
      return holder;
    }
    await this.t.send('PutItem', () =>
      this.t.doc.send(
        new PutCommand({ TableName: this.t.tableName, Item: { PK: keys.cloudPk(claim.cloudId), SK: keys.claimedSk(key), type: ItemType.CLAIMED, ...item } }),
      ),
    );
    return claim;
  }

  getClaim(ref: ResourceRef): Promise<ClaimRecord | null> {
    return this.get<ClaimRecord>(keys.claimSk(resourceKey(ref)));
  }

  async listClaims(cloudId: string): Promise<ClaimRecord[]> {
    const items = await this.t.queryAll({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': keys.cloudPk(cloudId), ':sk': keys.claimedPrefix },
      ConsistentRead: true,
    });
    return items.map((i) => strip<ClaimRecord>(i) as ClaimRecord);
  }

  async releaseClaim(ref: ResourceRef, cloudId: string): Promise<void> {
    const key = resourceKey(ref);
    await this.deleteIf(keys.claimSk(key), cloudId);
    await this.t.send('DeleteItem', () =>
      this.t.doc.send(new DeleteCommand({ TableName: this.t.tableName, Key: { PK: keys.cloudPk(cloudId), SK: keys.claimedSk(key) } })),
    );
  }

  private async deleteIf(sk: string, cloudId: string): Promise<void> {
    try {
      await this.t.send('DeleteItem', () =>
        this.t.doc.send(
          new DeleteCommand({
            TableName: this.t.tableName,
            Key: { PK: keys.ownershipPk, SK: sk },
            ConditionExpression: 'cloudId = :cloud',
            ExpressionAttributeValues: { ':cloud': cloudId },
          }),
        ),
      );
    } catch (err) {
      if (!conditionFailed(err)) throw err;
    }
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
