/**
 * Composition root: which adapter serves each port is decided here, from configuration only.
 * Deployed, the environment names the DynamoDB table, the state machine and the EKS cluster
 * (real AWS endpoints); under `npm start` the local server builds the same Deps pointed at
 * dynalite, the in-process workflow runner and the sandbox.
 */
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoConfigStore } from '../adapters/dynamodb/config-store.js';
import { DynamoDriftStore } from '../adapters/dynamodb/drift-store.js';
import { DynamoRunStore } from '../adapters/dynamodb/run-store.js';
import { StepFunctionsStarter } from '../adapters/aws/sfn-starter.js';
import { createTargets, type TargetsConfig } from '../adapters/targets.js';
import type { ConfigStore, DriftReportStore, ProvisioningRunStore, StickyStore, WorkflowStarter } from '../lib/ports.js';
import type { SettingsDefaults } from '../lib/provisioning/settings.js';
import { ResolutionService } from '../lib/resolution/service.js';
import type { WorkflowDeps } from '../lib/workflow/steps.js';

export interface StoreDeps {
  configs: ConfigStore;
  sticky: StickyStore;
  runs: ProvisioningRunStore;
  drift: DriftReportStore;
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
  };
}

export function createDeps(stores: StoreDeps, workflow: WorkflowStarter, options: { resolveFreshnessMs: number }): Deps {
  return {
    ...stores,
    resolution: new ResolutionService(stores.configs, stores.sticky, { freshnessMs: options.resolveFreshnessMs }),
    workflow,
  };
}

export function createWorkflowDeps(stores: StoreDeps, targetsConfig: TargetsConfig, defaults: SettingsDefaults): WorkflowDeps {
  const targets = createTargets(targetsConfig);
  return { configs: stores.configs, runs: stores.runs, iam: targets.iam, clusters: targets.clusters, kubernetes: targets.kubernetes, defaults };
}

// ----------------------------------------------------------------------------- from the environment

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const regionOf = (env: NodeJS.ProcessEnv) => env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';

function storeConfigFromEnv(env: NodeJS.ProcessEnv): StoreConfig {
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

/** Deps of the API functions, built once per warm Lambda container, on first use. */
export function lazyEnvDeps(env: NodeJS.ProcessEnv = process.env): () => Deps {
  let deps: Deps | undefined;
  return () => {
    if (deps) return deps;
    const region = regionOf(env);
    const machine = env.STATE_MACHINE_ARN ? { arn: env.STATE_MACHINE_ARN } : env.STATE_MACHINE_NAME ? { name: env.STATE_MACHINE_NAME } : null;
    const starter: WorkflowStarter = machine
      ? new StepFunctionsStarter(machine, { region })
      : { start: async () => Promise.reject(new Error('STATE_MACHINE_NAME is not set: provisioning cannot start')) };
    deps = createDeps(createStores(storeConfigFromEnv(env)), starter, { resolveFreshnessMs: Number(env.RESOLVE_FRESHNESS_MS ?? 1000) });
    return deps;
  };
}

/** Deps of the workflow's task Lambdas (real AWS targets). */
export function workflowDepsFromEnv(env: NodeJS.ProcessEnv = process.env): WorkflowDeps {
  const region = regionOf(env);
  return createWorkflowDeps(
    createStores(storeConfigFromEnv(env)),
    { mode: 'aws', region, ...(env.EKS_CLUSTER_NAME ? { clusterName: env.EKS_CLUSTER_NAME } : {}) },
    settingsDefaultsFromEnv(env),
  );
}
