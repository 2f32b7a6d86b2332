/**
 * Second HTTP front ends for bench/http-resolve.ts. Diagnosis only (BENCH_HANDLER=lean): one
 * built from the same parts as local/server.ts (route table, JWT verifier, body reader, API
 * Gateway event/context adapter, error mapping) and the same app, so a different resolve handler
 * can be measured over HTTP without touching the service's files.
 * - `replica`: the shipped handlers (control: should measure like local/server.ts);
 * - `lean`: resolve without middy — same authorization, Content-Type check, JSON parse, zod
 *   validation, resolution and error responses, minus middy's per-call AbortController,
 *   early-timeout timer and reviver-based JSON.parse;
 * - `floor`: the resolve route answers a constant body the size of a resolution, after the same
 *   JWT verification, body read and event/context adaptation: the transport floor of an
 *   authenticated POST, to split resolve's cost into transport and handler;
 * In every run, `startBareServer`: none of our code, only `node:http` — healthz's exact reply to a
 * GET and, to a POST, its body read (`data`/`end`) and a constant reply the size of a resolution:
 * what Node itself charges for the authenticated POST over the GET, the floor under any handler.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../app/app.js';
import { cloudOf } from '../functions/cloud.js';
import { healthzOperations } from '../functions/healthz.js';
import { MAX_BODY_BYTES, flag, json, type HttpContext, type HttpEvent, type HttpResult } from '../functions/http.js';
import { httpFunction } from '../functions/http/handler.js';
import { errorResponse } from '../functions/middleware/errors.js';
import { resolveOperations } from '../functions/resolve.js';
import { matchRoute, type FunctionName } from '../functions/routes.js';
import { can, principalFromClaims } from '../lib/auth.js';
import { resolveRequestSchema } from '../lib/config/schema.js';
import { issuesToDetails } from '../lib/config/issues.js';
import { AppError } from '../lib/errors.js';
import { createVerifier, unauthorized } from '../local/auth.js';
import { createRequestQueue, lambdaContext, readBody, send, toEvent } from '../local/http-adapter.js';

type Handler = (event: HttpEvent, context: HttpContext) => Promise<HttpResult>;

/** functions/resolve.ts without middy (behaviour kept: 401/403, 415, 400 on bad JSON or body). */
export function createLeanResolveHandler(getApp: () => App): Handler {
  return async (event, context) => {
    try {
      const principal = principalFromClaims(event.requestContext.authorizer?.jwt?.claims, process.env.ROLE_CLAIM ?? 'role');
      if (!principal) throw new AppError('UNAUTHORIZED', 'a bearer token is required');
      if (!can(principal, 'resolve')) throw new AppError('FORBIDDEN', `${principal.subject} may not resolve identities`);
      context.principal = principal;
      const contentType = event.headers?.['content-type'] ?? '';
      if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType)) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
      let body: unknown;
      try {
        body = JSON.parse(event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? ''));
      } catch {
        throw new AppError('INVALID_REQUEST', 'request body is not valid JSON', [{ path: 'body', message: 'request body is not valid JSON' }]);
      }
      // A `__proto__` key is an unknown key for the strict schema: rejected there.
      const parsed = resolveRequestSchema.safeParse(body);
      if (!parsed.success) {
        const details = issuesToDetails(parsed.error.issues, body).map(({ path, message }) => ({ path, message }));
        throw new AppError('INVALID_REQUEST', `invalid resolve request: ${details[0]?.path || 'body'}: ${details[0]?.message}`, details);
      }
      const answer = await getApp().resolution.resolve(cloudOf(event), parsed.data, { explain: flag(event.queryStringParameters?.explain) });
      return json(200, answer);
    } catch (e) {
      return errorResponse(e, context.awsRequestId);
    }
  };
}

export interface DiagServer {
  url: string;
  close(): Promise<void>;
}

/** Serves healthz and resolve like local/server.ts (other routes: 404). */
export type DiagVariant = 'replica' | 'lean' | 'floor';
const FLOOR_ANSWER = { value: 'sa-user-804', source: 'RULE', rule_index: 804, config_version: 1 };

/** Our replies' headers (`json()` + `send()` in local/http-adapter.ts), written as they are. */
function bareReply(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body, 'utf8');
}

/** Plain `node:http`, no route table, token, event or app: a GET gets healthz's reply, a POST its body read and a constant. */
export async function startBareServer(): Promise<DiagServer> {
  const health = JSON.stringify({ ok: true });
  const answer = JSON.stringify(FLOOR_ANSWER);
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET') return bareReply(res, health);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => bareReply(res, answer));
  });
  return listen(server);
}

async function listen(server: Server): Promise<DiagServer> {
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function startDiagServer(app: App, secret: Uint8Array, variant: DiagVariant): Promise<DiagServer> {
  const resolveHandlers: Record<DiagVariant, () => Handler> = {
    replica: () => httpFunction('resolve', resolveOperations, () => app),
    lean: () => createLeanResolveHandler(() => app),
    floor: () => async () => json(200, FLOOR_ANSWER),
  };
  const handlers: Partial<Record<FunctionName, Handler>> = {
    healthz: httpFunction('healthz', healthzOperations, () => app),
    resolve: resolveHandlers[variant](),
  };
  const verify = createVerifier(secret);
  const queue = createRequestQueue((res, e) => (res.headersSent ? res.destroy() : send(res, errorResponse(e))));
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const { match } = matchRoute(method, url.pathname);
    const fn = match ? handlers[match.route.fn] : undefined;
    if (!match || !fn) {
      req.resume();
      send(res, errorResponse(new AppError('NOT_FOUND', `no route ${method} ${url.pathname}`)));
      return;
    }
    let claims: Record<string, unknown> | undefined;
    if (match.route.permission) {
      const payload = await verify(req.headers.authorization);
      if (!payload) {
        req.resume();
        send(res, unauthorized());
        return;
      }
      claims = payload;
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    const event = toEvent(req, url, body, `${match.route.method} ${match.route.path}`, match.pathParameters, claims);
    const context = lambdaContext(match.route.fn, event.requestContext.requestId);
    queue(res, () => fn(event, context));
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, errorResponse(e));
      else res.destroy();
    });
  });
  return listen(server);
}
