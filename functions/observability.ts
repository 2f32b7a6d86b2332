/**
 * Powertools logger and metrics, one instance of each per process. The HTTP handlers attach them
 * with Powertools' middy middlewares (functions/http/handler.ts: `injectLambdaContext`, so every
 * log line carries the request id and function; `logMetrics`, which flushes EMF after each
 * request); the scheduled drift pass publishes its own figures.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'iam-mapping' });

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'IamMapping',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'iam-mapping',
});

/**
 * Whether metrics are published: off under `npm start` (local/defaults.ts sets
 * POWERTOOLS_METRICS_DISABLED, as there is no CloudWatch; requests also run concurrently there,
 * which one process-wide metrics buffer is not made for).
 */
export function metricsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const off = (v: string | undefined) => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());
  return env.POWERTOOLS_METRICS_DISABLED !== undefined ? !off(env.POWERTOOLS_METRICS_DISABLED) : !off(env.POWERTOOLS_DEV);
}
