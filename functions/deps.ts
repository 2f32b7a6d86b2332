/**
 * Composition root: which adapter serves each port is decided here, from configuration only.
 * Deployed, the environment names the DynamoDB table (and real AWS endpoints); under
 * `npm start` the local server builds the same Deps pointed at dynalite and the sandbox.
 */
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoConfigStore } from '../adapters/dynamodb/config-store.js';
import type { ConfigStore, StickyStore } from '../lib/ports.js';
import { ResolutionService } from '../lib/resolution/service.js';

export interface Deps {
  configs: ConfigStore;
  sticky: StickyStore;
  resolution: ResolutionService;
}

export interface DepsConfig {
  tableName: string;
  region: string;
  dynamodbEndpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** How long resolve may answer from a process's compiled config before re-checking the store. */
  resolveFreshnessMs: number;
}

export function depsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DepsConfig {
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new Error('TABLE_NAME is not set');
  return {
    tableName,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(env.DYNAMODB_ENDPOINT ? { dynamodbEndpoint: env.DYNAMODB_ENDPOINT } : {}),
    resolveFreshnessMs: Number(env.RESOLVE_FRESHNESS_MS ?? 1000),
  };
}

export function createDeps(config: DepsConfig): Deps {
  const client = createDocumentClient({
    region: config.region,
    ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  });
  const store = new DynamoConfigStore({ client, tableName: config.tableName });
  return {
    configs: store,
    sticky: store,
    resolution: new ResolutionService(store, store, { freshnessMs: config.resolveFreshnessMs }),
  };
}

/** Deps built once per warm Lambda container, on first use. */
export function lazyEnvDeps(): () => Deps {
  let deps: Deps | undefined;
  return () => (deps ??= createDeps(depsConfigFromEnv()));
}
