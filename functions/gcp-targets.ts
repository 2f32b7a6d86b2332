/** The Google Cloud targets of deployed functions: Google's IAM, Storage and GKE APIs with Application Default Credentials. */
import { createGcpTargets } from '../adapters/gcp/google.js';
import type { GcpPort } from '../lib/ports.js';

/** GCP_API_BASE_URL points IAM and Storage elsewhere (an emulator, a private endpoint); GKE_K8S_SERVER names one Kubernetes API for every GKE cluster. */
export const gcpTargets = (env: NodeJS.ProcessEnv) => (): GcpPort =>
  createGcpTargets({
    mode: 'google',
    ...(env.GCP_API_BASE_URL ? { baseUrl: env.GCP_API_BASE_URL } : {}),
    ...(env.GKE_K8S_SERVER ? { k8sServer: env.GKE_K8S_SERVER } : {}),
  });
