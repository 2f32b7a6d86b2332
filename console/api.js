// @ts-check
/** The console's HTTP client: same-origin calls to the API with the pasted bearer token. */

/**
 * @typedef {{ path: string, message: string, line?: number, column?: number, rule_index?: number, position?: number, [k: string]: unknown }} ErrorDetail
 * @typedef {{ code: string, message: string, details: ErrorDetail[] }} ApiErrorBody
 * @typedef {{ status: number, ok: boolean, headers: Headers, text: string, json: any, error: ApiErrorBody | null }} ApiResult
 */

const TOKEN_KEY = 'iam-mapping.token';

export const session = {
  /** @returns {string | null} */
  token: () => sessionStorage.getItem(TOKEN_KEY),
  /** @param {string} t */
  setToken: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
  /** @returns {string | null} */
  cloud: () => sessionStorage.getItem('iam-mapping.cloud'),
  /** @param {string} c */
  setCloud: (c) => sessionStorage.setItem('iam-mapping.cloud', c),
};

/**
 * What the token says about its holder (display only: the server verifies it).
 * @param {string} token
 * @returns {{ subject: string, roles: string[], expires: Date | null } | null}
 */
export function describeToken(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const json = JSON.parse(new TextDecoder().decode(bytes));
    const role = json.role;
    const roles = Array.isArray(role)
      ? role.map(String)
      : typeof role === 'string'
        ? role
            .replace(/^\[(.*)\]$/, '$1')
            .split(/[\s,]+/)
            .filter(Boolean)
        : [];
    return { subject: String(json.email ?? json.sub ?? 'unknown'), roles, expires: typeof json.exp === 'number' ? new Date(json.exp * 1000) : null };
  } catch {
    return null;
  }
}

export class ApiError extends Error {
  /** @param {ApiResult} result */
  constructor(result) {
    super(result.error ? `${result.error.code}: ${result.error.message}` : `HTTP ${result.status}`);
    this.result = result;
  }
}

/** @type {(() => void) | null} */
let onUnauthorized = null;
/** @param {() => void} fn */
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {{ body?: string, contentType?: string, accept?: string, ifMatch?: string, expect?: number[] }} [options]
 * @returns {Promise<ApiResult>} ok results, and the statuses listed in `expect`; others throw ApiError
 */
export async function api(method, path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: options.accept ?? 'application/json' };
  const token = session.token();
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  if (options.ifMatch) headers['if-match'] = options.ifMatch;
  let res;
  try {
    res = await fetch(path, { method, headers, body: options.body, cache: 'no-store' });
  } catch (e) {
    throw new ApiError({
      status: 0,
      ok: false,
      headers: new Headers(),
      text: '',
      json: null,
      error: { code: 'UNREACHABLE', message: `the API cannot be reached (${String(e)})`, details: [] },
    });
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  const error =
    json && json.error && typeof json.error.code === 'string'
      ? { code: json.error.code, message: String(json.error.message), details: Array.isArray(json.error.details) ? json.error.details : [] }
      : null;
  /** @type {ApiResult} */
  const result = { status: res.status, ok: res.ok, headers: res.headers, text, json, error };
  if (res.status === 401 && onUnauthorized) onUnauthorized();
  if (res.ok || options.expect?.includes(res.status)) return result;
  throw new ApiError(result);
}

/** @param {string} cloud @param {string} [rest] */
export const cloudPath = (cloud, rest = '') => `/v1/clouds/${encodeURIComponent(cloud)}${rest}`;
