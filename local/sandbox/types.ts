/** Shared types of the local sandbox (IAM / STS / EKS / Kubernetes emulators). */

export type SandboxService = 'iam' | 'sts' | 'eks' | 'k8s' | 'gcp';

/** What a fault injector or latency function sees about one incoming call. */
export interface CallInfo {
  /** 1-based sequence number of the call since the last reset. */
  seq: number;
  service: SandboxService;
  /** IAM/STS/EKS operation name (`CreateRole`, `DescribeCluster`) or `<VERB> <resource>` for Kubernetes (`PATCH serviceaccounts`). */
  action: string;
  mutating: boolean;
  /** Request parameters useful for targeting: IAM query params, or `{ namespace, name }` for Kubernetes, `{ name }` for EKS. */
  params: Readonly<Record<string, string | undefined>>;
}

/** An injected failure, rendered in the protocol of the called service. */
export interface FaultSpec {
  /** HTTP status (e.g. 400 for IAM `Throttling`, 429/500/503 for Kubernetes). */
  status: number;
  /** IAM/EKS error code (`Throttling`, `ServiceFailure`) or Kubernetes Status reason (`TooManyRequests`, `InternalError`). */
  code: string;
  message?: string;
  /** When true the call is executed (state changes) and the error is returned afterwards: "committed, but the caller saw a failure". */
  afterExecute?: boolean;
  /** Adds a `Retry-After` header (seconds). */
  retryAfterSeconds?: number;
}

export type FaultInjector = (call: CallInfo) => FaultSpec | undefined | null | void;

export type LatencySpec = number | ((call: CallInfo) => number);

/** One recorded request. */
export interface CallRecord {
  seq: number;
  service: SandboxService;
  action: string;
  mutating: boolean;
  /** Epoch milliseconds when the request arrived. */
  at: number;
  params: Readonly<Record<string, string | undefined>>;
  /**
   * The deployed function the call was made for (`x-iam-mapping-function`, sent by the service's
   * own sandbox clients under `npm start`: `provisionPlan`, `drift`, …); absent for other callers
   * (the AWS CLI, kubectl, Google's clients).
   */
  caller?: string;
  /** Filled in when the response is sent. */
  status?: number;
  /** Error code / Kubernetes reason when the call failed. */
  errorCode?: string;
  /** True when the response came from the fault injector. */
  faulted?: boolean;
  durationMs?: number;
}

/** A protocol-level reply produced by a service emulator. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Error code (IAM code, EKS error type, Kubernetes reason) for the call log. */
  errorCode?: string;
  /** True when the call was a write that actually committed (used to trigger persistence). */
  committed?: boolean;
}

/** One resolved incoming call, before it is executed. */
export interface Operation {
  service: SandboxService;
  action: string;
  mutating: boolean;
  params: Record<string, string | undefined>;
  execute(): Reply | Promise<Reply>;
  renderFault(fault: FaultSpec): Reply;
}

export interface ClusterSpec {
  name: string;
  /** OIDC issuer URL; default `https://oidc.eks.<region>.amazonaws.com/id/<32 hex derived from name>`. */
  issuer?: string;
  /** Kubernetes version reported by DescribeCluster (default `1.31`). */
  version?: string;
}
