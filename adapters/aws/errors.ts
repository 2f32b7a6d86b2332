/**
 * Maps AWS SDK v3 errors (IAM, EKS, STS) and transport failures onto the provisioning target
 * error vocabulary (`lib/target-errors.ts`). The `name` of the result is what the state machine's
 * Retry/Catch match on; the original error is kept as `cause`.
 *
 * | AWS error                                                        | TargetError            | retry |
 * | ---------------------------------------------------------------- | ---------------------- | ----- |
 * | Throttling, ThrottlingException, RequestLimitExceeded, 429, …    | ThrottledError         | yes   |
 * | 5xx, ServiceFailure, ServiceUnavailable, timeouts, ECONNRESET, … | TransientError         | yes   |
 * | ConcurrentModification                                           | TransientError         | yes   |
 * | NoSuchEntity (writes; reads return null)                         | NotFoundError          | yes   |
 * | LimitExceeded                                                    | LimitExceededError     | no    |
 * | MalformedPolicyDocument                                          | MalformedPolicyError   | no    |
 * | AccessDenied, UnauthorizedOperation, InvalidClientTokenId, …     | AccessDeniedError      | no    |
 * | EntityAlreadyExists                                              | AlreadyExistsError     | no    |
 * | DeleteConflict                                                   | DeleteConflictError    | no    |
 * | ValidationError, InvalidInput, UnmodifiableEntity, InvalidParam… | InvalidInputError      | no    |
 * | anything else                                                    | UnexpectedTargetError  | no    |
 */
import { asSdkError, isNetworkError } from '../sdk-errors.js';
import { TargetError, accessDenied, invalidInput, limitExceeded, malformedPolicy, throttled, transient } from '../../lib/target-errors.js';

/** The entity exists already (create): not retried; the caller re-reads it. */
export const alreadyExists = (message: string, cause?: unknown) => new TargetError('AlreadyExistsError', message, false, cause);
/** A write named a missing entity. Retried: IAM is eventually consistent (NoSuchEntity right after CreateRole happens). */
export const notFound = (message: string, cause?: unknown) => new TargetError('NotFoundError', message, true, cause);
/** DeleteConflict: the entity still has dependents (policies, instance profiles): not retried. */
export const deleteConflict = (message: string, cause?: unknown) => new TargetError('DeleteConflictError', message, false, cause);
/** An error this adapter does not know: not retried (surfaces for a human). */
export const unexpected = (message: string, cause?: unknown) => new TargetError('UnexpectedTargetError', message, false, cause);

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

const TRANSIENT = new Set([
  'ServiceFailure',
  'ServiceFailureException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServerException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'ConcurrentModification',
  'ConcurrentModificationException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'NetworkingError',
  'AbortError',
]);

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
]);

const INVALID_INPUT = new Set([
  'ValidationError',
  'ValidationException',
  'InvalidInput',
  'InvalidInputException',
  'InvalidParameterException',
  'InvalidParameterValue',
  'InvalidRequestException',
  'UnmodifiableEntity',
  'UnmodifiableEntityException',
  'ClientException',
]);

/** The AWS error code: `Code` (query protocol) or `name`, e.g. `NoSuchEntity` / `NoSuchEntityException`. */
export function awsErrorCode(err: unknown): string {
  const o = asSdkError(err);
  if (!o) return typeof err;
  if (typeof o.Code === 'string' && o.Code !== '') return o.Code;
  return typeof o.name === 'string' ? o.name : 'Error';
}

const has = (set: Set<string>, code: string): boolean => set.has(code) || set.has(code.replace(/Exception$/, ''));

export { isNetworkError };

export const isNoSuchEntity = (err: unknown): boolean => {
  const code = awsErrorCode(err);
  return code === 'NoSuchEntity' || code === 'NoSuchEntityException';
};

const messageOf = (err: unknown): string => {
  const m = asSdkError(err)?.message;
  return typeof m === 'string' && m !== '' ? m : String(err);
};

/**
 * Converts an error of an AWS call into a TargetError (TargetErrors pass through). `context` names the
 * call for messages, e.g. `IAM CreateRole irsa-a`.
 */
export function mapAwsError(err: unknown, context: string): TargetError {
  if (err instanceof TargetError) return err;
  const code = awsErrorCode(err);
  const o = asSdkError(err);
  const status = typeof o?.$metadata?.httpStatusCode === 'number' ? o.$metadata.httpStatusCode : undefined;
  const message = messageOf(err);
  const text = `${context}: ${code}: ${message}`;

  if (has(THROTTLING, code) || o?.$retryable?.throttling === true || status === 429) return throttled(text, err);
  if (code === 'LimitExceeded' || code === 'LimitExceededException') return limitExceeded(`${context}: ${message}`, err);
  if (code === 'MalformedPolicyDocument' || code === 'MalformedPolicyDocumentException') return malformedPolicy(`${context}: ${message}`, err);
  if (has(ACCESS_DENIED, code)) return accessDenied(text, err);
  if (isNoSuchEntity(err) || code === 'ResourceNotFoundException') return notFound(text, err);
  if (code === 'EntityAlreadyExists' || code === 'EntityAlreadyExistsException') return alreadyExists(text, err);
  if (code === 'DeleteConflict' || code === 'DeleteConflictException') return deleteConflict(text, err);
  if (has(INVALID_INPUT, code)) return invalidInput(text, err);
  if (has(TRANSIENT, code) || o?.$fault === 'server' || (status !== undefined && status >= 500) || isNetworkError(err)) return transient(text, err);
  return unexpected(text, err);
}
