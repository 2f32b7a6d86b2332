/**
 * Maps AWS SDK / network errors raised by DynamoDB calls onto the domain error model.
 *
 * - Throttling, 5xx and transport failures → DependencyUnavailableError (HTTP 503 + Retry-After):
 *   the caller may retry. Raw SDK errors never escape for these (kept as `cause` for logs).
 * - ConditionalCheckFailedException is a control-flow signal: `TableClient.sendConditional`
 *   recognises it (with `isConditionalCheckFailed`) and answers false instead of throwing.
 * - Anything else (validation, missing table, access denied: deployment bugs) → AppError INTERNAL.
 */
import { AppError, DependencyUnavailableError } from '../../lib/errors.js';
import { asSdkError, isNetworkError } from '../sdk-errors.js';

const UNAVAILABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'ReplicatedWriteConflictException',
  'InternalServerError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'NetworkingError',
]);

export function errorName(err: unknown): string {
  const o = asSdkError(err);
  return o && typeof o.name === 'string' ? o.name : typeof err;
}

export function isConditionalCheckFailed(err: unknown): boolean {
  return errorName(err) === 'ConditionalCheckFailedException';
}

/** True for throttling, server-side (5xx) and transport/timeout failures: retryable by the caller. */
export function isUnavailableError(err: unknown, depth = 0): boolean {
  const o = asSdkError(err);
  if (!o || depth > 4) return false;
  if (typeof o.name === 'string' && UNAVAILABLE_NAMES.has(o.name)) return true;
  if (isNetworkError(o)) return true;
  if (o.$retryable?.throttling === true) return true;
  if (o.$fault === 'server') return true;
  const status = o.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  // Node wraps multi-address connect failures in an AggregateError; fetch/undici uses `cause`.
  if (Array.isArray(o.errors) && o.errors.some((e) => isUnavailableError(e, depth + 1))) return true;
  return isUnavailableError(o.cause, depth + 1);
}

/** Converts any error from a DynamoDB call into an AppError (AppErrors pass through unchanged). */
export function mapDynamoError(err: unknown, operation: string): AppError {
  if (err instanceof AppError) return err;
  if (isUnavailableError(err)) return new DependencyUnavailableError('DynamoDB', err);
  const wrapped = new AppError('INTERNAL', `DynamoDB ${operation} failed (${errorName(err)})`);
  (wrapped as { cause?: unknown }).cause = err;
  return wrapped;
}
