/**
 * EventBridge-scheduled (serverless.yml `rate(${param:driftRate})`): a drift check of every cloud
 * whose drift mode is not `off`, and a restart of provisioning lost in PENDING (the
 * `runScheduledPass` use case). Emits CloudWatch metrics as EMF (logMetrics): DriftChecks,
 * DriftFindings (total and per `kind`), DriftedClouds, DriftCheckErrors, ProvisioningRestarts.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { App } from '../app/app.js';
import { runScheduledPass, type ScheduleOutcome } from '../app/use-cases/drift.js';
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
    errors: outcome.errors,
  };
}

export function createDriftScheduleHandler(getApp: () => App, metrics: Metrics = processMetrics) {
  const pass = async () => {
    const outcome = await runScheduledPass(getApp());
    recordScheduleMetrics(metrics, outcome);
    const summary = summaryOf(outcome);
    if (outcome.errors.length > 0) logger.error('drift checks failed for some clouds', { errors: outcome.errors });
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
