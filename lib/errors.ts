/**
 * Domain errors. Every error a caller can cause is an AppError with a stable code and an HTTP
 * status; the HTTP layer maps them to the contract's body `{"error":{code,message,details}}`
 * in exactly one place (functions/middleware/errors.ts).
 */
export interface ErrorDetail {
  /** Dotted path of the offending field, e.g. `dataplane_iam_mapping.rules[3].selector`. */
  path: string;
  message: string;
  [extra: string]: unknown;
}

/**
 * An ErrorDetail path from its segments: `dataplane_iam_mapping.rules[3].selector`; a key that is
 * not a plain name is quoted, `provisioning.service_accounts["my.sa"]`, so every path reads back
 * unambiguously. `base` is prefixed (`provisioning`).
 */
export function formatPath(segments: ReadonlyArray<string | number>, base = ''): string {
  let out = base;
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export type ErrorCode =
  | 'INVALID_CONFIG'
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'NOT_ACCEPTABLE'
  | 'CONFLICT'
  | 'PRECONDITION_FAILED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'HEADER_TOO_LARGE'
  | 'NO_MATCHING_RULE'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL';

const STATUS: Record<ErrorCode, number> = {
  INVALID_CONFIG: 400,
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  HEADER_TOO_LARGE: 431,
  NO_MATCHING_RULE: 422,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** Extra response headers, e.g. Retry-After for 503. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = STATUS[code];
  }
}

/** A dependency (store, IAM, Kubernetes) is unreachable or throttling: the caller may retry. */
export class DependencyUnavailableError extends AppError {
  constructor(dependency: string, cause?: unknown, retryAfterSeconds = 1) {
    super('SERVICE_UNAVAILABLE', `${dependency} is unavailable; retry later`, [], {
      'Retry-After': String(retryAfterSeconds),
    });
    this.name = 'DependencyUnavailableError';
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}
