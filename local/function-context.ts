/**
 * Which deployed function the code running now stands for (local only: `npm start`, tests). The
 * local runner sets it around each Task handler (`provisionPlan`, …), the local server around each
 * HTTP handler (`config`, `drift`, …) and the drift passes (`driftSchedule`); the sandbox AWS
 * clients send it as `x-iam-mapping-function`, and the sandbox records it as the call's `caller`.
 * So a call can be judged against the IAM role its function has deployed (serverless.yml).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** The header the sandbox clients send; the sandbox records its value as the call's `caller`. */
export const FUNCTION_HEADER = 'x-iam-mapping-function';

/**
 * One scope per piece of work, shared with the log context of local/invocation-scope.ts (an HTTP
 * request's scope holds its request id and its function in one store: one AsyncLocalStorage run
 * per request, resolve included).
 */
export type Scope = Record<symbol, unknown>;
export const scope = new AsyncLocalStorage<Scope>();
export const FUNCTION = Symbol('iam-mapping.function');

/** Runs `fn` as the deployed function `name` (every sandbox call it makes, also in what it starts, is attributed to `name`), in no request's log context. */
export function asFunction<T>(name: string, fn: () => T): T {
  return scope.run({ [FUNCTION]: name }, fn);
}

/** The function the running code stands for, if any. */
export function currentFunction(): string | undefined {
  return scope.getStore()?.[FUNCTION] as string | undefined;
}

/** The headers the sandbox clients add to every request: the current function, when known. */
export function functionHeaders(): Record<string, string> {
  const name = currentFunction();
  return name ? { [FUNCTION_HEADER]: name } : {};
}
