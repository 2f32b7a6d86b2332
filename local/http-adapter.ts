/**
 * Node HTTP ⇄ API Gateway HTTP API (payload format 2.0): the local stand-in for API Gateway, so
 * the deployed handlers run unchanged under `npm start` and in integration tests.
 */
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';
import type { HttpEvent, HttpResult } from '../functions/http.js';

export class BodyTooLargeError extends Error {}

/** Reads the body, refusing more than `limit` bytes (without buffering them). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(new BodyTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))); // one chunk (a small body): no copy
    req.on('error', reject);
  });
}

/**
 * How many `Authorization` fields the request has. Node keeps the first of repeated ones in
 * `req.headers` and drops the rest, so two credentials would pass as the first alone; the server
 * refuses an ambiguous one. A walk over the raw names, comparing only those of the right length.
 */
export function authorizationCount(req: IncomingMessage): number {
  const raw = req.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') count++;
  }
  return count;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => (n < 10 ? `0${n}` : String(n));
let timeSecond = -1;
let timeText = '';

/** `requestContext.time` as API Gateway writes it (`12/Mar/2020:19:03:58 +0000`); formatted once per second. */
export function requestTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second !== timeSecond) {
    const d = new Date(second * 1000);
    timeText = `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
    timeSecond = second;
  }
  return timeText;
}

const TEXTUAL = /^(?:text\/|application\/(?:[\w.+-]+\+)?(?:json|yaml|x-yaml|xml|x-www-form-urlencoded|javascript))/i;

export function toEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  routeKey: string,
  pathParameters: Readonly<Record<string, string>>,
  claims?: Record<string, unknown>,
): HttpEvent {
  const headers: Record<string, string> = {};
  const incoming = req.headers;
  for (const k in incoming) {
    const v = incoming[k];
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  }
  const query: Record<string, string> = {};
  if (url.search !== '') for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  // API Gateway passes textual bodies as strings and everything else base64-encoded. A body
  // declared textual that is not UTF-8 stays base64 (decoding it as UTF-8 would corrupt it).
  const contentType = headers['content-type'] ?? 'text/plain';
  const asText = body.length > 0 && (contentType === 'application/json' || TEXTUAL.test(contentType)) && isUtf8(body);
  const now = Date.now();
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    pathParameters,
    ...(body.length ? { body: asText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !asText,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now,
      ...(claims ? { authorizer: { jwt: { claims, scopes: null } } } : {}),
    },
  };
}

/**
 * A Lambda context good enough for middy and Powertools (remaining time, request id). A class, so
 * the no-op callbacks live once on the prototype: object-literal functions would be created and
 * named (tsx's keepNames: an `Object.defineProperty` each) on every request. The remaining-time
 * function is a per-instance closure assigned to `this` (no inferred name, so no naming), because
 * callers may take it off the object (middy's early timeout does) as Lambda's own allows.
 */
class LocalContext implements Context {
  readonly callbackWaitsForEmptyEventLoop = false;
  readonly functionVersion = '$LATEST';
  readonly memoryLimitInMB = '1024';
  readonly logStreamName = 'local';
  readonly invokedFunctionArn: string;
  readonly logGroupName: string;
  readonly getRemainingTimeInMillis: () => number;

  constructor(
    readonly functionName: string,
    readonly awsRequestId: string,
    timeoutMs: number,
  ) {
    const deadline = Date.now() + timeoutMs;
    this.getRemainingTimeInMillis = () => Math.max(0, deadline - Date.now());
    this.invokedFunctionArn = `arn:aws:lambda:local:000000000000:function:${functionName}`;
    this.logGroupName = `/aws/lambda/${functionName}`;
  }

  done(): void {}
  fail(): void {}
  succeed(): void {}
}

export function lambdaContext(functionName: string, requestId: string, timeoutMs = 29_000): Context {
  return new LocalContext(functionName, requestId, timeoutMs);
}

export function send(
  res: ServerResponse,
  result: HttpResult | { statusCode: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean },
): void {
  const headers: Record<string, string | number> = { ...(result.headers ?? {}) };
  if (result.body === undefined) {
    res.writeHead(result.statusCode, headers);
    res.end();
  } else if (result.isBase64Encoded) {
    const body = Buffer.from(result.body, 'base64');
    headers['content-length'] = body.length;
    res.writeHead(result.statusCode, headers);
    res.end(body);
  } else {
    // A text body leaves as a string: Node writes it with the head in one write (a Buffer would be a second, vectored one).
    headers['content-length'] = Buffer.byteLength(result.body, 'utf8');
    res.writeHead(result.statusCode, headers);
    if (result.body.length <= SLICE_UNITS) res.end(result.body, 'utf8');
    else writeSliced(res, result.body);
  }
}

type Reply = Parameters<typeof send>[1];

/**
 * Requests held until the end of the poll phase (`setImmediate`), then their handlers run in the
 * order given and each reply is sent as it completes. Under load one poll phase hands the local
 * server several requests, and run back to back the handlers find their code and data still in
 * the CPU caches (interleaved with the next request's read, parse and socket write they run cold,
 * at ~2.5× the cost), and their replies leave together — on loopback each socket write runs the
 * client's TCP receive path and wakes its thread, on a VM a cross-CPU interrupt, and written one
 * per handler the client had often gone back to sleep in between (the http-resolve benchmark:
 * wake-up interrupts per request 0.4–0.8 → 0.2; README). An idle server's single request waits
 * only for the end of the same loop turn. A handler that throws, or a reply that cannot be
 * written, goes to `fail` for that request alone.
 */
export function createRequestQueue(fail: (res: ServerResponse, error: unknown) => void): (res: ServerResponse, run: () => Promise<Reply>) => void {
  let pending: Array<{ res: ServerResponse; run: () => Promise<Reply> }> = [];
  const serve = async (res: ServerResponse, run: () => Promise<Reply>) => {
    try {
      send(res, await run());
    } catch (e) {
      fail(res, e);
    }
  };
  const runAll = () => {
    const batch = pending;
    pending = [];
    for (const { res, run } of batch) void serve(res, run);
  };
  return (res, run) => {
    if (pending.push({ res, run }) === 1) setImmediate(runAll);
  };
}

/** UTF-16 units of a large text body encoded and written per event-loop turn (4 MB at once blocked the loop ~40 ms). */
const SLICE_UNITS = 256 * 1024;

/** Writes `text` in slices, one per turn of the event loop (never splitting a surrogate pair), then ends the response. */
function writeSliced(res: ServerResponse, text: string, from = 0): void {
  if (res.destroyed) return;
  let end = Math.min(text.length, from + SLICE_UNITS);
  const last = text.charCodeAt(end - 1);
  if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--; // a high surrogate goes with its pair
  if (end === text.length) {
    res.end(text.slice(from), 'utf8');
    return;
  }
  res.write(text.slice(from, end), 'utf8');
  setImmediate(writeSliced, res, text, end);
}
