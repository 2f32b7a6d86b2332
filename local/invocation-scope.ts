/**
 * One log context per request in the local server. Deployed, a function's container serves one
 * request at a time, so Powertools' logger keeps the Lambda context (function name, request id)
 * that `injectLambdaContext` hands it in one place. The local server runs every function in one
 * process, requests interleaved at each await, and with one shared place a line named whichever
 * function and request had set it last — also on lines written outside any request (a refused
 * token, a provisioning run, a scheduled drift pass).
 *
 * Powertools scopes that state per invocation the way Lambda's concurrent runtime does: when
 * `AWS_LAMBDA_MAX_CONCURRENCY` is set it reads and writes it through `globalThis.awslambda.InvokeStore`
 * (`@aws-lambda-powertools/commons` InvocationScoped). This module installs such a store, backed
 * by an AsyncLocalStorage, before any logger exists (it is imported right after local/defaults.ts);
 * the server runs each handler in `inInvocation`, and work that outlives its request (a workflow
 * run, a handed-off drift check) in `outsideInvocation`, so it logs with no request's context.
 */
import { FUNCTION, scope as als, type Scope as Store } from './function-context.js';

const REQUEST_ID = Symbol.for('_AWS_LAMBDA_REQUEST_ID');
const PROTECTED = new Set<symbol>(
  [
    '_AWS_LAMBDA_REQUEST_ID',
    '_AWS_LAMBDA_X_RAY_TRACE_ID',
    '_AWS_LAMBDA_TENANT_ID',
    '_AWS_LAMBDA_TRACEPARENT',
    '_AWS_LAMBDA_TRACESTATE',
    '_AWS_LAMBDA_BAGGAGE',
  ].map((k) => Symbol.for(k)),
);

/** A request's scope: one with its request id (a function's scope without one is no invocation to Powertools). */
const invocation = (): Store | undefined => {
  const store = als.getStore();
  return store && REQUEST_ID in store ? store : undefined;
};

/** What `@aws/lambda-invoke-store`'s InvokeStore offers (the SDK's recursion detection reads the trace ids; none here). */
const invokeStore = {
  getContext: () => invocation(),
  hasContext: () => invocation() !== undefined,
  get: (key: symbol) => invocation()?.[key],
  set(key: symbol, value: unknown) {
    if (PROTECTED.has(key)) throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    const store = invocation();
    if (!store) throw new Error('No context available');
    store[key] = value;
  },
  run: <T>(context: Store, fn: () => T): T => als.run(context, fn),
  isProtectedKey: (key: symbol) => PROTECTED.has(key),
  getRequestId: () => (invocation()?.[REQUEST_ID] as string | undefined) ?? '-',
  getXRayTraceId: () => undefined,
  getTenantId: () => undefined,
  getTraceparent: () => undefined,
  getTracestate: () => undefined,
  getBaggage: () => undefined,
};

const global = globalThis as { awslambda?: { InvokeStore?: unknown } };
global.awslambda = { ...global.awslambda, InvokeStore: invokeStore };
process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '1000';

/**
 * Runs `fn` (a handler invocation) with its own log context: what it and its continuations log
 * names this request only; with `functionName`, as that deployed function too (local/function-context.ts).
 */
export function inInvocation<T>(requestId: string, fn: () => T, functionName?: string): T {
  return als.run(functionName === undefined ? { [REQUEST_ID]: requestId } : { [REQUEST_ID]: requestId, [FUNCTION]: functionName }, fn);
}

/** Runs `fn` outside any request's log context (work that outlives the request that started it). */
export function outsideInvocation<T>(fn: () => T): T {
  return als.exit(fn);
}
