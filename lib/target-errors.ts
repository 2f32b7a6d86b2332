/**
 * Errors of provisioning targets (IAM, EKS, Kubernetes), by what the workflow should do about
 * them. Their `name` is what Step Functions' Retry/Catch match on (ErrorEquals), so they are
 * part of the state machine's contract.
 */
export class TargetError extends Error {
  constructor(
    name: string,
    message: string,
    readonly retryable: boolean,
    cause?: unknown,
  ) {
    super(message);
    this.name = name;
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** Rate limited (IAM `Throttling`, Kubernetes 429): retried with backoff. */
export const throttled = (message: string, cause?: unknown) => new TargetError('ThrottledError', message, true, cause);
/** 5xx, timeouts, connection resets: retried with backoff. */
export const transient = (message: string, cause?: unknown) => new TargetError('TransientError', message, true, cause);
/** Kubernetes resourceVersion conflict (409): re-read and retry. */
export const conflict = (message: string, cause?: unknown) => new TargetError('ConflictError', message, true, cause);
/** An IAM quota such as ACLSizePerRole: not retried. */
export const limitExceeded = (message: string, cause?: unknown) => new TargetError('LimitExceededError', message, false, cause);
export const malformedPolicy = (message: string, cause?: unknown) => new TargetError('MalformedPolicyError', message, false, cause);
export const accessDenied = (message: string, cause?: unknown) => new TargetError('AccessDeniedError', message, false, cause);
export const invalidInput = (message: string, cause?: unknown) => new TargetError('InvalidInputError', message, false, cause);
/** The resource exists but lacks our ownership marks (and the config does not adopt it): not retried. */
export const notOwned = (message: string) => new TargetError('NotOwnedError', message, false);
/** The role was created moments ago and IAM has not propagated it yet: retried. */
export const notReady = (message: string) => new TargetError('NotReadyError', message, true);
/** A newer config version is being provisioned: this run stops without writing. */
export const superseded = (message: string) => new TargetError('SupersededError', message, false);

export const RETRYABLE_ERRORS = ['ThrottledError', 'TransientError', 'ConflictError', 'NotReadyError'] as const;
