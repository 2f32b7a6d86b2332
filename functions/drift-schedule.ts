/**
 * EventBridge-scheduled (serverless.yml `rate(${param:driftRate})`): a drift check of every cloud
 * whose drift mode is not `off`, and a restart of provisioning lost in PENDING (the
 * `runScheduledPass` use case), within the invocation's time: clouds checked longest ago go
 * first, and those left when time runs short are deferred to the next pass. Also the drift
 * worker: an event of kind `iam-mapping.drift-check` (queued by the drift function for an
 * on-demand check that outlasted its deadline) runs that one check. Emits CloudWatch metrics as
 * EMF (logMetrics): DriftChecks, DriftFindings (total and per `kind`), DriftedClouds,
 * DriftCheckErrors, DriftChecksDeferred, ProvisioningRestarts.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { App } from '../app/app.js';
import { runHandedOffCheck, runScheduledPass, type ScheduleOutcome } from '../app/use-cases/drift.js';
import { driftCheckRequestOf } from '../adapters/aws/drift-hand-off.js';
import type { DriftCheckRequest } from '../lib/ports.js';
import { driftAdapters } from './drift.js';
import { lambdaApp } from './lambda-app.js';
import { logger, metrics as processMetrics, metricsEnabled } from './observability.js';

/** Records one pass's figures on `metrics` (flushed by logMetrics). */
export function recordScheduleMetrics(metrics: Metrics, outcome: ScheduleOutcome): void {
  const byKind: Record<string, number> = {};
  let findings = 0;
  for (const { report } of outcome.checked) {
    findings += report.summary.total;
    for (const [kind, n] of Object.entries(report.summary.by_kind)) byKind[kind] = (byKind[kind] ?? 0) + n;
  }
  metrics.addMetric('DriftChecks', MetricUnit.Count, outcome.checked.length);
  metrics.addMetric('DriftFindings', MetricUnit.Count, findings);
  metrics.addMetric('DriftedClouds', MetricUnit.Count, outcome.checked.filter((c) => c.report.drifted).length);
  metrics.addMetric('DriftCheckErrors', MetricUnit.Count, outcome.errors.length);
  metrics.addMetric('ProvisioningRestarts', MetricUnit.Count, outcome.restarted.length);
  metrics.addMetric('DriftChecksDeferred', MetricUnit.Count, outcome.deferred.length);
  for (const [kind, n] of Object.entries(byKind)) {
    const single = metrics.singleMetric();
    single.addDimension('kind', kind);
    single.addMetric('DriftFindings', MetricUnit.Count, n);
  }
}

export function summaryOf(outcome: ScheduleOutcome) {
  return {
    checked: outcome.checked.map(({ cloudId, report }) => ({ cloudId, status: report.status, findings: report.summary.total, repair: report.repair ?? null })),
    skipped: outcome.skipped,
    restarted: outcome.restarted,
    deferred: outcome.deferred,
    errors: outcome.errors,
  };
}

/** One on-demand check handed off by the drift function (adapters/aws/drift-hand-off.ts), run to its end. */
async function handedOffCheck(app: App, request: DriftCheckRequest, metrics: Metrics) {
  const started = Date.now();
  try {
    const report = await runHandedOffCheck(app, request);
    metrics.addMetric('DriftChecks', MetricUnit.Count, 1);
    metrics.addMetric('DriftFindings', MetricUnit.Count, report.summary.total);
    const summary = {
      cloudId: request.cloudId,
      requestedAt: request.requestedAt,
      requestedBy: request.requestedBy,
      status: report.status,
      findings: report.summary.total,
    };
    if (report.drifted) logger.warn('drift found', { ...summary, findings: report.summary, repair: report.repair });
    logger.info('handed-off drift check', { ...summary, durationMs: Date.now() - started });
    return summary;
  } catch (e) {
    // Not rethrown: the slot says why (GET …/drift-checks/background), and Lambda is not to retry the event.
    metrics.addMetric('DriftCheckErrors', MetricUnit.Count, 1);
    const error = e instanceof Error ? e.message : String(e);
    logger.error('handed-off drift check failed', { cloudId: request.cloudId, requestedAt: request.requestedAt, error });
    return { cloudId: request.cloudId, error };
  }
}

export function createDriftScheduleHandler(getApp: () => App, metrics: Metrics = processMetrics) {
  const pass = async (event: unknown, context: { getRemainingTimeInMillis?: () => number }) => {
    const request = driftCheckRequestOf(event);
    if (request) return handedOffCheck(getApp(), request, metrics);
    const outcome = await runScheduledPass(getApp(), context.getRemainingTimeInMillis ? { remainingMs: () => context.getRemainingTimeInMillis!() } : {});
    recordScheduleMetrics(metrics, outcome);
    const summary = summaryOf(outcome);
    if (outcome.errors.length > 0) logger.error('drift checks failed for some clouds', { errors: outcome.errors });
    if (outcome.deferred.length > 0) logger.warn('drift checks deferred to the next pass (out of time); they go first then', { deferred: outcome.deferred });
    for (const c of outcome.checked.filter((x) => x.report.drifted)) {
      logger.warn('drift found', { cloudId: c.cloudId, findings: c.report.summary, repair: c.report.repair });
    }
    logger.info('drift schedule pass', summary);
    return summary;
  };
  const handler = middy(pass, { timeoutEarlyInMillis: 0 }).use(injectLambdaContext(logger));
  return metricsEnabled() ? handler.use(logMetrics(metrics)) : handler;
}

export const handler = createDriftScheduleHandler(lambdaApp(driftAdapters));
