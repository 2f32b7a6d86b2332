/**
 * Composition root of the provisioning targets: IAM, EKS/STS and Kubernetes adapters for real AWS or
 * for the local sandbox, chosen by configuration here and nowhere else.
 *
 *   aws     — default endpoints and credential chain; Kubernetes at the cluster's endpoint (from
 *             DescribeCluster) with its CA and an EKS bearer token.
 *   sandbox — IAM/EKS/STS at `${sandboxUrl}/sandbox/aws` with dummy credentials; Kubernetes at
 *             `${sandboxUrl}/sandbox/k8s` without a token.
 *
 * Mode `aws` never sets an endpoint itself, so the SDK's own `AWS_ENDPOINT_URL` /
 * `AWS_ENDPOINT_URL_IAM` / `_EKS` / `_STS` variables point it elsewhere (e.g. moto). Kubernetes can be
 * named outright: `k8sServer` (+ `k8sToken` / `k8sCaData`) or a kubeconfig file.
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { ClusterIdentity, ClusterPort, IamPort, KubernetesPort, PodIdentityPort } from '../lib/ports.js';
import { invalidInput } from '../lib/target-errors.js';
import { AwsClusters } from './aws/eks.js';
import { AwsIam } from './aws/iam.js';
import { AwsPodIdentity } from './aws/pod-identity.js';
import { iamWriteRateFromEnv } from './aws/write-pacing.js';
import { eksTokenProvider } from './k8s/eks-token.js';
import { KubeServiceAccounts, normaliseServerUrl } from './k8s/service-accounts.js';

export interface TargetsConfig {
  mode: 'aws' | 'sandbox';
  region: string;
  /** Base URL of the server mounting the sandbox (mode `sandbox`), e.g. `http://127.0.0.1:4000`. */
  sandboxUrl?: string;
  /** Default cluster (token audience) when a cluster identity lacks a name. */
  clusterName?: string;
  /** Kubernetes API server override (both modes); else the cluster's endpoint / the sandbox. */
  k8sServer?: string;
  /** Base64 PEM CA for `k8sServer`. */
  k8sCaData?: string;
  /** Bearer token for `k8sServer` (else, mode aws: an EKS token of the cluster; mode sandbox: none). */
  k8sToken?: string;
  /** A kubeconfig file (its current context) for every cluster, instead of `k8sServer` / the cluster endpoint. */
  kubeconfig?: string;
  /** SDK attempts per call (default 3). */
  maxAttempts?: number;
  /** Mutating IAM calls per second this process may make (default: env IAM_WRITE_RATE; unset = adaptive). */
  iamWriteRatePerSecond?: number;
  /** Extra headers on every IAM/EKS/STS request (local only: which function a sandbox call is made for; see local/function-context.ts). */
  requestHeaders?: () => Record<string, string>;
}

/** A cluster as `ClusterPort.describeCluster` returns it, optionally with how to reach its API server. */
export type TargetCluster = ClusterIdentity & { endpoint?: string; caData?: string; region?: string };

export interface Targets {
  iam: IamPort;
  clusters: ClusterPort;
  kubernetes: (cluster: TargetCluster) => KubernetesPort;
  /** EKS Pod Identity associations and add-ons (`provisioning.mechanism: pod-identity`). */
  podIdentity?: PodIdentityPort;
}

const SANDBOX_CREDENTIALS = { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };

export function createTargets(config: TargetsConfig): Targets {
  const sandbox = config.mode === 'sandbox';
  let base: string | undefined;
  if (sandbox) {
    if (!config.sandboxUrl) throw new Error('createTargets: mode "sandbox" needs sandboxUrl');
    base = config.sandboxUrl.replace(/\/+$/, '');
  }
  const aws = {
    region: config.region,
    ...(base ? { endpoint: `${base}/sandbox/aws`, credentials: SANDBOX_CREDENTIALS } : {}),
    ...(config.maxAttempts !== undefined ? { maxAttempts: config.maxAttempts } : {}),
    ...(config.requestHeaders ? { requestHeaders: config.requestHeaders } : {}),
  };
  const writeRate = config.iamWriteRatePerSecond ?? iamWriteRateFromEnv();
  const iam = new AwsIam({ ...aws, ...(writeRate ? { writeRatePerSecond: writeRate } : {}) });
  const clusters = new AwsClusters(aws);
  const kubeClients = new Map<string, KubeServiceAccounts>();

  let fromKubeconfig: KubeServiceAccounts | undefined;
  if (config.kubeconfig) {
    const kc = new KubeConfig();
    kc.loadFromFile(config.kubeconfig);
    kc.loadFromOptions({
      clusters: kc.clusters.map((c) => ({ ...c, server: normaliseServerUrl(c.server) })),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
    if (!kc.getCurrentCluster()) throw invalidInput(`kubeconfig ${config.kubeconfig} has no current context with a cluster`);
    fromKubeconfig = new KubeServiceAccounts({ api: kc.makeApiClient(CoreV1Api) });
  }

  const kubernetes = (cluster: TargetCluster): KubernetesPort => {
    if (fromKubeconfig) return fromKubeconfig;
    const name = cluster.name || config.clusterName;
    const region = cluster.region ?? config.region;
    const rawServer = config.k8sServer ?? (base ? `${base}/sandbox/k8s` : cluster.endpoint);
    const server = rawServer === undefined ? undefined : normaliseServerUrl(rawServer);
    const token = config.k8sServer && config.k8sToken ? config.k8sToken : undefined;
    if (!base && !token && !name) throw invalidInput('an EKS cluster name is needed for the Kubernetes bearer token');
    if (!server) throw invalidInput(`cluster ${name ?? '?'} has no API server endpoint (describe it first, or configure k8sServer)`);
    const key = `${server}\u0000${name ?? ''}\u0000${region}`;
    let client = kubeClients.get(key);
    if (!client) {
      const caData = config.k8sServer ? config.k8sCaData : base ? undefined : cluster.caData;
      client = new KubeServiceAccounts({
        server,
        ...(caData ? { caData } : {}),
        ...(token ? { token } : base ? {} : { token: eksTokenProvider({ clusterName: name as string, region }) }),
      });
      kubeClients.set(key, client);
    }
    return client;
  };

  return { iam, clusters, kubernetes, podIdentity: new AwsPodIdentity(aws) };
}
