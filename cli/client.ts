/** The CLI's HTTP client: one place that turns responses and network failures into exit codes. */

/** Documented exit codes of `iam-mapping`. */
export const EXIT = {
  OK: 0,
  /** Invalid config/request, no matching rule (also: provisioning FAILED with --wait, changes with --fail-on-change, drift with --fail-on-drift). */
  INVALID: 1,
  USAGE: 2,
  AUTH: 3,
  NOT_FOUND: 4,
  CONFLICT: 5,
  UNAVAILABLE: 6,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** Extra lines printed under the message (error details). */
    readonly lines: string[] = [],
    readonly body?: ApiErrorBody,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface ApiErrorDetail {
  path: string;
  message: string;
  line?: number;
  column?: number;
  rule_index?: number;
  position?: number;
  [extra: string]: unknown;
}

export interface ApiErrorBody {
  code: string;
  message: string;
  details: ApiErrorDetail[];
}

interface Received {
  status: number;
  headers: Headers;
  text: string;
}
/** A 2xx: `json` is the route's reply (the CLI names it with `ReplyOf` of the route table). */
export interface OkResponse<T> extends Received {
  ok: true;
  json: T;
}
/** A status the caller allowed (`RequestOptions.allow`): `json` is the error body, if any (`errorBody`). */
export interface RefusedResponse extends Received {
  ok: false;
  json: unknown;
}
export type ApiResponse<T = unknown> = OkResponse<T> | RefusedResponse;

export interface RequestOptions {
  body?: string;
  contentType?: string;
  accept?: string;
  ifMatch?: string;
  /** Statuses the caller handles itself (no CliError thrown). */
  allow?: number[];
}

export function exitCodeFor(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.AUTH;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 409 || status === 412) return EXIT.CONFLICT;
  if (status === 400 || status === 413 || status === 415 || status === 422) return EXIT.INVALID;
  return EXIT.UNAVAILABLE;
}

export class Api {
  constructor(
    readonly endpoint: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 30_000,
  ) {}

  cloudPath(cloud: string, rest = ''): string {
    return `/v1/clouds/${encodeURIComponent(cloud)}${rest}`;
  }

  /** A 2xx as `T`; any other status throws a CliError, unless `allow`ed (then a RefusedResponse). */
  request<T = unknown>(method: string, path: string, options?: RequestOptions & { allow?: undefined }): Promise<OkResponse<T>>;
  request<T = unknown>(method: string, path: string, options: RequestOptions): Promise<ApiResponse<T>>;
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    if (!this.token) {
      throw new CliError(
        EXIT.AUTH,
        'no token: pass --token or set IAM_MAPPING_TOKEN (locally: export IAM_MAPPING_TOKEN=$(npm run --silent dev-token -- owner))',
      );
    }
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: options.accept ?? 'application/json' };
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
    const url = `${this.endpoint.replace(/\/+$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: options.body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (e as Error).message;
      throw new CliError(EXIT.UNAVAILABLE, `cannot reach ${this.endpoint} (${why}); is the server running? (--endpoint or IAM_MAPPING_ENDPOINT)`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const received = { status: res.status, headers: res.headers, text };
    // The server's reply as the route table types it: the contract the OpenAPI test holds it to.
    if (res.ok) return { ...received, ok: true, json: json as T };
    if (options.allow?.includes(res.status)) return { ...received, ok: false, json };
    throw apiError({ ...received, json });
  }
}

export function errorBody(res: { json: unknown }): ApiErrorBody | undefined {
  const e = (res.json as { error?: Partial<ApiErrorBody> } | null | undefined)?.error;
  if (e && typeof e.code === 'string' && typeof e.message === 'string')
    return { code: e.code, message: e.message, details: Array.isArray(e.details) ? e.details : [] };
  return undefined;
}

export function apiError(res: Received & { json: unknown }): CliError {
  const body = errorBody(res);
  const code = exitCodeFor(res.status);
  const message = body ? `${body.code}: ${body.message}` : `HTTP ${res.status}: ${res.text.slice(0, 200)}`;
  const hint =
    res.status === 401
      ? ['the token was refused: it is missing, expired, or from another server (locally: npm run --silent dev-token -- owner, with the same DATA_DIR)']
      : res.status === 412
        ? ['someone else changed it meanwhile; run `iam-mapping config get`, merge your edits, and retry']
        : [];
  return new CliError(code, message, [...(body?.details ?? []).map(formatDetail), ...hint], body);
}

export function formatDetail(d: ApiErrorDetail): string {
  const where: string[] = [];
  if (d.line !== undefined) where.push(`line ${d.line}${d.column !== undefined ? `, column ${d.column}` : ''}`);
  if (d.rule_index !== undefined && !String(d.message).startsWith(`rule ${d.rule_index}`)) where.push(`rule ${d.rule_index}`);
  if (d.position !== undefined) where.push(`selector character ${d.position}`);
  const message = String(d.message);
  // A message that already starts with its path ("x.y must be one of …") is shown once.
  if (d.path && message.startsWith(`${d.path} `) && where.length === 0) return message;
  return `${d.path || '(document)'}${where.length ? ` (${where.join(', ')})` : ''}: ${message}`;
}
