/**
 * Maps AWS SDK v3 errors (IAM, EKS, STS) and transport failures onto the provisioning target
 * error vocabulary (`lib/target-errors.ts`); the one place that does so for AWS. The `name` of
 * the result is what the state machine's Retry/Catch match on; the original error is `cause`.
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
 * | EntityAlreadyExists, ResourceInUseException (EKS)                | AlreadyExistsError     | no    |
 * | DeleteConflict                                                   | DeleteConflictError    | no    |
 * | ValidationError, InvalidInput, UnmodifiableEntity, InvalidParam… | InvalidInputError      | no    |
 * | anything else                                                    | UnexpectedTargetError  | no    |
 */
import { asSdkError, isNetworkError } from '../sdk-errors.js';
import {
  TargetError,
  isTargetError,
  accessDenied,
  alreadyExists,
  deleteConflict,
  invalidInput,
  limitExceeded,
  malformedPolicy,
  notFound,
  throttled,
  transient,
  unexpected,
} from '../../lib/target-errors.js';

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

/** The code, with or without the `Exception` suffix the JSON protocols add, is `base`. */
const is = (code: string, base: string): boolean => code === base || code === `${base}Exception`;

export const isNoSuchEntity = (err: unknown): boolean => is(awsErrorCode(err), 'NoSuchEntity');

const messageOf = (err: unknown): string => {
  const m = asSdkError(err)?.message;
  return typeof m === 'string' && m !== '' ? m : String(err);
};

/**
 * Converts an error of an AWS call into a TargetError (TargetErrors pass through). `context` names the
 * call for messages, e.g. `IAM CreateRole irsa-a`.
 */
export function mapAwsError(err: unknown, context: string): TargetError {
  if (isTargetError(err)) return err;
  const code = awsErrorCode(err);
  const o = asSdkError(err);
  const status = typeof o?.$metadata?.httpStatusCode === 'number' ? o.$metadata.httpStatusCode : undefined;
  const message = messageOf(err);
  const text = `${context}: ${code}: ${message}`;

  if (has(THROTTLING, code) || o?.$retryable?.throttling === true || status === 429) return throttled(text, err);
  if (is(code, 'LimitExceeded')) return limitExceeded(`${context}: ${message}`, err);
  if (is(code, 'MalformedPolicyDocument')) return malformedPolicy(`${context}: ${message}`, err);
  if (has(ACCESS_DENIED, code)) return accessDenied(text, err);
  if (is(code, 'NoSuchEntity') || is(code, 'ResourceNotFound')) return notFound(text, err);
  if (is(code, 'EntityAlreadyExists') || is(code, 'ResourceInUse')) return alreadyExists(text, err);
  if (is(code, 'DeleteConflict')) return deleteConflict(text, err);
  if (has(INVALID_INPUT, code)) return invalidInput(text, err);
  if (has(TRANSIENT, code) || o?.$fault === 'server' || (status !== undefined && status >= 500) || isNetworkError(err)) return transient(text, err);
  return unexpected(text, err);
}
