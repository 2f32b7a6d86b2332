/**
 * What the AWS SDK and Node's HTTP stacks throw, shared by the adapters' error mapping: the
 * fields an SDK error may carry, and the transport failures (connection refused/reset, DNS,
 * socket timeouts) that are always worth a retry.
 */
export const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export interface SdkLikeError {
  name?: unknown;
  /** Query-protocol error code (IAM, STS). */
  Code?: unknown;
  /** Node system error code, e.g. ECONNREFUSED. */
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: { throttling?: unknown };
  cause?: unknown;
  /** AggregateError (Node's multi-address connect failures). */
  errors?: unknown;
}

export const asSdkError = (e: unknown): SdkLikeError | null => (e !== null && typeof e === 'object' ? e : null);

/** True if the error, its `cause` chain or its aggregated errors contain a transport failure. */
export function isNetworkError(err: unknown, depth = 0): boolean {
  const o = asSdkError(err);
  if (!o || depth > 4) return false;
  if (typeof o.code === 'string' && NETWORK_CODES.has(o.code)) return true;
  if (Array.isArray(o.errors) && o.errors.some((e) => isNetworkError(e, depth + 1))) return true;
  return isNetworkError(o.cause, depth + 1);
}
