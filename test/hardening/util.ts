/** Shared helpers of the hardening suite: a raw keep-alive HTTP client with bounded concurrency and the contract checks. */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  /** What the request tries (for failure messages). */
  label: string;
  /** Statuses this request may get; any status < 500 when absent. */
  allowed?: readonly number[];
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export function rawClient(port: number, maxSockets = 20) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const send = (r: RawRequest): Promise<RawResponse> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers ?? {}, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(r.body);
    });
  return { send, close: () => agent.destroy() };
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Problems with a response against CONTRACT §2: never a 5xx here, and every 4xx is JSON with exactly
 * `{"error":{"code","message","details"}}` (details: objects with string path/message), no stack trace.
 */
export function contractProblems(res: RawResponse, method = 'GET'): string[] {
  const problems: string[] = [];
  if (res.status >= 500) problems.push(`status ${res.status}`);
  if (res.status < 400 || method === 'HEAD') return problems;
  if (!/^application\/json\b/.test(String(res.headers['content-type'] ?? ''))) problems.push(`content-type ${res.headers['content-type']}`);
  let body: any;
  try {
    body = JSON.parse(res.text);
  } catch {
    return [...problems, `body is not JSON: ${res.text.slice(0, 120)}`];
  }
  const keys = (o: unknown) => (o !== null && typeof o === 'object' && !Array.isArray(o) ? Object.keys(o).sort().join(',') : `<${typeof o}>`);
  if (keys(body) !== 'error') problems.push(`top-level keys ${keys(body)}`);
  const e = body?.error;
  if (keys(e) !== 'code,details,message') problems.push(`error keys ${keys(e)}`);
  if (typeof e?.code !== 'string' || !/^[A-Z_]+$/.test(e.code)) problems.push(`code ${JSON.stringify(e?.code)}`);
  if (typeof e?.message !== 'string' || e.message === '') problems.push('message missing');
  if (!Array.isArray(e?.details)) problems.push('details is not an array');
  else {
    for (const d of e.details) {
      if (d === null || typeof d !== 'object' || Array.isArray(d) || typeof d.path !== 'string' || typeof d.message !== 'string') {
        problems.push(`detail ${JSON.stringify(d)?.slice(0, 120)}`);
        break;
      }
    }
  }
  if (/\n\s+at |node_modules|\.ts:\d+|\.js:\d+/.test(res.text)) problems.push('stack trace in body');
  return problems;
}

/** Names of own properties of the built-in prototypes (to prove nothing was polluted). */
export function prototypeFingerprint(): string {
  const names = (o: object) => Reflect.ownKeys(o).map(String).sort().join(',');
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype].map(names).join('|');
}
