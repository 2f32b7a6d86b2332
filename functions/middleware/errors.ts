/**
 * The one place where errors become responses: every failure leaves as the contract's body
 * `{"error":{"code","message","details"}}` with its status — never a stack trace. Unexpected
 * errors are logged with the request id and answered 500 INTERNAL.
 */
import type { MiddlewareObj } from '@middy/core';
import { AppError, type ErrorCode } from '../../lib/errors.js';
import { json, type HttpResult } from '../http.js';
import { logger } from '../observability.js';

/** Errors thrown by middy's own middlewares (@middy/util createError) carry a statusCode. */
const HTTP_ERROR_CODES: Record<number, { code: ErrorCode; message?: string }> = {
  400: { code: 'INVALID_REQUEST' },
  404: { code: 'NOT_FOUND', message: 'no such route' },
  405: { code: 'METHOD_NOT_ALLOWED' },
  413: { code: 'PAYLOAD_TOO_LARGE' },
  415: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type must be application/json' },
  422: { code: 'INVALID_REQUEST', message: 'request body is not valid JSON' },
};

export function errorResponse(error: unknown, requestId?: string): HttpResult {
  if (error instanceof AppError) {
    if (error.status >= 500) logger.warn('dependency failure', { code: error.code, error: describe(error), requestId });
    return json(error.status, { error: { code: error.code, message: error.message, details: error.details } }, error.headers);
  }
  const status = (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && HTTP_ERROR_CODES[status]) {
    const mapped = HTTP_ERROR_CODES[status];
    const code = mapped.code;
    const httpStatus = code === 'INVALID_REQUEST' ? 400 : status;
    // middy's JSON parser refuses `__proto__` / `constructor.prototype` keys with a 422 of its own.
    const forbiddenKey = status === 422 && /forbidden key/i.test(String((error as Error).message));
    const message = forbiddenKey ? 'request body contains a forbidden key (__proto__ or constructor.prototype)' : (mapped.message ?? (error as Error).message);
    return json(httpStatus, { error: { code, message, details: [{ path: code === 'NOT_FOUND' ? 'path' : 'body', message }] } });
  }
  logger.error('unexpected error', { error: describe(error), requestId });
  return json(500, {
    error: { code: 'INTERNAL', message: `internal error${requestId ? ` (request ${requestId})` : ''}`, details: [] },
  });
}

function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: String(error) };
  const cause = (error as { cause?: unknown }).cause;
  return { name: error.name, message: error.message, stack: error.stack, ...(cause instanceof Error ? { cause: cause.message } : {}) };
}

export const errorResponses = (): MiddlewareObj => ({
  onError: async (request) => {
    request.response = errorResponse(request.error, request.context?.awsRequestId);
  },
});
