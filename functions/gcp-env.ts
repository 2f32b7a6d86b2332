/**
 * Google Cloud defaults and limits of a deployment, from its environment: GCP_PROJECT,
 * GKE_CLUSTER_NAME / GKE_CLUSTER_LOCATION, GCP_CONTROL_PLANE_SERVICE_ACCOUNT, GCP_ALLOWED_ROLES.
 * Only the functions that validate or provision configs pass them in (config, provisioning,
 * drift), so the resolve bundle carries none of it.
 */
import type { GcpSettingsDefaults } from '../lib/provisioning/gcp-settings.js';

const listOf = (raw: string | undefined): string[] => (raw ?? '').split(/[\s,]+/).filter((s) => s !== '');

export function gcpDefaultsFromEnv(env: NodeJS.ProcessEnv = process.env): GcpSettingsDefaults {
  return {
    ...(env.GCP_PROJECT ? { gcpProject: env.GCP_PROJECT } : {}),
    ...(env.GKE_CLUSTER_NAME ? { gkeClusterName: env.GKE_CLUSTER_NAME } : {}),
    ...(env.GKE_CLUSTER_LOCATION ? { gkeClusterLocation: env.GKE_CLUSTER_LOCATION } : {}),
    ...(env.GCP_CONTROL_PLANE_SERVICE_ACCOUNT ? { gcpControlPlaneServiceAccount: env.GCP_CONTROL_PLANE_SERVICE_ACCOUNT } : {}),
    gcpAllowedRoles: listOf(env.GCP_ALLOWED_ROLES),
  };
}
