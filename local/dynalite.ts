/**
 * Local embedded DynamoDB (dynalite) for the sandbox runner and tests.
 *
 * - `startDynalite` serves DynamoDB's HTTP API on loopback; with `dataDir` the data persists in
 *   LevelDB under `<dataDir>/dynamodb`, otherwise it lives in memory.
 * - `ensureTable` creates the service table if missing and waits until it is ACTIVE.
 * dynalite has no TransactWriteItems and no TTL; the store only uses single-item conditional writes.
 */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
// @ts-expect-error dynalite ships no type declarations (typed below).
import dynaliteUntyped from 'dynalite';
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { tableDefinition } from '../adapters/dynamodb/table.js';

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  maxItemSizeKb?: number;
  verbose?: boolean;
}
const dynalite = dynaliteUntyped as (options?: DynaliteOptions) => Server;

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface StartDynaliteOptions {
  /** Persist under `<dataDir>/dynamodb`; in-memory when omitted. */
  dataDir?: string;
  /** 0 (default) = random free port. */
  port?: number;
  host?: string;
}

export interface DynaliteHandle {
  /** e.g. `http://127.0.0.1:53123` */
  endpoint: string;
  /** Stops accepting connections, then closes LevelDB (releases its lock). Idempotent. */
  close(): Promise<void>;
}

export async function startDynalite(options: StartDynaliteOptions = {}): Promise<DynaliteHandle> {
  const host = options.host ?? '127.0.0.1';
  let path: string | undefined;
  if (options.dataDir) {
    path = join(options.dataDir, 'dynamodb');
    await mkdir(path, { recursive: true });
  }
  const server = dynalite({ ...(path ? { path } : {}), createTableMs: 5, deleteTableMs: 5, updateTableMs: 5 });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve, reject) => {
      // dynalite's close() stops the HTTP server, waits for in-flight DB ops, then closes LevelDB.
      server.close((err?: Error) => (err ? reject(err) : resolve()));
      // Keep-alive sockets with no request in flight would otherwise hold close() open.
      server.closeIdleConnections();
    }));
  return { endpoint, close };
}

/** A document client for a local endpoint (dummy credentials, us-east-1). */
export function createLocalDocumentClient(endpoint: string): DynamoDBDocumentClient {
  return createDocumentClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** Creates the service table if it does not exist and waits until it is ACTIVE. */
export async function ensureTable(client: DynamoDBClient | DynamoDBDocumentClient, tableName: string, timeoutMs = 10_000): Promise<void> {
  const base: DynamoDBClient = client;
  const send = base.send.bind(base);
  const status = async (): Promise<string | null> => {
    try {
      const res = await send(new DescribeTableCommand({ TableName: tableName }));
      return res.Table?.TableStatus ?? null;
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return null;
      throw err;
    }
  };
  if ((await status()) === null) {
    try {
      await send(new CreateTableCommand(tableDefinition(tableName)));
    } catch (err) {
      if ((err as Error).name !== 'ResourceInUseException') throw err; // created concurrently
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await status()) === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become ACTIVE within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
