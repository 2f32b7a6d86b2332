/**
 * A dynalite holding the service table for one test file: started before its tests, stopped
 * after, with the store under test built on it (`db.store`).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createLocalDocumentClient, ensureTable, startDynalite, type DynaliteHandle } from '../../local/dynalite.js';

export function dynaliteTable<S>(tableName: string, makeStore: (options: { client: DynamoDBDocumentClient; tableName: string }) => S) {
  let dyn: DynaliteHandle | undefined;
  let client: DynamoDBDocumentClient | undefined;
  let store: S | undefined;
  beforeAll(async () => {
    dyn = await startDynalite();
    client = createLocalDocumentClient(dyn.endpoint);
    await ensureTable(client, tableName);
    store = makeStore({ client, tableName });
  });
  afterAll(async () => {
    client?.destroy();
    await dyn?.close();
  });
  return {
    get store(): S {
      if (store === undefined) throw new Error('the dynalite table is not started yet (use it inside a test)');
      return store;
    },
  };
}
