// The shared code's time-sliced runner (lib/steps.ts) names Node's setImmediate; the worker runs
// validation synchronously and never calls it.
declare function setImmediate(callback: () => void): unknown;
