import { IAMClient } from '@aws-sdk/client-iam';
import { EKSClient } from '@aws-sdk/client-eks';
import { STSClient } from '@aws-sdk/client-sts';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

/** AWS SDK clients pointed at the sandbox (`maxAttempts: 1` unless overridden, so faults surface directly). */
/** SDK clients for the sandbox; `as: 'service'` signs with the service's own access key (the provisioning role's rules apply), else as an admin. */
export function awsClients(baseUrl: string, maxAttempts = 1, as: 'admin' | 'service' = 'admin') {
  const config = {
    endpoint: `${baseUrl}/sandbox/aws`,
    region: 'us-east-1',
    credentials: as === 'service' ? { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } : credentials,
    maxAttempts,
  };
  return { iam: new IAMClient(config), eks: new EKSClient(config), sts: new STSClient(config) };
}

export function coreV1(baseUrl: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sandbox', server: `${baseUrl}/sandbox/k8s`, skipTLSVerify: true }],
    users: [{ name: 'sandbox' }],
    contexts: [{ name: 'sandbox', cluster: 'sandbox', user: 'sandbox' }],
    currentContext: 'sandbox',
  });
  return kc.makeApiClient(CoreV1Api);
}

export { onPath } from '../helpers/cli-env.js';

/** Builds an IRSA trust policy for a provider ARN, `ns:sa` subject. */
export function irsaTrust(providerArn: string, subject = 'system:serviceaccount:anyscale-operator:worker'): string {
  const host = providerArn.split(':oidc-provider/')[1] as string;
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${host}:sub`]: subject, [`${host}:aud`]: 'sts.amazonaws.com' } },
      },
    ],
  });
}

export const s3Policy = (bucket = 'b'): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] });
