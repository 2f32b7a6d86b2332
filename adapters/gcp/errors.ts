/**
 * Maps the errors of Google's Node clients (gaxios' GaxiosError for IAM v1, the Storage client's
 * ApiError) and transport failures onto the provisioning target vocabulary (lib/target-errors.ts);
 * the one place that does so for Google Cloud.
 *
 * | Google error                                           | TargetError           | retry |
 * | ------------------------------------------------------ | --------------------- | ----- |
 * | 429 RESOURCE_EXHAUSTED                                 | ThrottledError        | yes   |
 * | 5xx, UNAVAILABLE, timeouts, ECONNRESET, …              | TransientError        | yes   |
 * | 409 ABORTED (IAM: stale etag), 412 (Storage: stale etag) | ConflictError       | yes   |
 * | 409 ALREADY_EXISTS                                     | AlreadyExistsError    | no    |
 * | 404 NOT_FOUND                                          | NotFoundError         | yes   |
 * | 401, 403 PERMISSION_DENIED                             | AccessDeniedError     | no    |
 * | 400 INVALID_ARGUMENT, FAILED_PRECONDITION              | InvalidInputError     | no    |
 * | anything else                                          | UnexpectedTargetError | no    |
 */
import { isNetworkError } from '../sdk-errors.js';
import { TargetError, accessDenied, alreadyExists, conflict, invalidInput, notFound, throttled, transient, unexpected } from '../../lib/target-errors.js';

interface GoogleLikeError {
  code?: unknown;
  status?: unknown;
  message?: unknown;
  response?: { status?: unknown; data?: unknown };
  errors?: unknown;
}

/** The HTTP status of a Google client error, or undefined (transport failures). */
export function googleStatus(e: unknown): number | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const g = e as GoogleLikeError;
  for (const v of [g.response?.status, g.status, g.code]) if (typeof v === 'number' && v >= 100 && v < 600) return v;
  return undefined;
}

/** Google's canonical error status (`ABORTED`, `ALREADY_EXISTS`, …) from the JSON error body, if any. */
function googleReason(e: unknown): string | undefined {
  const data = (e as GoogleLikeError | null)?.response?.data;
  const body = typeof data === 'string' ? safeJson(data) : data;
  const status = (body as { error?: { status?: unknown } } | undefined)?.error?.status;
  return typeof status === 'string' ? status : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function googleMessage(e: unknown): string {
  const data = (e as GoogleLikeError | null)?.response?.data;
  const body = typeof data === 'string' ? safeJson(data) : data;
  const m = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
  if (typeof m === 'string') return m;
  const msg = (e as GoogleLikeError | null)?.message;
  return typeof msg === 'string' ? msg : String(e);
}

/** `what` names the call, e.g. `setIamPolicy on sa@p.iam.gserviceaccount.com`. */
export function mapGoogleError(e: unknown, what: string): TargetError {
  if (e instanceof TargetError) return e as TargetError;
  const status = googleStatus(e);
  const reason = googleReason(e);
  const message = `Google Cloud ${what}: ${googleMessage(e)}`;
  if (status === undefined) return isNetworkError(e) ? transient(message, e) : unexpected(message, e);
  if (status === 429) return throttled(message, e);
  if (status >= 500) return transient(message, e);
  if (status === 412) return conflict(`${message} (the policy changed since it was read: its etag is stale)`, e);
  if (status === 409) return reason === 'ALREADY_EXISTS' || /already exists/i.test(message) ? alreadyExists(message, e) : conflict(message, e);
  if (status === 404) return notFound(message, e);
  if (status === 401 || status === 403) return accessDenied(message, e);
  if (status === 400) return invalidInput(message, e);
  return unexpected(message, e);
}
