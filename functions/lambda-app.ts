/**
 * The app of a deployed function, from its environment (serverless.yml sets it): the DynamoDB
 * table, the provisioning defaults, resolve caching. Built on the first invocation and kept for
 * the warm container. A function that starts provisioning runs or reaches IAM/EKS/Kubernetes
 * passes those adapters in (functions/sfn.ts, functions/targets.ts), so the others' bundles never
 * carry the Step Functions or Kubernetes clients.
 */
import { createApp, type App, type AppConfig } from '../app/app.js';
import { identityCeiling, policiesPerRole } from '../lib/config/limits.js';
import type { DeploymentRules, SettingsDefaults } from '../lib/provisioning/settings.js';

export const regionOf = (env: NodeJS.ProcessEnv) => env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const listOf = (raw: string | undefined): string[] => (raw ?? '').split(/[\s,]+/).filter((s) => s !== '');

/** DRIFT_DEADLINE_SECONDS: how long an on-demand drift check may take before it is handed to the drift worker (above 0, at most 25: the function's timeout is 29 s). */
export const DRIFT_DEADLINE_DEFAULT_SECONDS = 20;
export function driftDeadlineMs(setting: string | undefined): number {
  if (setting === undefined || setting === '') return DRIFT_DEADLINE_DEFAULT_SECONDS * 1000;
  const n = Number(setting);
  if (!Number.isFinite(n) || n <= 0 || n > 25) {
    throw new Error(`DRIFT_DEADLINE_SECONDS must be a number of seconds above 0 and at most 25 (the drift function has 29), got ${JSON.stringify(setting)}`);
  }
  return Math.round(n * 1000);
}

/** The deployment's limits from the environment: ROLE_PATH, ALLOWED_POLICY_ARNS, PROTECTED_NAMESPACES, PERMISSIONS_BOUNDARY_ARN, CONTROL_PLANE_ROLES, MANAGED_POLICIES_PER_ROLE. */
export function deploymentRulesFromEnv(env: NodeJS.ProcessEnv = process.env): DeploymentRules {
  return {
    managedPoliciesPerRole: policiesPerRole(env.MANAGED_POLICIES_PER_ROLE),
    ...(env.ROLE_PATH ? { rolePath: env.ROLE_PATH } : {}),
    allowedPolicyArns: listOf(env.ALLOWED_POLICY_ARNS),
    protectedNamespaces: listOf(env.PROTECTED_NAMESPACES),
    ...(env.PERMISSIONS_BOUNDARY_ARN ? { permissionsBoundaryArn: env.PERMISSIONS_BOUNDARY_ARN } : {}),
    ...(listOf(env.CONTROL_PLANE_ROLES).length > 0 ? { controlPlaneRoles: listOf(env.CONTROL_PLANE_ROLES) } : {}),
  };
}

/** Environment defaults of the provisioning settings (the cloud's cluster and bucket) and the deployment's limits. */
export function settingsDefaultsFromEnv(env: NodeJS.ProcessEnv = process.env): SettingsDefaults {
  return {
    ...deploymentRulesFromEnv(env),
    region: regionOf(env),
    ...(env.EKS_CLUSTER_NAME ? { clusterName: env.EKS_CLUSTER_NAME } : {}),
    ...(env.DEFAULT_BUCKET ? { defaultBucket: env.DEFAULT_BUCKET } : {}),
  };
}

/** What an entry point adds to the app: its adapters, and defaults only it needs (e.g. functions/gcp-env.ts). */
export type EntryAdapters = Pick<AppConfig, 'workflow' | 'targets' | 'gcp' | 'driftHandOff'> & { extraDefaults?: SettingsDefaults };

export function appConfigFromEnv(env: NodeJS.ProcessEnv, entry: EntryAdapters = {}): AppConfig {
  const { extraDefaults, ...adapters } = entry;
  return {
    store: {
      tableName: required(env, 'TABLE_NAME'),
      region: regionOf(env),
      ...(env.DYNAMODB_ENDPOINT ? { dynamodbEndpoint: env.DYNAMODB_ENDPOINT } : {}),
    },
    resolve: { freshnessMs: Number(env.RESOLVE_FRESHNESS_MS ?? 1000), staleGraceMs: Number(env.RESOLVE_STALE_GRACE_MS ?? 2000) },
    defaults: { ...settingsDefaultsFromEnv(env), ...extraDefaults },
    ...(env.DRIFT_CONCURRENCY ? { driftConcurrency: Number(env.DRIFT_CONCURRENCY) } : {}),
    driftDeadlineMs: driftDeadlineMs(env.DRIFT_DEADLINE_SECONDS),
    maxIdentities: identityCeiling(env.MAX_IDENTITIES),
    ...planPageSizeFromEnv(env),
    ...adapters,
  };
}

/** The function's app, built on first use from `process.env` (read then, not at import). */
export function lambdaApp(adapters: (env: NodeJS.ProcessEnv) => EntryAdapters = () => ({})): () => App {
  let app: App | undefined;
  return () => (app ??= createApp(appConfigFromEnv(process.env, adapters(process.env))));
}

/** PLAN_PAGE_SIZE (items per Distributed Map child); unset: the default of lib/workflow/steps.ts. */
export function planPageSizeFromEnv(env: NodeJS.ProcessEnv = process.env): { planPageSize?: number } {
  const n = Number(env.PLAN_PAGE_SIZE);
  return env.PLAN_PAGE_SIZE && Number.isInteger(n) && n > 0 ? { planPageSize: n } : {};
}
