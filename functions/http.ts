/** HTTP helpers shared by the thin handlers: API Gateway HTTP API (payload v2) in and out. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { AppError } from '../lib/errors.js';
import type { Principal } from '../lib/auth.js';

export type HttpEvent = APIGatewayProxyEventV2 & {
  requestContext: APIGatewayProxyEventV2['requestContext'] & {
    authorizer?: { jwt?: { claims?: Record<string, unknown>; scopes?: string[] | null } };
  };
};
export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string> };
export type HttpContext = Context & { principal?: Principal };

/** Largest request body accepted (a 25,000-rule config is about 3 MB of JSON). */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export function header(event: HttpEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const direct = headers[name] ?? headers[name.toLowerCase()];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export function pathParam(event: HttpEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined || value === '') throw new AppError('INVALID_REQUEST', `missing path parameter ${name}`, [{ path: name, message: 'required' }]);
  try {
    return decodeURIComponent(value);
  } catch {
    // A malformed escape such as `%E0%A4%A` or a lone `%`: the client's mistake, not a 500.
    throw new AppError('INVALID_REQUEST', `path parameter ${name} is not valid percent-encoding`, [{ path: name, message: 'malformed percent-encoding' }]);
  }
}

export function queryFlag(event: HttpEvent, name: string): boolean {
  const v = event.queryStringParameters?.[name];
  return v !== undefined && ['', 'true', '1', 'yes'].includes(v.toLowerCase());
}

/** The request body as text: base64 decoded, size-checked (413), and required to be UTF-8. */
export function bodyText(event: HttpEvent): string {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    throw new AppError('PAYLOAD_TOO_LARGE', `request body is ${bytes.length} bytes; the limit is ${MAX_BODY_BYTES}`, [
      { path: 'body', message: `at most ${MAX_BODY_BYTES} bytes` },
    ]);
  }
  if (!event.isBase64Encoded) return raw;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AppError('INVALID_REQUEST', 'request body is not valid UTF-8', [{ path: 'body', message: 'must be UTF-8 text' }]);
  }
}

/** Does the client prefer YAML (`Accept: application/yaml`) over JSON? */
export function wantsYaml(event: HttpEvent): boolean {
  const accept = (header(event, 'accept') ?? '').toLowerCase();
  if (!/(?:application|text)\/(?:x-)?yaml/.test(accept)) return false;
  const yamlAt = accept.search(/(?:application|text)\/(?:x-)?yaml/);
  const jsonAt = accept.indexOf('application/json');
  return jsonAt < 0 || yamlAt < jsonAt;
}
