/**
 * The error vocabulary of provisioning targets (IAM, EKS/STS, Kubernetes), by what the workflow
 * should do about them. An error's `name` is what Step Functions' Retry/Catch match on
 * (`ErrorEquals` in workflow/provisioning.asl.yml), so these names are part of the state
 * machine's contract: every name there is a member of `WorkflowErrorName` or a Step Functions
 * built-in (`States.*`, `Lambda.*`) — test/provisioning-workflow/error-names.test.ts checks it.
 *
 * Adapters map their SDK's errors onto this vocabulary in one place each (adapters/aws/errors.ts,
 * adapters/k8s/service-accounts.ts `mapKubeError`); the core matches with `isTargetError`, never
 * by comparing strings.
 */

/** Every target error name with whether the state machine retries it. */
export const TARGET_ERRORS = {
  /** Rate limited (IAM `Throttling`, Kubernetes 429): retried with backoff. */
  ThrottledError: { retryable: true },
  /** 5xx, timeouts, connection resets, IAM ConcurrentModification: retried with backoff. */
  TransientError: { retryable: true },
  /** Kubernetes resourceVersion conflict (409), or the object was deleted meanwhile: re-read and retry. */
  ConflictError: { retryable: true },
  /** The role was created moments ago and IAM has not propagated it yet: retried. */
  NotReadyError: { retryable: true },
  /** A write named a missing entity. Retried: IAM is eventually consistent (NoSuchEntity right after CreateRole happens). */
  NotFoundError: { retryable: true },
  /** An IAM quota such as ACLSizePerRole: not retried. */
  LimitExceededError: { retryable: false },
  MalformedPolicyError: { retryable: false },
  AccessDeniedError: { retryable: false },
  InvalidInputError: { retryable: false },
  /** The entity exists already (create): not retried; the caller re-reads it. */
  AlreadyExistsError: { retryable: false },
  /** IAM DeleteConflict: the entity still has dependents (policies, instance profiles). */
  DeleteConflictError: { retryable: false },
  /** The resource exists but lacks our ownership marks (and the config does not adopt it). */
  NotOwnedError: { retryable: false },
  /** A newer config version is being provisioned: this run stops without writing. */
  SupersededError: { retryable: false },
  /** An error the adapter does not know: not retried (surfaces for a human). */
  UnexpectedTargetError: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

export type TargetErrorName = keyof typeof TARGET_ERRORS;

/**
 * Names a workflow step may fail with: the target errors, plus the store being unavailable
 * (`DependencyUnavailableError` of lib/errors.ts, retried) and a plan that cannot be carried out
 * (`PlanError` of lib/provisioning/errors.ts, not retried).
 */
export const WORKFLOW_ERRORS = {
  ...TARGET_ERRORS,
  DependencyUnavailableError: { retryable: true },
  PlanError: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

export type WorkflowErrorName = keyof typeof WORKFLOW_ERRORS;

const namesWhere = (retryable: boolean) => (Object.keys(WORKFLOW_ERRORS) as WorkflowErrorName[]).filter((n) => WORKFLOW_ERRORS[n].retryable === retryable);

/** The names the state machine retries (derived from the table above). */
export const RETRYABLE_ERRORS: readonly WorkflowErrorName[] = namesWhere(true);

export const isWorkflowErrorName = (name: string): name is WorkflowErrorName => Object.hasOwn(WORKFLOW_ERRORS, name);

/** Whether an error caught by the state machine (`{Error, Cause}` of a Catch) has this name. */
export const caughtIs = (caught: { Error: string }, name: WorkflowErrorName): boolean => caught.Error === name;

/** The kind of resource a target error is about (as in a run's `resources[].kind`). */
export type TargetResourceKind = 'iam-role' | 'instance-profile' | 'service-account' | 'pod-identity-association' | 'gcp-service-account' | 'gcp-iam-member';

export class TargetError<N extends TargetErrorName = TargetErrorName> extends Error {
  override readonly name: N;
  readonly retryable: boolean;
  /** The resource the error is about, when the thrower knows it (e.g. the role a NotOwnedError left alone). */
  readonly resource?: { kind: TargetResourceKind; name: string };

  constructor(name: N, message: string, options: { cause?: unknown; resource?: { kind: TargetResourceKind; name: string } } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = name;
    this.retryable = TARGET_ERRORS[name].retryable;
    if (options.resource) this.resource = options.resource;
  }
}

/** Whether `e` is a TargetError, optionally one of `names`. */
export function isTargetError<N extends TargetErrorName>(e: unknown, ...names: N[]): e is TargetError<N> {
  return e instanceof TargetError && (names.length === 0 || (names as TargetErrorName[]).includes(e.name as TargetErrorName));
}

/** A TargetError factory: `targetError('ThrottledError')(message, cause)`. */
const factory =
  <N extends TargetErrorName>(name: N) =>
  (message: string, cause?: unknown): TargetError<N> =>
    new TargetError(name, message, { cause });

export const throttled = factory('ThrottledError');
export const transient = factory('TransientError');
export const conflict = factory('ConflictError');
export const notReady = factory('NotReadyError');
export const notFound = factory('NotFoundError');
export const limitExceeded = factory('LimitExceededError');
export const malformedPolicy = factory('MalformedPolicyError');
export const accessDenied = factory('AccessDeniedError');
export const invalidInput = factory('InvalidInputError');
export const alreadyExists = factory('AlreadyExistsError');
export const deleteConflict = factory('DeleteConflictError');
export const superseded = factory('SupersededError');
export const unexpected = factory('UnexpectedTargetError');

/** The resource exists without our ownership marks and was left alone; `resource` names it. */
export const notOwned = (resource: { kind: TargetResourceKind; name: string }, message: string): TargetError<'NotOwnedError'> =>
  new TargetError('NotOwnedError', message, { resource });
