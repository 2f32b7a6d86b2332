/**
 * The HTTP edge's helpers: API Gateway HTTP API (payload v2) in and out, and the one place
 * request bodies (JSON, YAML, empty) and `If-Match` are parsed.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import Negotiator from 'negotiator';
import * as z from 'zod/mini';
import type { Principal } from '../lib/auth.js';
import { issuesToDetails } from '../lib/config/issues.js';
import { AppError } from '../lib/errors.js';
import { jsonSteps } from '../lib/json-sliced.js';
import { runStepsSliced } from '../lib/steps.js';
import type { IfMatch } from '../lib/ports.js';
import { fastParser, MISS } from './http/fast-parse.js';
import type { Schema } from './http/route.js';

export type HttpEvent = APIGatewayProxyEventV2 & {
  requestContext: APIGatewayProxyEventV2['requestContext'] & {
    authorizer?: { jwt?: { claims?: Record<string, unknown>; scopes?: string[] | null } };
  };
};
export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string> };
export type HttpContext = Context & { principal?: Principal };

/** Largest request body accepted (a 25,000-rule config is about 3 MB of JSON). */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

const jsonHeaders = (headers: Record<string, string>) => ({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });

/** Array elements past which a reply is serialised in slices (jsonReply). */
const SLICED_FROM = 256;

const longArray = (v: unknown): boolean => Array.isArray(v) && v.length > SLICED_FROM;

/** A long array at `body` or up to `depth` objects down (a config's rules are two down: dataplane_iam_mapping.rules). */
function hasLongArray(body: unknown, depth = 2): boolean {
  if (longArray(body)) return true;
  if (depth === 0 || body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const record = body as Record<string, unknown>;
  for (const key in record) if (hasLongArray(record[key], depth - 1)) return true;
  return false;
}

/**
 * json(), but a reply holding a long array (at its top or up to two levels down: the rules of a config,
 * the warnings of a PUT, the findings of a drift report) is serialised in slices that give the
 * event loop a turn (a 25,000-rule config's PUT can answer with ~19,000 lint warnings: one
 * JSON.stringify of that blocked a local server for ~70 ms). Same text as JSON.stringify.
 */
export function jsonReply(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult | Promise<HttpResult> {
  if (!hasLongArray(body)) return json(statusCode, body, headers); // no promise: the hot path's replies are small
  return runStepsSliced(jsonSteps(body, { canonical: false, hash: false })).then(({ text }) => ({ statusCode, headers: jsonHeaders(headers), body: text }));
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: jsonHeaders(headers), body: JSON.stringify(body) };
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
  if (!value.includes('%')) return value; // nothing to decode
  try {
    return decodeURIComponent(value);
  } catch {
    // A malformed escape such as `%E0%A4%A` or a lone `%`: the client's mistake, not a 500.
    throw new AppError('INVALID_REQUEST', `path parameter ${name} is not valid percent-encoding`, [{ path: name, message: 'malformed percent-encoding' }]);
  }
}

/** A query flag's value: `''`, `true`, `1`, `yes` (any case) are on. */
export function flag(value: string | undefined): boolean {
  return value !== undefined && ['', 'true', '1', 'yes'].includes(value.toLowerCase());
}

/** The request body as text: base64 decoded, size-checked (413), required to be UTF-8, without a leading byte order mark. */
export function bodyText(event: HttpEvent): string {
  const raw = event.body ?? '';
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short text bodies need no byte count.
  const size = event.isBase64Encoded ? Buffer.byteLength(raw, 'base64') : raw.length * 3 > MAX_BODY_BYTES ? Buffer.byteLength(raw, 'utf8') : 0;
  if (size > MAX_BODY_BYTES) {
    throw new AppError('PAYLOAD_TOO_LARGE', `request body is ${size} bytes; the limit is ${MAX_BODY_BYTES}`, [
      { path: 'body', message: `at most ${MAX_BODY_BYTES} bytes` },
    ]);
  }
  // A leading byte order mark (U+FEFF) is not part of the document (JSON.parse refuses it); the base64 path's TextDecoder drops it too.
  if (!event.isBase64Encoded) return raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  const bytes = Buffer.from(raw, 'base64');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AppError('INVALID_REQUEST', 'request body is not valid UTF-8', [{ path: 'body', message: 'must be UTF-8 text' }]);
  }
}

/** What GET …/iam-mapping can answer, JSON first (the default, and the pick for any-type wildcards and for ties it leads). */
const CONFIG_MEDIA_TYPES = ['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/**
 * Does the client prefer YAML (`Accept: application/yaml`) over JSON? Negotiated with `negotiator`
 * as the large-answer guard does Accept-Encoding (q-values, wildcards, `q=0`): `application/yaml;q=0.1,
 * application/json` is JSON. A header that names no YAML type, or accepts neither, is JSON.
 */
export function wantsYaml(acceptHeader: string | undefined): boolean {
  if (acceptHeader === undefined || !/yaml|text\/\*/i.test(acceptHeader)) return false;
  const chosen = new Negotiator({ headers: { accept: acceptHeader } }).mediaType(CONFIG_MEDIA_TYPES);
  return chosen !== undefined && chosen !== 'application/json';
}

/** Parses an If-Match header value: `*`, or a comma list of (optionally weak/quoted) etags. */
export function parseIfMatch(raw: string | undefined): IfMatch | undefined {
  if (raw === undefined) return undefined;
  const etags: string[] = [];
  for (const part of raw.split(',')) {
    let tag = part.trim();
    if (tag.startsWith('W/')) tag = tag.slice(2).trim();
    if (tag.length >= 2 && tag.startsWith('"') && tag.endsWith('"')) tag = tag.slice(1, -1).trim();
    if (tag === '*') return { kind: 'any' };
    if (tag !== '') etags.push(tag);
  }
  return { kind: 'etags', etags };
}

const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json(;|$)/i;
const NOT_JSON = 'request body is not valid JSON';
const FORBIDDEN_KEY = 'request body contains a forbidden key (__proto__ or constructor.prototype)';

/** `__proto__` or `constructor.prototype` anywhere in a JSON document (checked only when the text names them). */
function refuseForbiddenKeys(text: string): void {
  if (!text.includes('__proto__') && !text.includes('constructor')) return;
  JSON.parse(text, (key, value: unknown) => {
    if (key === '__proto__' || (key === 'constructor' && value !== null && typeof value === 'object' && Object.hasOwn(value, 'prototype'))) {
      throw new AppError('INVALID_REQUEST', FORBIDDEN_KEY, [{ path: 'body', message: FORBIDDEN_KEY }]);
    }
    return value;
  });
}

/**
 * A JSON request body parsed by `schema`: Content-Type must be JSON (415) unless the body is
 * optional and empty (then `{}`); not JSON → 400; each schema problem → a 400 detail naming the field.
 */
export function jsonBody(event: HttpEvent, schema: Schema, optional: boolean, what: string): unknown {
  const text = bodyText(event);
  let raw: unknown = {};
  if (!(optional && text.trim() === '')) {
    const contentType = header(event, 'content-type') ?? '';
    if (contentType !== 'application/json' && !JSON_TYPE.test(contentType)) {
      const message = 'Content-Type must be application/json';
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', message, [{ path: 'body', message }]);
    }
    try {
      raw = JSON.parse(text);
    } catch {
      throw new AppError('INVALID_REQUEST', NOT_JSON, [{ path: 'body', message: NOT_JSON }]);
    }
    refuseForbiddenKeys(text);
  }
  return parseWith(schema, raw, what);
}

/** `raw` parsed by `schema`; else 400 INVALID_REQUEST with one detail per problem, naming the field. */
export function parseWith(schema: Schema, raw: unknown, what: string): unknown {
  const fast = fastParser(schema);
  if (fast !== null) {
    const value = fast(raw);
    if (value !== MISS) return value; // what zod answers for this valid input (functions/http/fast-parse.ts)
  }
  const parsed = z.safeParse(schema, raw);
  if (parsed.success) return parsed.data;
  const details = issuesToDetails(parsed.error.issues, raw).map(({ path, message }) => ({ path, message }));
  throw new AppError('INVALID_REQUEST', `invalid ${what}: ${details[0]?.path || 'body'}: ${details[0]?.message}`, details);
}
