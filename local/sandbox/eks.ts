/**
 * EKS emulator (REST-JSON): `GET /clusters` (ListClusters) and `GET /clusters/{name}` (DescribeCluster).
 * Registering a cluster also registers its IAM OIDC provider, as `eksctl utils associate-iam-oidc-provider` would.
 */
import { POD_IDENTITY_AGENT, PodIdentityState, podIdentityCall, runPodIdentityCall, type PodIdentitySnapshot } from './eks-pod-identity.js';
import type { IamState } from './iam-state.js';
import { withRetryAfter } from './iam.js';
import type { ClusterSpec, FaultSpec, Operation, Reply } from './types.js';
import { decodeToken, encodeToken, hexDigest, uuid } from './util.js';

export interface ClusterRecord {
  name: string;
  arn: string;
  /** Epoch seconds. */
  createdAt: number;
  version: string;
  issuer: string;
  endpoint: string;
  status: 'ACTIVE';
}

export interface EksSnapshot {
  clusters: ClusterRecord[];
  /** Pod identity associations and add-ons (absent in snapshots written before they existed). */
  podIdentity?: PodIdentitySnapshot;
}

/** EKS root CA thumbprint IAM shows for EKS OIDC providers. */
export const EKS_OIDC_THUMBPRINT = '9e99a48a9960b14926bb7f3b02e22da2b0ab7280';

export const defaultIssuer = (region: string, clusterName: string): string => `https://oidc.eks.${region}.amazonaws.com/id/${hexDigest(clusterName, 32)}`;

export class EksState {
  private clusters = new Map<string, ClusterRecord>();
  /** Pod identity associations and add-ons of the clusters (local/sandbox/eks-pod-identity.ts). */
  readonly podIdentity: PodIdentityState;

  constructor(
    private readonly accountId: string,
    private readonly region: string,
    private readonly iam: IamState,
  ) {
    this.podIdentity = new PodIdentityState(accountId, region, iam, (name) => this.clusters.has(name));
  }

  /** Adds (or replaces) a cluster and makes sure its IAM OIDC provider exists. */
  addCluster(spec: ClusterSpec): ClusterRecord {
    const issuer = spec.issuer ?? defaultIssuer(this.region, spec.name);
    const cluster: ClusterRecord = {
      name: spec.name,
      arn: `arn:aws:eks:${this.region}:${this.accountId}:cluster/${spec.name}`,
      createdAt: Math.floor(Date.now() / 1000),
      version: spec.version ?? '1.31',
      issuer,
      endpoint: `https://${hexDigest(`endpoint:${spec.name}`, 32)}.gr7.${this.region}.eks.amazonaws.com`,
      status: 'ACTIVE',
    };
    this.podIdentity.dropCluster(spec.name);
    this.clusters.set(spec.name, cluster);
    // EKS Pod Identity needs this add-on on the cluster; sandbox clusters have it (remove it with delete-addon).
    this.podIdentity.addAddon(spec.name, POD_IDENTITY_AGENT);
    const providerArn = `arn:aws:iam::${this.accountId}:oidc-provider/${issuer.replace(/^https:\/\//, '')}`;
    if (!this.iam.listOpenIdConnectProviders().some((p) => p.arn === providerArn)) {
      this.iam.createOpenIdConnectProvider({ url: issuer, clientIds: ['sts.amazonaws.com'], thumbprints: [EKS_OIDC_THUMBPRINT] });
    }
    return cluster;
  }

  getCluster(name: string): ClusterRecord | undefined {
    return this.clusters.get(name);
  }

  listClusters(): ClusterRecord[] {
    return [...this.clusters.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** OIDC provider ARN of a cluster (what an IRSA trust policy's `Federated` principal names). */
  oidcProviderArn(name: string): string | undefined {
    const cluster = this.clusters.get(name);
    return cluster && `arn:aws:iam::${this.accountId}:oidc-provider/${cluster.issuer.replace(/^https:\/\//, '')}`;
  }

  snapshot(): EksSnapshot {
    return structuredClone({ clusters: this.listClusters(), podIdentity: this.podIdentity.snapshot() });
  }

  restore(snapshot: EksSnapshot): void {
    this.clusters = new Map(structuredClone(snapshot.clusters).map((c) => [c.name, c]));
    if (snapshot.podIdentity) this.podIdentity.restore(snapshot.podIdentity);
    else {
      // An older snapshot: its clusters had the agent as every sandbox cluster does.
      this.podIdentity.clear();
      for (const c of this.clusters.values()) this.podIdentity.addAddon(c.name, POD_IDENTITY_AGENT);
    }
  }

  clear(): void {
    this.clusters.clear();
    this.podIdentity.clear();
  }
}

function describe(cluster: ClusterRecord, accountId: string) {
  return {
    name: cluster.name,
    arn: cluster.arn,
    createdAt: cluster.createdAt,
    version: cluster.version,
    endpoint: cluster.endpoint,
    roleArn: `arn:aws:iam::${accountId}:role/eks-cluster-role`,
    resourcesVpcConfig: { subnetIds: [], securityGroupIds: [], endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] },
    kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
    identity: { oidc: { issuer: cluster.issuer } },
    status: cluster.status,
    certificateAuthority: { data: Buffer.from('sandbox-ca').toString('base64') },
    platformVersion: 'eks.1',
    tags: {},
    accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
  };
}

const json = (status: number, body: unknown, requestId: string, errorType?: string): Reply => ({
  status,
  headers: {
    'content-type': 'application/json',
    'x-amzn-requestid': requestId,
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  },
  body: JSON.stringify(body),
  errorCode: errorType,
});

/** Resolves `/clusters[/{name}]` (path relative to the AWS endpoint) into an EKS operation, or undefined if not an EKS route. */
export function eksOperation(eks: EksState, accountId: string, method: string, path: string, query: URLSearchParams, body = ''): Operation | undefined {
  const requestId = uuid();
  const renderFault = (fault: FaultSpec): Reply =>
    withRetryAfter(json(fault.status, { message: fault.message ?? `Injected fault: ${fault.code}` }, requestId, fault.code), fault);
  const podIdentity = podIdentityCall(eks.podIdentity, method, path, query, body);
  if (podIdentity) {
    return {
      service: 'eks',
      action: podIdentity.action,
      mutating: podIdentity.mutating,
      params: podIdentity.params,
      execute: () => runPodIdentityCall(podIdentity, requestId),
      renderFault,
    };
  }
  const m = /^\/clusters(?:\/([^/]+))?\/?$/.exec(path);
  if (!m) return undefined;
  const name = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
  const unsupported = (action: string): Operation => ({
    service: 'eks',
    action,
    mutating: method !== 'GET',
    params: { name },
    execute: () => json(405, { message: `${action} is not supported by the sandbox` }, requestId, 'InvalidRequestException'),
    renderFault,
  });
  if (method !== 'GET') return unsupported(name === undefined ? 'CreateCluster' : 'ClusterMutation');

  if (name === undefined) {
    return {
      service: 'eks',
      action: 'ListClusters',
      mutating: false,
      params: {},
      execute: () => {
        const names = eks.listClusters().map((c) => c.name);
        const max = Math.min(Math.max(Number(query.get('maxResults') ?? 100) || 100, 1), 100);
        const token = query.get('nextToken');
        const start = token ? (decodeToken<{ i: number }>(token)?.i ?? 0) : 0;
        const page = names.slice(start, start + max);
        return json(200, { clusters: page, nextToken: start + max < names.length ? encodeToken({ i: start + max }) : undefined }, requestId);
      },
      renderFault,
    };
  }
  return {
    service: 'eks',
    action: 'DescribeCluster',
    mutating: false,
    params: { name },
    execute: () => {
      const cluster = eks.getCluster(name);
      if (!cluster) return json(404, { message: `No cluster found for name: ${name}.`, clusterName: name }, requestId, 'ResourceNotFoundException');
      return json(200, { cluster: describe(cluster, accountId) }, requestId);
    },
    renderFault,
  };
}
