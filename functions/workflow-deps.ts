/**
 * Composition root of the provisioning side: the workflow's task Lambdas and the drift checks
 * reach IAM, EKS and Kubernetes through the adapters chosen here (real AWS, or the sandbox under
 * `npm start`), from configuration only.
 */
import { createTargets, type TargetsConfig } from '../adapters/targets.js';
import type { WorkflowDeps } from '../lib/workflow/steps.js';
import type { SettingsDefaults } from '../lib/provisioning/settings.js';
import { createStores, regionOf, settingsDefaultsFromEnv, storeConfigFromEnv, type StoreDeps } from './deps.js';

export function createWorkflowDeps(stores: StoreDeps, targetsConfig: TargetsConfig, defaults: SettingsDefaults): WorkflowDeps {
  const targets = createTargets(targetsConfig);
  return { configs: stores.configs, runs: stores.runs, ownership: stores.ownership, iam: targets.iam, clusters: targets.clusters, kubernetes: targets.kubernetes, defaults };
}

/** The real IAM/EKS/Kubernetes of a deployed function: region and EKS cluster from the environment. */
export function awsTargetsFromEnv(env: NodeJS.ProcessEnv = process.env): TargetsConfig {
  return { mode: 'aws', region: regionOf(env), ...(env.EKS_CLUSTER_NAME ? { clusterName: env.EKS_CLUSTER_NAME } : {}) };
}

/** Deps of the workflow's task Lambdas (real AWS targets). */
export function workflowDepsFromEnv(env: NodeJS.ProcessEnv = process.env): WorkflowDeps {
  return createWorkflowDeps(createStores(storeConfigFromEnv(env)), awsTargetsFromEnv(env), settingsDefaultsFromEnv(env));
}
