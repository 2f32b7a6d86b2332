/**
 * Provisioning runs in the service table (layout in table.ts): one RUN item per config version,
 * one RUN_ITEM per plan item (so 1,000 service accounts never meet the 400 KB item limit and
 * parallel Map iterations never write the same item), and a FENCE item holding the newest
 * version being provisioned, and PLAN_PAGE items holding a run's plan item refs page by page (so
 * the state machine carries page numbers, never 5,000 refs; they expire after PLAN_PAGE_TTL_DAYS).
 * All single-item writes.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PlanItemRef } from '../../lib/provisioning/plan.js';
import type { ItemResult, ProvisioningRun, ProvisioningRunStore, RunPatch, RunStatus } from '../../lib/ports.js';
import { fenceSchema, itemResultSchema, parseItem, runHeadSchema, type ItemKey } from './items.js';
import { ItemType, keys } from './table.js';
import { TableClient } from './table-client.js';

/** Plan pages are only read while their run is running; DynamoDB's TTL removes them after this. */
export const PLAN_PAGE_TTL_DAYS = 30;

export class DynamoRunStore implements ProvisioningRunStore {
  private readonly t: TableClient;

  constructor(options: { client: DynamoDBDocumentClient | DynamoDBClient; tableName: string; now?: () => Date }) {
    this.t = new TableClient(options.client, options.tableName);
    this.now = options.now ?? (() => new Date());
  }

  private readonly now: () => Date;

  async createRun(cloudId: string, version: number, init: { executionId?: string } = {}): Promise<void> {
    const at = this.now().toISOString();
    await this.t.sendConditional('PutItem', () =>
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
          ConditionExpression: 'attribute_not_exists(PK)', // exists already: nothing to do
        }),
      ),
    );
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
    return this.t.sendConditional('UpdateItem', () =>
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
    const keyOf = (i: Record<string, unknown>): ItemKey => ({ PK: String(i.PK), SK: String(i.SK) });
    const run = parseItem(runHeadSchema, head, keyOf(head));
    const results = items.filter((i) => i.type === ItemType.RUN_ITEM).map((i) => parseItem(itemResultSchema, i.result, keyOf(i), 'result'));
    return { ...run, items: results };
  }

  async claim(cloudId: string, version: number): Promise<boolean> {
    return this.t.sendConditional('UpdateItem', () =>
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
  }

  async claimedVersion(cloudId: string): Promise<number | null> {
    const res = await this.t.send('GetItem', () =>
      this.t.doc.send(new GetCommand({ TableName: this.t.tableName, Key: { PK: keys.cloudPk(cloudId), SK: keys.fenceSk }, ConsistentRead: true })),
    );
    if (!res.Item) return null;
    return parseItem(fenceSchema, res.Item, { PK: keys.cloudPk(cloudId), SK: keys.fenceSk }).claimedVersion ?? null;
  }

  async putPlanPage(cloudId: string, version: number, planId: string, page: number, refs: PlanItemRef[]): Promise<void> {
    const expiresAt = Math.floor(this.now().getTime() / 1000) + PLAN_PAGE_TTL_DAYS * 86_400;
    await this.t.send('PutItem', () =>
      this.t.doc.send(
        new PutCommand({
          TableName: this.t.tableName,
          Item: { PK: keys.cloudPk(cloudId), SK: keys.planPageSk(version, planId, page), type: ItemType.PLAN_PAGE, refs, expiresAt },
        }),
      ),
    );
  }

  async getPlanPage(cloudId: string, version: number, planId: string, page: number): Promise<PlanItemRef[] | null> {
    const res = await this.t.send('GetItem', () =>
      this.t.doc.send(
        new GetCommand({ TableName: this.t.tableName, Key: { PK: keys.cloudPk(cloudId), SK: keys.planPageSk(version, planId, page) }, ConsistentRead: true }),
      ),
    );
    return (res.Item?.refs as PlanItemRef[] | undefined) ?? null;
  }
}
