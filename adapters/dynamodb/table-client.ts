/** The table access every store shares: error mapping and paginated queries. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateQuery, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { translateConfig } from './client.js';
import { isConditionalCheckFailed, mapDynamoError } from './errors.js';

export class TableClient {
  readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBDocumentClient | DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = client instanceof DynamoDBDocumentClient ? client : DynamoDBDocumentClient.from(client, translateConfig);
  }

  /** Runs one SDK call, mapping its failures (throttling/5xx → 503, others → INTERNAL). */
  async send<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw mapDynamoError(err, operation);
    }
  }

  /**
   * Runs one conditional write: true when it was written, false when its ConditionExpression
   * failed (the only place ConditionalCheckFailedException is recognised); other failures are
   * mapped as in `send`.
   */
  async sendConditional(operation: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw mapDynamoError(err, operation);
    }
  }

  /** Runs a Query to completion (lib-dynamodb's paginator follows LastEvaluatedKey), stopping once `max` items are collected. */
  async queryAll(input: Omit<QueryCommandInput, 'TableName'> & { TableName?: string }, max = Infinity): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    const pages = paginateQuery({ client: this.doc, ...(Number.isFinite(max) ? { pageSize: max } : {}) }, { TableName: this.tableName, ...input });
    try {
      for await (const page of pages) {
        items.push(...(page.Items ?? []));
        if (items.length >= max) break;
      }
    } catch (err) {
      throw mapDynamoError(err, 'Query');
    }
    return items.slice(0, max);
  }
}
