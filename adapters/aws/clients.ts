/** Shared AWS SDK client configuration for the provisioning adapters (IAM, EKS, STS). */
import type { AbsoluteLocation, AwsCredentialIdentity, AwsCredentialIdentityProvider, BuildHandlerOptions, BuildMiddleware } from '@smithy/types';

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
  /**
   * Extra headers for every request, asked per request (local only: the sandbox records
   * `x-iam-mapping-function`, the function a call is made for). Never set deployed.
   */
  requestHeaders?: () => Record<string, string>;
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

/** What `withRequestHeaders` needs of an SDK client: its middleware stack (any client's, whatever its input/output types). */
interface WithMiddlewareStack {
  middlewareStack: { add(middleware: never, options: BuildHandlerOptions & AbsoluteLocation): void };
}

/** Adds `options.requestHeaders` to every request of `client` (a no-op without it); returns the client. */
export function withRequestHeaders<C extends WithMiddlewareStack>(client: C, options: Pick<AwsClientOptions, 'requestHeaders'>): C {
  const headersOf = options.requestHeaders;
  if (!headersOf) return client;
  const middleware: BuildMiddleware<object, object> = (next) => (args) => {
    const request = args.request as { headers?: Record<string, string> } | undefined;
    if (request?.headers) Object.assign(request.headers, headersOf());
    return next(args);
  };
  client.middlewareStack.add(middleware as never, { step: 'build', name: 'iamMappingRequestHeaders' });
  return client;
}
