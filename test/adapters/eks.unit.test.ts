import { DescribeClusterCommand, EKSClient, ResourceNotFoundException } from '@aws-sdk/client-eks';
import { GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsClusters } from '../../adapters/aws/eks.js';

const eksMock = mockClient(EKSClient);
const stsMock = mockClient(STSClient);
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const issuer = 'https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789';

const clusters = () => new AwsClusters({ region: 'us-east-1', credentials });

beforeEach(() => {
  eksMock.reset();
  stsMock.reset();
  stsMock.on(GetCallerIdentityCommand).resolves({ Account: '111122223333', Arn: 'arn:aws:iam::111122223333:user/x', UserId: 'X' });
  eksMock.on(DescribeClusterCommand, { name: 'ml' }).resolves({
    cluster: {
      name: 'ml',
      arn: 'arn:aws:eks:us-east-1:111122223333:cluster/ml',
      endpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com',
      certificateAuthority: { data: 'Q0E=' },
      identity: { oidc: { issuer } },
    },
  });
});

describe('AwsClusters (mocked EKS/STS)', () => {
  it('maps DescribeCluster to the OIDC identity and caches it (one call for two lookups)', async () => {
    const c = clusters();
    const first = await c.describeCluster('ml');
    expect(first).toEqual({
      name: 'ml',
      region: 'us-east-1',
      arn: 'arn:aws:eks:us-east-1:111122223333:cluster/ml',
      issuerHost: 'oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789',
      oidcProviderArn: 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789',
      accountId: '111122223333',
      endpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com',
      caData: 'Q0E=',
    });
    const second = await c.describeCluster('ml', 'us-east-1');
    expect(second).toBe(first);
    expect(eksMock).toHaveReceivedCommandTimes(DescribeClusterCommand, 1);
  });

  it('caches the STS account (one GetCallerIdentity for many calls)', async () => {
    const c = clusters();
    await Promise.all([c.accountId(), c.accountId()]);
    expect(await c.accountId()).toBe('111122223333');
    await c.describeCluster('ml');
    expect(stsMock).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
  });

  it('does not cache failures', async () => {
    stsMock.reset();
    stsMock
      .on(GetCallerIdentityCommand)
      .rejectsOnce(new STSServiceException({ name: 'Throttling', $fault: 'client', message: 'Rate exceeded', $metadata: {} }))
      .resolves({ Account: '111122223333' });
    const c = clusters();
    await expect(c.accountId()).rejects.toMatchObject({ name: 'ThrottledError', retryable: true });
    expect(await c.accountId()).toBe('111122223333');
  });

  it('fails clearly (non-retryable) for a cluster without an OIDC issuer, or a missing cluster', async () => {
    eksMock.on(DescribeClusterCommand, { name: 'bare' }).resolves({ cluster: { name: 'bare', arn: 'arn:aws:eks:us-east-1:111122223333:cluster/bare' } });
    eksMock
      .on(DescribeClusterCommand, { name: 'ghost' })
      .rejects(new ResourceNotFoundException({ message: 'No cluster found for name: ghost.', $metadata: {} }));
    const c = clusters();
    await expect(c.describeCluster('bare')).rejects.toMatchObject({
      name: 'InvalidInputError',
      retryable: false,
      message: expect.stringContaining('cluster bare has no OIDC issuer; enable IRSA: eksctl utils associate-iam-oidc-provider --cluster bare'),
    });
    await expect(c.describeCluster('ghost')).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringContaining('not found') });
  });

  it('uses the partition of the cluster ARN', async () => {
    eksMock.on(DescribeClusterCommand, { name: 'cn' }).resolves({
      cluster: {
        name: 'cn',
        arn: 'arn:aws-cn:eks:cn-north-1:111122223333:cluster/cn',
        identity: { oidc: { issuer: 'https://oidc.eks.cn-north-1.amazonaws.com.cn/id/X' } },
      },
    });
    const id = await clusters().describeCluster('cn', 'cn-north-1');
    expect(id.oidcProviderArn).toBe('arn:aws-cn:iam::111122223333:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/X');
  });
});
