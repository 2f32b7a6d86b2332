/**
 * A function's HTTP handler, derived from the route table: API Gateway's `routeKey` picks the
 * route; its permission is enforced (`authorize`), its path parameters, query and body are parsed
 * by its schemas (one body-reading path: base64, size limit, UTF-8; JSON bodies parsed here, config
 * documents — JSON or YAML — handed to the config parser of the use case), the use case runs, and
 * its reply leaves as JSON with the route's success status (gzip-compressed when large, so it fits
 * what a Lambda may return: functions/http/response-size.ts). Errors leave through the one error
 * middleware; Powertools' middlewares put the request on every log line and flush the metrics.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { App } from '../../app/app.js';
import { AppError } from '../../lib/errors.js';
import { authorizeRequest, principalOf } from '../middleware/auth.js';
import { errorResponses } from '../middleware/errors.js';
import { logger, metrics, metricsEnabled } from '../observability.js';
import { ROUTES, routeKey, type Route, type RoutesOf } from '../routes.js';
import { cloudOf } from '../cloud.js';
import { bodyText, header, jsonBody, jsonReply, parseIfMatch, parseWith, pathParam, type HttpContext, type HttpEvent, type HttpResult } from '../http.js';
import { fitResponse } from './response-size.js';
import { MAPPING_CONFIG, type FunctionName, type OperationResult, type RouteInput, type RouteSpec } from './route.js';

export type Operation<R extends RouteSpec> = (input: RouteInput<R>, app: App) => Promise<OperationResult<R>>;

/** What a function implements: one operation per route the table gives it, named by the route's use case. */
export type Operations<F extends FunctionName> = { [R in RoutesOf<F> as R['useCase']]: Operation<R> };

export type HttpHandler = (event: HttpEvent, context: HttpContext) => Promise<HttpResult>;

const CLUSTER_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}$/;

/** Path parameters by name, each validated once for every route that has it. */
function pathParameter(event: HttpEvent, name: string): string {
  if (name === 'cloud') return cloudOf(event);
  const value = pathParam(event, name);
  if (name === 'cluster_id' && !CLUSTER_ID.test(value)) {
    throw new AppError('INVALID_REQUEST', `cluster id ${JSON.stringify(value.slice(0, 80))} is not valid`, [
      { path: name, message: 'must be 1-255 letters, digits or _.:-' },
    ]);
  }
  return value;
}

/** The request's header lookup handed to the use case (an unnamed closure: no per-request function naming under tsx's keepNames). */
function headerReader(event: HttpEvent): (name: string) => string | undefined {
  return (name) => header(event, name);
}

interface Compiled {
  route: Route;
  params: string[];
  /** The query schema's answer for no query string (parsed once). */
  emptyQuery: unknown;
  readsIfMatch: boolean;
  success: number;
  operation: Operation<RouteSpec>;
}

function compile(route: Route, operation: Operation<RouteSpec>): Compiled {
  const statuses = Object.keys(route.responses).map(Number);
  const request = (route as RouteSpec).request;
  return {
    route,
    params: [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string),
    emptyQuery: Object.freeze(request?.query ? parseWith(request.query, {}, 'query') : {}),
    readsIfMatch: request?.headers?.some((h) => h.name === 'If-Match') ?? false,
    success: statuses.find((s) => s >= 200 && s < 300) ?? 200,
    operation,
  };
}

async function run(entry: Compiled, event: HttpEvent, context: HttpContext, app: App): Promise<HttpResult> {
  const { route } = entry;
  if (route.permission) authorizeRequest(event, context, route.permission);
  const path: Record<string, string> = {};
  for (const name of entry.params) path[name] = pathParameter(event, name);
  const request = (route as RouteSpec).request;
  const params = event.queryStringParameters;
  const query = request?.query && params ? parseWith(request.query, params, 'query') : entry.emptyQuery;
  let body: unknown;
  if (request?.body === MAPPING_CONFIG) body = { text: bodyText(event), contentType: header(event, 'content-type') };
  else if (request?.body) body = jsonBody(event, request.body, request.optionalBody === true, `${route.useCase} request`);
  const input = {
    path,
    query,
    body,
    principal: route.permission ? principalOf(context) : null,
    ifMatch: entry.readsIfMatch ? parseIfMatch(header(event, 'if-match')) : undefined,
    header: headerReader(event),
    requestId: context.awsRequestId,
  } as RouteInput<RouteSpec>;
  const result = await entry.operation(input, app);
  if (result !== null && typeof result === 'object' && (result as { reply?: unknown }).reply === true) {
    const r = result as { status: number; body?: unknown; text?: string; headers?: Record<string, string> };
    if (r.text !== undefined) return { statusCode: r.status, headers: { 'cache-control': 'no-store', ...r.headers }, body: r.text };
    if (r.body === undefined) return { statusCode: r.status, headers: r.headers ?? {}, body: '' };
    return jsonReply(r.status, r.body, r.headers);
  }
  if (entry.success === 204) return { statusCode: 204, headers: {}, body: '' };
  return jsonReply(entry.success, result);
}

/**
 * The Lambda handler of function `fn`: its routes from the table, each bound to its operation.
 * `getApp` builds the app on first use (once per warm container).
 */
export function httpFunction<F extends FunctionName>(fn: F, operations: Operations<F>, getApp: () => App): HttpHandler {
  const routes = new Map<string, Compiled>();
  for (const route of ROUTES) {
    if (route.fn !== fn) continue;
    const operation = (operations as Record<string, Operation<RouteSpec>>)[route.useCase];
    if (!operation) throw new Error(`function ${fn} does not implement ${route.useCase} (${routeKey(route)})`);
    routes.set(routeKey(route), compile(route, operation));
  }
  const withMetrics = metricsEnabled();
  const dispatch = async (event: HttpEvent, context: HttpContext): Promise<HttpResult> => {
    const entry = routes.get(event.routeKey);
    if (!entry) throw new AppError('NOT_FOUND', `no route ${event.routeKey} in function ${fn}`);
    if (withMetrics) {
      metrics.addDimension('operation', entry.route.useCase);
      metrics.addMetric('Requests', MetricUnit.Count, 1);
    }
    // What a function can return: a large reply gzip-compressed, or a 406 (functions/http/response-size.ts).
    return fitResponse(await run(entry, event, context, getApp()), () => header(event, 'accept-encoding'));
  };
  // No early-timeout timer per request (API Gateway and the Lambda timeout bound the request).
  const handler = middy<HttpEvent, HttpResult, Error, HttpContext>(dispatch, { timeoutEarlyInMillis: 0 }).use(injectLambdaContext(logger));
  if (withMetrics) handler.use(logMetrics(metrics));
  return handler.use(errorResponses());
}
