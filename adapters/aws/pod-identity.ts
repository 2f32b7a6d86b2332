/**
 * PodIdentityPort over EKS: pod identity associations (Create/List/Describe/Update/Delete) and
 * DescribeAddon, one EKS client per region. Errors go through mapAwsError (ResourceInUseException →
 * AlreadyExistsError, ResourceNotFoundException → NotFoundError, InvalidParameterException →
 * InvalidInputError, throttling/5xx → retried); reads of something missing answer null.
 */
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribeAddonCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  paginateListPodIdentityAssociations,
  UpdatePodIdentityAssociationCommand,
  type PodIdentityAssociation,
} from '@aws-sdk/client-eks';
import type { ClusterIdentity, PodIdentityAssociationInfo, PodIdentityAssociationSummary, PodIdentityPort } from '../../lib/ports.js';
import { invalidInput } from '../../lib/target-errors.js';
import { awsClientConfig, withRequestHeaders, type AwsClientOptions } from './clients.js';
import { awsErrorCode, mapAwsError } from './errors.js';

const isNotFound = (err: unknown) => /^ResourceNotFound(Exception)?$/.test(awsErrorCode(err));

function info(a: PodIdentityAssociation | undefined, context: string): PodIdentityAssociationInfo {
  if (!a?.associationId || !a.clusterName || !a.namespace || !a.serviceAccount || !a.roleArn || !a.associationArn) {
    throw invalidInput(`${context}: EKS returned an incomplete association`);
  }
  return {
    clusterName: a.clusterName,
    namespace: a.namespace,
    serviceAccount: a.serviceAccount,
    roleArn: a.roleArn,
    associationId: a.associationId,
    associationArn: a.associationArn,
    tags: { ...(a.tags ?? {}) },
  };
}

export class AwsPodIdentity implements PodIdentityPort {
  private readonly clients = new Map<string, EKSClient>();

  constructor(
    private readonly options: AwsClientOptions,
    client?: EKSClient,
  ) {
    if (client) this.clients.set(options.region, client);
  }

  private eks(cluster: ClusterIdentity): EKSClient {
    const region = cluster.region ?? this.options.region;
    let client = this.clients.get(region);
    if (!client) {
      client = withRequestHeaders(new EKSClient(awsClientConfig({ ...this.options, region })), this.options);
      this.clients.set(region, client);
    }
    return client;
  }

  async listAssociations(cluster: ClusterIdentity, filter: { namespace?: string; serviceAccount?: string } = {}): Promise<PodIdentityAssociationSummary[]> {
    const out: PodIdentityAssociationSummary[] = [];
    try {
      for await (const page of paginateListPodIdentityAssociations(
        { client: this.eks(cluster), pageSize: 100 },
        {
          clusterName: cluster.name,
          ...(filter.namespace ? { namespace: filter.namespace } : {}),
          ...(filter.serviceAccount ? { serviceAccount: filter.serviceAccount } : {}),
        },
      )) {
        for (const a of page.associations ?? []) {
          if (!a.associationId || !a.namespace || !a.serviceAccount) continue;
          out.push({
            clusterName: a.clusterName ?? cluster.name,
            namespace: a.namespace,
            serviceAccount: a.serviceAccount,
            associationId: a.associationId,
            associationArn: a.associationArn ?? '',
          });
        }
      }
    } catch (err) {
      throw mapAwsError(err, `EKS ListPodIdentityAssociations ${cluster.name}`);
    }
    return out;
  }

  async describeAssociation(cluster: ClusterIdentity, associationId: string): Promise<PodIdentityAssociationInfo | null> {
    const context = `EKS DescribePodIdentityAssociation ${cluster.name}/${associationId}`;
    try {
      const out = await this.eks(cluster).send(new DescribePodIdentityAssociationCommand({ clusterName: cluster.name, associationId }));
      return info(out.association, context);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw mapAwsError(err, context);
    }
  }

  async createAssociation(
    cluster: ClusterIdentity,
    input: { namespace: string; serviceAccount: string; roleArn: string; tags: Record<string, string> },
  ): Promise<PodIdentityAssociationInfo> {
    const context = `EKS CreatePodIdentityAssociation ${cluster.name} ${input.namespace}/${input.serviceAccount}`;
    try {
      const out = await this.eks(cluster).send(
        new CreatePodIdentityAssociationCommand({
          clusterName: cluster.name,
          namespace: input.namespace,
          serviceAccount: input.serviceAccount,
          roleArn: input.roleArn,
          tags: input.tags,
        }),
      );
      return info(out.association, context);
    } catch (err) {
      throw mapAwsError(err, context);
    }
  }

  async updateAssociation(cluster: ClusterIdentity, associationId: string, roleArn: string): Promise<PodIdentityAssociationInfo> {
    const context = `EKS UpdatePodIdentityAssociation ${cluster.name}/${associationId}`;
    try {
      const out = await this.eks(cluster).send(new UpdatePodIdentityAssociationCommand({ clusterName: cluster.name, associationId, roleArn }));
      return info(out.association, context);
    } catch (err) {
      throw mapAwsError(err, context);
    }
  }

  async deleteAssociation(cluster: ClusterIdentity, associationId: string): Promise<void> {
    try {
      await this.eks(cluster).send(new DeletePodIdentityAssociationCommand({ clusterName: cluster.name, associationId }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw mapAwsError(err, `EKS DeletePodIdentityAssociation ${cluster.name}/${associationId}`);
    }
  }

  async addonStatus(cluster: ClusterIdentity, addonName: string): Promise<string | null> {
    try {
      const out = await this.eks(cluster).send(new DescribeAddonCommand({ clusterName: cluster.name, addonName }));
      return out.addon?.status ?? 'UNKNOWN';
    } catch (err) {
      if (isNotFound(err)) return null;
      throw mapAwsError(err, `EKS DescribeAddon ${cluster.name} ${addonName}`);
    }
  }
}
