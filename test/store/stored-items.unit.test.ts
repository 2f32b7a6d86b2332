/**
 * What the stores read back is parsed at the port: a corrupt or old item is a StoredDataError
 * naming the item's key and the field, never a cast (mocked SDK, one corruption per case).
 */
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoConfigStore } from '../../adapters/dynamodb/config-store.js';
import { DynamoDriftStore } from '../../adapters/dynamodb/drift-store.js';
import { DynamoRunStore } from '../../adapters/dynamodb/run-store.js';
import type { StoredConfigVersion } from '../../lib/ports.js';
import { parseStoredConfig, StoredDataError } from '../../lib/stored.js';

const ddb = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
const configs = new DynamoConfigStore({ client, tableName: 'tbl' });
const runs = new DynamoRunStore({ client, tableName: 'tbl' });
const drift = new DynamoDriftStore({ client, tableName: 'tbl' });
const hash = 'a'.repeat(64);

const versionItem = (patch: Record<string, unknown> = {}) => ({
  PK: 'CLOUD#c1',
  SK: 'VERSION#0000000003',
  type: 'VERSION',
  cloudId: 'c1',
  version: 3,
  etag: '3-aaaaaaaaaaaa',
  createdAt: '2025-01-01T00:00:00.000Z',
  createdBy: 'a@b.c',
  contentHash: hash,
  ruleCount: 1,
  sizeBytes: 10,
  blobHash: hash,
  blobBytes: 10,
  chunkCount: 1,
  ...patch,
});

async function storedError(p: Promise<unknown>): Promise<StoredDataError> {
  const e = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StoredDataError);
  return e as StoredDataError;
}

beforeEach(() => ddb.reset());

describe('config versions', () => {
  it('a VERSION item with a field of the wrong type names the item and the field', async () => {
    ddb.on(QueryCommand).resolves({ Items: [versionItem({ version: '3' })] });
    const e = await storedError(configs.getLatestMeta('c1'));
    expect(e).toMatchObject({ item: 'CLOUD#c1 / VERSION#0000000003', field: 'version', code: 'INTERNAL', status: 500 });
    expect(e.message).toBe('stored item CLOUD#c1 / VERSION#0000000003 is corrupted: version: expected number');
  });

  it('an old VERSION item without a field the code needs (chunkCount) is refused, not read as NaN', async () => {
    const { chunkCount: _c, ...old } = versionItem();
    ddb.on(GetCommand).resolves({ Item: old });
    expect(await storedError(configs.getVersion('c1', 3))).toMatchObject({ field: 'chunkCount' });
  });

  it('in history listings too', async () => {
    ddb.on(QueryCommand).resolves({ Items: [versionItem(), versionItem({ SK: 'VERSION#0000000002', version: 2, etag: null })] });
    expect(await storedError(configs.listVersions('c1'))).toMatchObject({ item: 'CLOUD#c1 / VERSION#0000000002', field: 'etag' });
  });

  it('parseStoredConfig checks the document every reader relies on and returns it as stored', () => {
    const meta = { cloudId: 'c1', version: 3, etag: 'e', createdAt: '', createdBy: '', contentHash: hash, ruleCount: 1, sizeBytes: 1 };
    const document = {
      compute_stack: 'K8S',
      cloud_deployment_id: 'c1',
      cloud_provider: 'AWS',
      dataplane_iam_mapping: { rules: [{ selector: 'user=a', value: 'sa' }], fallback_rule: 'FAIL' },
    };
    const stored: StoredConfigVersion = { ...meta, document };
    expect(parseStoredConfig(stored)).toBe(document);
    expect(Object.keys(parseStoredConfig(stored))).toEqual(['compute_stack', 'cloud_deployment_id', 'cloud_provider', 'dataplane_iam_mapping']);
    const bad = {
      ...meta,
      document: {
        ...document,
        dataplane_iam_mapping: {
          rules: [
            { selector: 'user=a', value: 'sa' },
            { selector: 7, value: 'x' },
          ],
          fallback_rule: 'FAIL',
        },
      },
    };
    expect(() => parseStoredConfig(bad)).toThrow(StoredDataError);
    expect(() => parseStoredConfig(bad)).toThrow(
      'stored item config c1 version 3 is corrupted: document.dataplane_iam_mapping.rules[1].selector: expected string',
    );
    expect(() => parseStoredConfig({ ...meta, document: { ...document, compute_stack: 'EKS' } })).toThrow(
      'document.compute_stack: expected one of "VM", "K8S"',
    );
  });
});

describe('sticky resolutions', () => {
  it('a resolution missing config_version is refused', async () => {
    const resolution = { value: 'sa', source: 'RULE', rule_index: 0, resolved_at: 'x', workload_type: 'job', project: 'p', user: 'u' };
    ddb.on(GetCommand).resolves({ Item: { PK: 'CLOUD#c1', SK: 'CLUSTER#k1', type: 'STICKY', resolution } });
    expect(await storedError(configs.getSticky('c1', 'k1'))).toMatchObject({ item: 'CLOUD#c1 / CLUSTER#k1', field: 'resolution.config_version' });
  });
});

describe('provisioning runs', () => {
  const head = { PK: 'CLOUD#c1', SK: 'RUN#0000000003', type: 'RUN', cloudId: 'c1', configVersion: 3, status: 'RUNNING', createdAt: 'a', updatedAt: 'b' };
  it('an unknown run status is refused', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ ...head, status: 'DONE' }] });
    expect(await storedError(runs.getRun('c1', 3))).toMatchObject({ item: 'CLOUD#c1 / RUN#0000000003', field: 'status' });
  });
  it('an item result with a bad resource action names the item and the path inside it', async () => {
    const result = { name: 'sa', kind: 'k8s-irsa', status: 'SUCCEEDED', finishedAt: 'x', resources: [{ kind: 'iam-role', name: 'r', action: 'made' }] };
    ddb.on(QueryCommand).resolves({ Items: [head, { PK: 'CLOUD#c1', SK: 'RUN#0000000003#ITEM#sa', type: 'RUN_ITEM', result }] });
    expect(await storedError(runs.getRun('c1', 3))).toMatchObject({ item: 'CLOUD#c1 / RUN#0000000003#ITEM#sa', field: 'result.resources[0].action' });
  });
  it('a fence whose claimedVersion is not a number is refused (not read as "no claim")', async () => {
    ddb.on(GetCommand).resolves({ Item: { PK: 'CLOUD#c1', SK: 'PROVISIONING', type: 'FENCE', claimedVersion: '4' } });
    expect(await storedError(runs.claimedVersion('c1'))).toMatchObject({ item: 'CLOUD#c1 / PROVISIONING', field: 'claimedVersion' });
    ddb.on(GetCommand).resolves({ Item: { PK: 'CLOUD#c1', SK: 'PROVISIONING', type: 'FENCE', claimedVersion: 4 } });
    expect(await runs.claimedVersion('c1')).toBe(4);
  });
});

describe('drift reports', () => {
  const item = (body: unknown) => ({
    PK: 'CLOUD#c1',
    SK: 'DRIFT#2025-01-01T00:00:00.000Z',
    type: 'DRIFT',
    checkedAt: '2025-01-01T00:00:00.000Z',
    status: 'drifted',
    drifted: true,
    body,
  });
  it('a body that is not gzip JSON', async () => {
    ddb.on(QueryCommand).resolves({ Items: [item(new Uint8Array([1, 2, 3]))] });
    expect(await storedError(drift.latestReport('c1'))).toMatchObject({ item: 'CLOUD#c1 / DRIFT#2025-01-01T00:00:00.000Z', field: 'body' });
  });
  it('a finding of a kind this version does not know', async () => {
    const report = {
      cloud_deployment_id: 'c1',
      checked_at: '2025-01-01T00:00:00.000Z',
      status: 'drifted',
      drifted: true,
      config_version: 1,
      latest_version: 1,
      mode: 'report',
      findings: [{ kind: 'role-renamed', name: 'r', expected: 'a', actual: 'b', severity: 'high', message: 'm', resource: 'iam-role', repairable: true }],
      summary: { total: 1, by_kind: { 'role-renamed': 1 }, by_severity: { high: 1 } },
      observed: { roles: 1, service_accounts: 0, namespaces: 0, clusters: 1 },
      duration_ms: 3,
      trigger: 'api',
    };
    ddb.on(QueryCommand).resolves({ Items: [item(gzipSync(JSON.stringify(report)))] });
    const e = await storedError(drift.latestReport('c1'));
    expect(e.field).toBe('body.findings[0].kind');
    ddb.on(QueryCommand).resolves({ Items: [item(gzipSync(JSON.stringify({ ...report, findings: [{ ...report.findings[0], kind: 'role-missing' }] })))] });
    expect((await drift.latestReport('c1'))?.findings[0]?.kind).toBe('role-missing');
  });
  it('a history entry with a bad summary attribute', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ ...item(undefined), drifted: 'yes' }] });
    expect(await storedError(drift.listReports('c1'))).toMatchObject({ field: 'drifted' });
  });
});
