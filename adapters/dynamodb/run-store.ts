/**
 * Provisioning runs in the service table (layout in table.ts): one RUN item per config version,
 * one RUN_ITEM per plan item (so 1,000 service accounts never meet the 400 KB item limit and
 * parallel Map iterations never write the same item), and a FENCE item holding the newest
 * version being provisioned. All single-item conditional writes.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ItemResult, ProvisioningRun, ProvisioningRunStore, RunPatch, RunStatus } from '../../lib/ports.js';
import { isConditionalCheckFailed } from './errors.js';
import { ItemType, keys } from './table.js';
import { TableClient } from './table-client.js';

export class DynamoRunStore implements ProvisioningRunStore {
  private readonly t: TableClient;

  constructor(options: { client: DynamoDBDocumentClient | DynamoDBClient; tableName: string; now?: () => Date }) {
    this.t = new TableClient(options.client, options.tableName);
    this.now = options.now ?? (() => new Date());
  }

  private readonly now: () => Date;

  async createRun(cloudId: string, version: number, init: { executionId?: string } = {}): Promise<void> {
    const at = this.now().toISOString();
    try {
      await this.t.send('PutItem', () =>
        this.t.doc.send(
          new PutCommand({
            TableName: this.t.tableName,
            Item: {
              PK: keys.cloudPk(cloudId),
              SK: keys.runSk(version),
              type: ItemType.RUN,
              cloudId,
              configVersion: version,
              status: 'PENDING',
              createdAt: at,
              updatedAt: at,
              ...(init.executionId ? { executionId: init.executionId } : {}),
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        ),
      );
    } catch (err) {
      if (!isConditionalCheckFailed((err as { cause?: unknown }).cause ?? err)) throw err;
    }
  }

  async updateRun(cloudId: string, version: number, patch: RunPatch, options: { onlyFrom?: RunStatus[] } = {}): Promise<boolean> {
    const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
    const values: Record<string, unknown> = { ':updatedAt': this.now().toISOString() };
    const sets = ['#updatedAt = :updatedAt'];
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      names[`#${k}`] = k;
      values[`:${k}`] = v;
      sets.push(`#${k} = :${k}`);
    }
    let condition = 'attribute_exists(PK)';
    if (options.onlyFrom?.length) {
      names['#status'] = 'status';
      const allowed = options.onlyFrom.map((s, i) => {
        values[`:from${i}`] = s;
        return `:from${i}`;
      });
      condition += ` AND #status IN (${allowed.join(', ')})`;
    }
    try {
      await this.t.send('UpdateItem', () =>
        this.t.doc.send(
          new UpdateCommand({
            TableName: this.t.tableName,
            Key: { PK: keys.cloudPk(cloudId), SK: keys.runSk(version) },
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed((err as { cause?: unknown }).cause ?? err)) return false;
      throw err;
    }
  }

  async putItemResult(cloudId: string, version: number, result: ItemResult): Promise<void> {
    await this.t.send('PutItem', () =>
      this.t.doc.send(
        new PutCommand({
          TableName: this.t.tableName,
          Item: { PK: keys.cloudPk(cloudId), SK: keys.runItemSk(version, result.name), type: ItemType.RUN_ITEM, result },
        }),
      ),
    );
  }

  async getRun(cloudId: string, version: number): Promise<ProvisioningRun | null> {
    const items = await this.t.queryAll({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': keys.cloudPk(cloudId), ':sk': keys.runSk(version) },
      ConsistentRead: true,
    });
    const head = items.find((i) => i.type === ItemType.RUN);
    if (!head) return null;
    const { PK: _pk, SK: _sk, type: _type, ...run } = head;
    const results = items.filter((i) => i.type === ItemType.RUN_ITEM).map((i) => i.result as ItemResult);
    return { ...(run as Omit<ProvisioningRun, 'items'>), items: results };
  }

  async claim(cloudId: string, version: number): Promise<boolean> {
    try {
      await this.t.send('UpdateItem', () =>
        this.t.doc.send(
          new UpdateCommand({
            TableName: this.t.tableName,
            Key: { PK: keys.cloudPk(cloudId), SK: keys.fenceSk },
            UpdateExpression: 'SET claimedVersion = :v, #type = :type, claimedAt = :at',
            ConditionExpression: 'attribute_not_exists(claimedVersion) OR claimedVersion <= :v',
            ExpressionAttributeNames: { '#type': 'type' },
            ExpressionAttributeValues: { ':v': version, ':type': ItemType.FENCE, ':at': this.now().toISOString() },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed((err as { cause?: unknown }).cause ?? err)) return false;
      throw err;
    }
  }

  async claimedVersion(cloudId: string): Promise<number | null> {
    const res = await this.t.send('GetItem', () =>
      this.t.doc.send(new GetCommand({ TableName: this.t.tableName, Key: { PK: keys.cloudPk(cloudId), SK: keys.fenceSk }, ConsistentRead: true })),
    );
    const v: unknown = res.Item?.claimedVersion;
    return typeof v === 'number' ? v : null;
  }
}
