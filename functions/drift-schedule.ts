/**
 * EventBridge-scheduled (serverless.yml `rate(${param:driftRate})`): a drift check of every cloud
 * whose drift mode is not `off`, and a restart of provisioning lost in PENDING (lib/drift/schedule.ts).
 * Emits CloudWatch metrics as EMF on stdout: DriftChecks, DriftFindings (total and per `kind`),
 * DriftedClouds, DriftCheckErrors, ProvisioningRestarts.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DriftDeps } from '../lib/drift/check.js';
import { runScheduledDriftChecks, type ScheduleOutcome } from '../lib/drift/schedule.js';
import { lazyDriftDeps } from './drift.js';
import { logger } from './observability.js';

/** Records one pass's figures on `metrics` (flushed by the caller). */
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

export function createDriftScheduleHandler(getDeps: () => DriftDeps, metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'IamMapping', serviceName: 'iam-mapping' })) {
  return async () => {
    const outcome = await runScheduledDriftChecks(getDeps());
    recordScheduleMetrics(metrics, outcome);
    metrics.publishStoredMetrics();
    const summary = summaryOf(outcome);
    if (outcome.errors.length > 0) logger.error('drift checks failed for some clouds', { errors: outcome.errors });
    for (const c of outcome.checked.filter((x) => x.report.drifted)) {
      logger.warn('drift found', { cloudId: c.cloudId, findings: c.report.summary, repair: c.report.repair });
    }
    logger.info('drift schedule pass', summary);
    return summary;
  };
}

export const handler = createDriftScheduleHandler(lazyDriftDeps());
