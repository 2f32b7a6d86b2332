/**
 * Composition root: which adapter serves each port is decided here, from configuration only.
 * Deployed, the environment names the DynamoDB table, the state machine and the EKS cluster
 * (real AWS endpoints); under `npm start` the local server builds the same Deps pointed at
 * dynalite, the in-process workflow runner and the sandbox. The provisioning targets (IAM, EKS,
 * Kubernetes) are composed in workflow-deps.ts, so the API functions' bundles never carry the
 * Kubernetes client.
 */
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoConfigStore } from '../adapters/dynamodb/config-store.js';
import { DynamoDriftStore } from '../adapters/dynamodb/drift-store.js';
import { DynamoOwnershipStore } from '../adapters/dynamodb/ownership-store.js';
import { DynamoRunStore } from '../adapters/dynamodb/run-store.js';
import type { ConfigStore, DriftReportStore, OwnershipStore, ProvisioningRunStore, StickyStore, WorkflowStarter } from '../lib/ports.js';
import type { SettingsDefaults } from '../lib/provisioning/settings.js';
import { ResolutionService } from '../lib/resolution/service.js';

export interface StoreDeps {
  configs: ConfigStore;
  sticky: StickyStore;
  runs: ProvisioningRunStore;
  drift: DriftReportStore;
  ownership: OwnershipStore;
}

export interface Deps extends StoreDeps {
  resolution: ResolutionService;
  workflow: WorkflowStarter;
}

export interface StoreConfig {
  tableName: string;
  region: string;
  dynamodbEndpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function createStores(config: StoreConfig): StoreDeps {
  const client = createDocumentClient({
    region: config.region,
    ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  });
  const store = new DynamoConfigStore({ client, tableName: config.tableName });
  return {
    configs: store,
    sticky: store,
    runs: new DynamoRunStore({ client, tableName: config.tableName }),
    drift: new DynamoDriftStore({ client, tableName: config.tableName }),
    ownership: new DynamoOwnershipStore({ client, tableName: config.tableName }),
  };
}

export function createDeps(stores: StoreDeps, workflow: WorkflowStarter, options: { resolveFreshnessMs: number; resolveStaleGraceMs?: number }): Deps {
  return {
    ...stores,
    resolution: new ResolutionService(stores.configs, stores.sticky, {
      freshnessMs: options.resolveFreshnessMs,
      ...(options.resolveStaleGraceMs !== undefined ? { staleGraceMs: options.resolveStaleGraceMs } : {}),
    }),
    workflow,
  };
}

// ----------------------------------------------------------------------------- from the environment

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export const regionOf = (env: NodeJS.ProcessEnv) => env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';

export function storeConfigFromEnv(env: NodeJS.ProcessEnv): StoreConfig {
  return {
    tableName: required(env, 'TABLE_NAME'),
    region: regionOf(env),
    ...(env.DYNAMODB_ENDPOINT ? { dynamodbEndpoint: env.DYNAMODB_ENDPOINT } : {}),
  };
}

/** Environment defaults of the provisioning settings (the cloud's cluster and bucket). */
export function settingsDefaultsFromEnv(env: NodeJS.ProcessEnv = process.env): SettingsDefaults {
  return {
    region: regionOf(env),
    ...(env.EKS_CLUSTER_NAME ? { clusterName: env.EKS_CLUSTER_NAME } : {}),
    ...(env.DEFAULT_BUCKET ? { defaultBucket: env.DEFAULT_BUCKET } : {}),
  };
}

/** Starts provisioning runs from a deployed function: Step Functions, named by the environment. */
export type StarterFactory = (env: NodeJS.ProcessEnv) => WorkflowStarter;

const notConfigured: StarterFactory = () => ({
  start: async () => Promise.reject(new Error('this function cannot start provisioning runs')),
});

/**
 * Deps of the API functions, built once per warm Lambda container, on first use. Only the
 * functions that start provisioning pass a starter (functions/sfn.ts), so the others never load
 * the Step Functions client.
 */
export function lazyEnvDeps(env: NodeJS.ProcessEnv = process.env, starter: StarterFactory = notConfigured): () => Deps {
  let deps: Deps | undefined;
  return () => {
    deps ??= createDeps(createStores(storeConfigFromEnv(env)), starter(env), {
      resolveFreshnessMs: Number(env.RESOLVE_FRESHNESS_MS ?? 1000),
      resolveStaleGraceMs: Number(env.RESOLVE_STALE_GRACE_MS ?? 2000),
    });
    return deps;
  };
}
