/**
 * Drift reports in the service table (layout in table.ts): one DRIFT item per check under the
 * cloud's partition, SK `DRIFT#<checked_at>`, the report as gzip JSON plus a few plain summary
 * attributes (so the history lists without decoding). Latest = newest-first Query, Limit 1.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../lib/errors.js';
import type { DriftReport, DriftReportStore, DriftReportSummary, WorkerSlot } from '../../lib/ports.js';
import { StoredDataError } from '../../lib/stored.js';
import { driftReportSchema, driftSummaryItemSchema, driftWorkerItemSchema, parseItem } from './items.js';
import { ItemType, keys } from './table.js';
import { TableClient } from './table-client.js';

export interface DynamoDriftStoreOptions {
  client: DynamoDBDocumentClient | DynamoDBClient;
  tableName: string;
  /** Reports expire (DynamoDB TTL on `expiresAt`) after this many days. Default 90. */
  retentionDays?: number;
  /** Largest gzip body stored; findings beyond it are dropped (least severe first). Default 350 KiB. */
  maxBodyBytes?: number;
}

const MAX_COLLISIONS = 5;

/** gzip JSON of the report, trimming findings (they are sorted most severe first) until it fits. */
export function encodeReport(report: DriftReport, maxBytes: number): { body: Buffer; stored: DriftReport } {
  let stored = report;
  let body = gzipSync(JSON.stringify(stored));
  let keep = report.findings.length;
  while (body.length > maxBytes && keep > 0) {
    keep = Math.floor((keep * maxBytes) / body.length / 1.1);
    stored = { ...report, findings: report.findings.slice(0, keep), findings_truncated: report.findings.length - keep };
    body = gzipSync(JSON.stringify(stored));
  }
  return { body, stored };
}

export class DynamoDriftStore implements DriftReportStore {
  private readonly t: TableClient;
  private readonly retentionDays: number;
  private readonly maxBodyBytes: number;

  constructor(options: DynamoDriftStoreOptions) {
    this.t = new TableClient(options.client, options.tableName);
    this.retentionDays = options.retentionDays ?? 90;
    this.maxBodyBytes = options.maxBodyBytes ?? 350 * 1024;
  }

  async putReport(cloudId: string, report: DriftReport): Promise<void> {
    const { body, stored } = encodeReport(report, this.maxBodyBytes);
    const checkedMs = Date.parse(report.checked_at);
    const base = {
      PK: keys.cloudPk(cloudId),
      type: ItemType.DRIFT,
      cloudId,
      checkedAt: report.checked_at,
      status: report.status,
      drifted: report.drifted,
      configVersion: report.config_version,
      findingCount: report.summary.total,
      bySeverity: report.summary.by_severity,
      encoding: 'gzip',
      body,
      expiresAt: Math.floor((Number.isFinite(checkedMs) ? checkedMs : Date.now()) / 1000) + this.retentionDays * 86_400,
      ...(stored.findings_truncated ? { findingsTruncated: stored.findings_truncated } : {}),
    };
    for (let n = 0; n <= MAX_COLLISIONS; n++) {
      const written = await this.t.sendConditional('PutItem', () =>
        this.t.doc.send(
          new PutCommand({
            TableName: this.t.tableName,
            Item: { ...base, SK: keys.driftSk(report.checked_at, n) },
            ConditionExpression: 'attribute_not_exists(SK)',
          }),
        ),
      );
      if (written) return;
    }
    throw new AppError('CONFLICT', `more than ${MAX_COLLISIONS} drift reports of ${cloudId} at ${report.checked_at}`);
  }

  async latestReport(cloudId: string): Promise<DriftReport | null> {
    const [item] = await this.query(cloudId, 1);
    if (!item) return null;
    const key = { PK: keys.cloudPk(cloudId), SK: String(item.SK) };
    const body = item.body;
    if (!(body instanceof Uint8Array)) throw new StoredDataError(`${key.PK} / ${key.SK}`, 'body', 'missing (expected gzip JSON)');
    let decoded: unknown;
    try {
      decoded = JSON.parse(gunzipSync(body).toString('utf8'));
    } catch (e) {
      throw new StoredDataError(`${key.PK} / ${key.SK}`, 'body', `not gzip JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    return parseItem(driftReportSchema, decoded, key, 'body');
  }

  async listReports(cloudId: string, options: { limit?: number } = {}): Promise<DriftReportSummary[]> {
    const items = await this.query(cloudId, Math.max(1, Math.min(options.limit ?? 20, 100)), true);
    return items.map((i) => parseItem(driftSummaryItemSchema, i, { PK: keys.cloudPk(cloudId), SK: String(i.SK) }));
  }

  async claimWorkerSlot(cloudId: string, slot: string, claim: { requestedAt: string; until: string }): Promise<{ requestedAt: string } | null> {
    const key = { PK: keys.cloudPk(cloudId), SK: keys.driftWorkerSk(slot) };
    const untilMs = Date.parse(claim.until);
    // Twice: a slot released between the failed put and the read is free again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const claimed = await this.t.sendConditional('PutItem', () =>
        this.t.doc.send(
          new PutCommand({
            TableName: this.t.tableName,
            Item: {
              ...key,
              type: ItemType.DRIFT_WORKER,
              cloudId,
              requestedAt: claim.requestedAt,
              until: claim.until,
              expiresAt: Math.ceil(untilMs / 1000) + 86_400,
            },
            // Free: never claimed, lapsed, or its check failed.
            ConditionExpression: 'attribute_not_exists(SK) OR #until < :now OR attribute_exists(failed)',
            ExpressionAttributeNames: { '#until': 'until' },
            ExpressionAttributeValues: { ':now': claim.requestedAt },
          }),
        ),
      );
      if (claimed) return null;
      const held = await this.workerSlot(cloudId, slot, claim.requestedAt);
      if (held) return held;
    }
    throw new AppError('CONFLICT', `the drift worker slot ${slot} of ${cloudId} changed twice while it was claimed; try again`);
  }

  async workerSlot(cloudId: string, slot: string, now: string): Promise<{ requestedAt: string } | null> {
    const key = { PK: keys.cloudPk(cloudId), SK: keys.driftWorkerSk(slot) };
    const res = await this.t.send('GetItem', () => this.t.doc.send(new GetCommand({ TableName: this.t.tableName, Key: key, ConsistentRead: true })));
    if (!res.Item) return null;
    const item = parseItem(driftWorkerItemSchema, res.Item, key);
    return item.until >= now && item.failed === undefined ? { requestedAt: item.requestedAt } : null;
  }

  async failWorkerSlot(cloudId: string, slot: string, requestedAt: string, failure: { error: string; until: string }): Promise<void> {
    await this.t.sendConditional('UpdateItem', () =>
      this.t.doc.send(
        new UpdateCommand({
          TableName: this.t.tableName,
          Key: { PK: keys.cloudPk(cloudId), SK: keys.driftWorkerSk(slot) },
          UpdateExpression: 'SET failed = :e, #until = :u, expiresAt = :x',
          ConditionExpression: 'requestedAt = :r',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: {
            ':e': failure.error.slice(0, 2000),
            ':u': failure.until,
            ':x': Math.ceil(Date.parse(failure.until) / 1000) + 86_400,
            ':r': requestedAt,
          },
        }),
      ),
    );
  }

  async workerSlots(cloudId: string, now: string): Promise<WorkerSlot[]> {
    const items = await this.t.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'PK', '#sk': 'SK' },
      ExpressionAttributeValues: { ':pk': keys.cloudPk(cloudId), ':prefix': keys.driftWorkerSk('') },
      ConsistentRead: true,
    });
    return items
      .map((i) => parseItem(driftWorkerItemSchema, i, { PK: keys.cloudPk(cloudId), SK: String(i.SK) }))
      .filter((i) => i.until >= now)
      .map((i) => ({
        slot: i.SK.slice(keys.driftWorkerSk('').length),
        requestedAt: i.requestedAt,
        until: i.until,
        ...(i.failed !== undefined ? { error: i.failed } : {}),
      }));
  }

  async releaseWorkerSlot(cloudId: string, slot: string, requestedAt: string): Promise<void> {
    await this.t.sendConditional('DeleteItem', () =>
      this.t.doc.send(
        new DeleteCommand({
          TableName: this.t.tableName,
          Key: { PK: keys.cloudPk(cloudId), SK: keys.driftWorkerSk(slot) },
          ConditionExpression: 'requestedAt = :r',
          ExpressionAttributeValues: { ':r': requestedAt },
        }),
      ),
    );
  }

  private query(cloudId: string, limit: number, summaryOnly = false): Promise<Record<string, unknown>[]> {
    return this.t.queryAll(
      {
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': 'PK', '#sk': 'SK', ...(summaryOnly ? { '#status': 'status' } : {}) },
        ExpressionAttributeValues: { ':pk': keys.cloudPk(cloudId), ':prefix': keys.driftPrefix },
        ScanIndexForward: false,
        ConsistentRead: true,
        ...(summaryOnly ? { ProjectionExpression: '#sk, checkedAt, #status, drifted, configVersion, findingCount, bySeverity' } : {}),
      },
      limit,
    );
  }
}
