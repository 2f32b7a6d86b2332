/**
 * ClusterPort over EKS DescribeCluster (OIDC issuer, API endpoint, CA) and STS GetCallerIdentity
 * (the account the IAM OIDC providers and roles live in). Both are cached for the process lifetime:
 * a cluster's issuer never changes, nor does the caller's account. Failures are not cached.
 */
import { DescribeClusterCommand, EKSClient, type Cluster } from '@aws-sdk/client-eks';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { ClusterIdentity, ClusterPort } from '../../lib/ports.js';
import { cachedOnce, PromiseCache } from '../../lib/promise-cache.js';
import { invalidInput } from '../../lib/target-errors.js';
import { awsClientConfig, withRequestHeaders, type AwsClientOptions } from './clients.js';
import { awsErrorCode, mapAwsError } from './errors.js';

/** What DescribeCluster tells beyond the port's ClusterIdentity (used to reach the cluster's API server). */
export interface EksClusterInfo extends ClusterIdentity {
  region: string;
  /** Cluster ARN, e.g. `arn:aws:eks:us-east-1:123456789012:cluster/name`. */
  arn?: string;
  /** Kubernetes API server URL. */
  endpoint?: string;
  /** Base64 PEM of the cluster CA (`certificateAuthority.data`). */
  caData?: string;
}

export interface AwsClustersOptions extends AwsClientOptions {
  /** Pre-built clients (tests); otherwise built from the options. */
  eks?: EKSClient;
  sts?: STSClient;
}

/** `aws` / `aws-cn` / `aws-us-gov` for a region. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

export class AwsClusters implements ClusterPort {
  private readonly options: AwsClientOptions;
  private readonly eksClients = new Map<string, EKSClient>();
  private readonly sts: STSClient;
  private readonly clusters = new PromiseCache<string, EksClusterInfo>();
  private readonly account = cachedOnce(() =>
    this.sts.send(new GetCallerIdentityCommand({})).then(
      (out) => {
        if (!out.Account) throw invalidInput('STS GetCallerIdentity returned no Account');
        return out.Account;
      },
      (err: unknown) => {
        throw mapAwsError(err, 'STS GetCallerIdentity');
      },
    ),
  );

  constructor(options: AwsClustersOptions) {
    const { eks, sts, ...clientOptions } = options;
    this.options = clientOptions;
    if (eks) this.eksClients.set(options.region, eks);
    this.sts = sts ?? withRequestHeaders(new STSClient(awsClientConfig(clientOptions)), clientOptions);
  }

  get region(): string {
    return this.options.region;
  }

  private eks(region: string): EKSClient {
    let client = this.eksClients.get(region);
    if (!client) {
      client = withRequestHeaders(new EKSClient(awsClientConfig({ ...this.options, region })), this.options);
      this.eksClients.set(region, client);
    }
    return client;
  }

  accountId(): Promise<string> {
    return this.account();
  }

  describeCluster(name: string, region?: string): Promise<EksClusterInfo> {
    const r = region ?? this.options.region;
    return this.clusters.get(`${r}/${name}`, () => this.load(name, r));
  }

  private async load(name: string, region: string): Promise<EksClusterInfo> {
    let cluster: Cluster | undefined;
    try {
      cluster = (await this.eks(region).send(new DescribeClusterCommand({ name }))).cluster;
    } catch (err) {
      if (awsErrorCode(err) === 'ResourceNotFoundException') throw invalidInput(`EKS cluster ${name} not found in ${region}`, err);
      throw mapAwsError(err, `EKS DescribeCluster ${name}`);
    }
    if (!cluster) throw invalidInput(`EKS cluster ${name} not found in ${region}`);
    const issuer = cluster.identity?.oidc?.issuer;
    if (!issuer) {
      throw invalidInput(
        `cluster ${name} has no OIDC issuer; enable IRSA: eksctl utils associate-iam-oidc-provider --cluster ${name} --region ${region} --approve`,
      );
    }
    const issuerHost = issuer.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    const accountId = await this.accountId();
    const partition = cluster.arn?.split(':')[1] || partitionOf(region);
    return {
      name,
      region,
      issuerHost,
      accountId,
      oidcProviderArn: `arn:${partition}:iam::${accountId}:oidc-provider/${issuerHost}`,
      ...(cluster.arn ? { arn: cluster.arn } : {}),
      ...(cluster.endpoint ? { endpoint: cluster.endpoint } : {}),
      ...(cluster.certificateAuthority?.data ? { caData: cluster.certificateAuthority.data } : {}),
    };
  }
}
