/**
 * The composition root: `createApp(config)` builds the ports (which adapter serves each is
 * decided by the configuration) and the stateful services once, on first use, and every entry
 * point runs on the app it returns — each deployed Lambda (functions/*, from its environment) and
 * the local server (local/server.ts: dynalite, the in-process workflow runner, the sandbox).
 *
 * Adapters that are heavy to load (the Step Functions client, the Kubernetes client behind the
 * provisioning targets) are passed in as factories by the entry points that need them, so a
 * function's bundle carries only its own (the resolve Lambda has neither).
 */
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoConfigStore } from '../adapters/dynamodb/config-store.js';
import { DynamoDriftStore } from '../adapters/dynamodb/drift-store.js';
import { DynamoOwnershipStore } from '../adapters/dynamodb/ownership-store.js';
import { DynamoRunStore } from '../adapters/dynamodb/run-store.js';
import type { Targets } from '../adapters/targets.js';
import type { DriftDeps } from '../lib/drift/check.js';
import type {
  ConfigStore,
  DriftCheckHandOff,
  DriftReportStore,
  GcpPort,
  OwnershipStore,
  ProvisioningRunStore,
  StickyStore,
  WorkflowStarter,
} from '../lib/ports.js';
import type { SettingsDefaults } from '../lib/provisioning/settings.js';
import { ResolutionService } from '../lib/resolution/service.js';
import type { WorkflowDeps } from '../lib/workflow/steps.js';

export interface StoreConfig {
  tableName: string;
  region: string;
  dynamodbEndpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface StorePorts {
  configs: ConfigStore;
  sticky: StickyStore;
  runs: ProvisioningRunStore;
  drift: DriftReportStore;
  ownership: OwnershipStore;
}

export interface AppConfig {
  /** The DynamoDB table (absent: this entry point reads no store, e.g. healthz). */
  store?: StoreConfig;
  resolve?: { freshnessMs?: number; staleGraceMs?: number };
  /** Provisioning defaults: the cluster to trust and the default bucket. */
  defaults: SettingsDefaults;
  /** Parallel reads per drift check. */
  driftConcurrency?: number;
  /**
   * An on-demand drift check still running after this long is handed to `driftHandOff` and the
   * request answers 202 (an HTTP request must end within API Gateway's 30 s). Needs `driftHandOff`.
   */
  driftDeadlineMs?: number;
  /** Where such a check goes on (absent: the request waits for the check, however long). */
  driftHandOff?: (app: App) => DriftCheckHandOff;
  /** The deployment's ceiling on distinct identities per config (MAX_IDENTITIES; default 1,000, never above 5,000). */
  maxIdentities?: number;
  /** Plan items per page (one Distributed Map child execution each; PLAN_PAGE_SIZE, default 100). */
  planPageSize?: number;
  /** IAM, EKS and Kubernetes (absent: this entry point does not reach them). */
  targets?: () => Targets;
  /** Google Cloud IAM, Storage and GKE (absent: GCP clouds cannot be provisioned or checked here). */
  gcp?: () => GcpPort;
  /** How provisioning runs start: Step Functions deployed, the in-process runner locally (absent: they cannot start here). */
  workflow?: (app: Pick<App, 'stores' | 'workflowDeps'>) => WorkflowStarter;
}

export interface App {
  readonly config: AppConfig;
  readonly stores: StorePorts;
  readonly targets: Targets;
  readonly workflow: WorkflowStarter;
  /** Resolution with its compiled-config cache (one per process). */
  readonly resolution: ResolutionService;
  /** What the provisioning workflow's steps use. */
  readonly workflowDeps: WorkflowDeps;
  /** What drift checks use. */
  readonly driftDeps: DriftDeps;
  /** Where an on-demand drift check that outlasts `config.driftDeadlineMs` goes on (undefined: none). */
  readonly driftHandOff: DriftCheckHandOff | undefined;
}

export function createStores(config: StoreConfig): StorePorts {
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

/** A value built on first use and kept. */
function once<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}

const missing = (what: string) => () => {
  throw new Error(`this entry point is not configured with ${what}`);
};

export function createApp(config: AppConfig): App {
  const stores = once(() => (config.store ? createStores(config.store) : missing('a store')()));
  const targets = once(config.targets ?? missing('provisioning targets (IAM, EKS, Kubernetes)'));
  // Built eagerly only when configured (cheap: the clients connect on first call).
  const gcp = config.gcp ? config.gcp() : undefined;
  const workflowDeps = once((): WorkflowDeps => ({
    configs: stores().configs,
    runs: stores().runs,
    ownership: stores().ownership,
    iam: targets().iam,
    clusters: targets().clusters,
    kubernetes: (cluster) => targets().kubernetes(cluster),
    ...(targets().podIdentity ? { podIdentity: targets().podIdentity } : {}),
    defaults: config.defaults,
    ...(config.planPageSize !== undefined ? { planPageSize: config.planPageSize } : {}),
    ...(gcp ? { gcp } : {}),
  }));
  const app: App = {
    config,
    get stores() {
      return stores();
    },
    get targets() {
      return targets();
    },
    get workflow() {
      return workflow();
    },
    get resolution() {
      return resolution();
    },
    get workflowDeps() {
      return workflowDeps();
    },
    get driftDeps() {
      return driftDeps();
    },
    get driftHandOff() {
      return driftHandOff();
    },
  };
  const notStarting: WorkflowStarter = { start: async () => Promise.reject(new Error('this entry point cannot start provisioning runs')) };
  const workflow = once(() => (config.workflow ? config.workflow(app) : notStarting));
  const driftHandOff = once(() => config.driftHandOff?.(app));
  const resolution = once(
    () =>
      new ResolutionService(stores().configs, stores().sticky, {
        ...(config.resolve?.freshnessMs !== undefined ? { freshnessMs: config.resolve.freshnessMs } : {}),
        ...(config.resolve?.staleGraceMs !== undefined ? { staleGraceMs: config.resolve.staleGraceMs } : {}),
      }),
  );
  const driftDeps = once((): DriftDeps => ({
    configs: stores().configs,
    runs: stores().runs,
    reports: stores().drift,
    ownership: stores().ownership,
    workflow: workflow(),
    iam: targets().iam,
    clusters: targets().clusters,
    kubernetes: (cluster) => targets().kubernetes(cluster),
    ...(targets().podIdentity ? { podIdentity: targets().podIdentity } : {}),
    defaults: config.defaults,
    ...(config.driftConcurrency !== undefined ? { concurrency: config.driftConcurrency } : {}),
    ...(gcp ? { gcp } : {}),
  }));
  return app;
}
