/** The provisioning targets of deployed functions: the real IAM, EKS and Kubernetes, region and EKS cluster from the environment. */
import { createTargets, type Targets, type TargetsConfig } from '../adapters/targets.js';
import { regionOf } from './lambda-app.js';

export function awsTargetsFromEnv(env: NodeJS.ProcessEnv = process.env): TargetsConfig {
  return { mode: 'aws', region: regionOf(env), ...(env.EKS_CLUSTER_NAME ? { clusterName: env.EKS_CLUSTER_NAME } : {}) };
}

export const awsTargets = (env: NodeJS.ProcessEnv) => (): Targets => createTargets(awsTargetsFromEnv(env));
