/** Shared AWS SDK client configuration for the provisioning adapters (IAM, EKS, STS). */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface AwsClientOptions {
  region: string;
  /** e.g. `http://127.0.0.1:4000/sandbox/aws`; omit for the real AWS endpoints. */
  endpoint?: string;
  /** Static credentials or a provider; omit to use the default provider chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Total SDK attempts incl. the first. Default 3: the state machine retries too. */
  maxAttempts?: number;
  /** Per-attempt request timeout in ms (TimeoutError → TransientError). Default 10000. */
  requestTimeoutMs?: number;
  /** TCP connect timeout in ms. Default 3000. */
  connectionTimeoutMs?: number;
}

/** The client configuration object every adapter's SDK client is built from. */
export function awsClientConfig(options: AwsClientOptions) {
  return {
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      throwOnRequestTimeout: true,
    },
  };
}
