/**
 * Use cases of drift checks: one now (on demand), the reports, and the periodic pass over every
 * cloud (EventBridge-scheduled deployed, an interval under `npm start`): a drift check for each
 * cloud whose latest config has drift mode != off, and a restart of provisioning for a cloud whose
 * latest version's run has been PENDING longer than `pendingAfterMs` (its start was lost: the PUT
 * committed the version, the start failed).
 */
import { driftSettingsOf, runDriftCheck } from '../../lib/drift/check.js';
import { AppError, DependencyUnavailableError } from '../../lib/errors.js';
import type { DriftReport } from '../../lib/ports.js';
import { TargetError } from '../../lib/target-errors.js';
import { runOutlived } from '../../lib/workflow/run-ended.js';
import type { App } from '../app.js';
import { startProvisioning } from './provisioning.js';

/** A drift check now (and its repair when asked or configured); IAM/Kubernetes throttling or outages → 503. */
export async function checkDriftNow(app: Pick<App, 'driftDeps'>, cloudId: string, options: { repair?: boolean }) {
  try {
    return await runDriftCheck(app.driftDeps, cloudId, { trigger: 'api', ...(options.repair !== undefined ? { repair: options.repair } : {}) });
  } catch (e) {
    if (e instanceof TargetError) {
      if (e.retryable) throw new DependencyUnavailableError('a provisioning target (IAM, EKS or Kubernetes)', e, 5);
      throw new AppError('INTERNAL', `drift check of ${cloudId} failed: ${e.name}: ${e.message}`);
    }
    throw e;
  }
}

export async function latestDriftReport(app: Pick<App, 'stores'>, cloudId: string) {
  const report = await app.stores.drift.latestReport(cloudId);
  if (!report) throw new AppError('NOT_FOUND', `cloud ${cloudId} has no drift report yet`);
  return report;
}

export async function driftHistory(app: Pick<App, 'stores'>, cloudId: string, limit: number) {
  return { cloud_deployment_id: cloudId, reports: await app.stores.drift.listReports(cloudId, { limit }) };
}

export interface ScheduleOutcome {
  checked: Array<{ cloudId: string; report: DriftReport }>;
  skipped: Array<{ cloudId: string; reason: string }>;
  restarted: Array<{ cloudId: string; version: number; executionId?: string; error?: string }>;
  errors: Array<{ cloudId: string; error: string }>;
}

export interface ScheduleOptions {
  /** A PENDING run older than this is restarted. Default 5 minutes. */
  pendingAfterMs?: number;
  now?: () => Date;
}

export const PENDING_RESTART_MS = 5 * 60_000;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function runScheduledPass(app: Pick<App, 'driftDeps' | 'stores' | 'workflow'>, options: ScheduleOptions = {}): Promise<ScheduleOutcome> {
  const deps = app.driftDeps;
  const now = options.now ?? deps.now ?? (() => new Date());
  const pendingAfter = options.pendingAfterMs ?? PENDING_RESTART_MS;
  const out: ScheduleOutcome = { checked: [], skipped: [], restarted: [], errors: [] };
  for (const cloudId of await deps.configs.listClouds()) {
    try {
      const latest = await deps.configs.getLatestMeta(cloudId);
      if (!latest) continue;
      const run = await deps.runs.getRun(cloudId, latest.version);
      if (run === null || run.status === 'PENDING') {
        const since = Date.parse(run?.updatedAt ?? run?.createdAt ?? latest.createdAt);
        if (now().getTime() - since > pendingAfter) {
          const started = await startProvisioning(app, cloudId, latest.version);
          out.restarted.push({ cloudId, version: latest.version, ...started });
        } else out.skipped.push({ cloudId, reason: `provisioning of version ${latest.version} is PENDING` });
        continue;
      }
      if (run.status === 'RUNNING' && !runOutlived(run, now())) {
        out.skipped.push({ cloudId, reason: `provisioning of version ${latest.version} is RUNNING` });
        continue;
      }
      const drift = await driftSettingsOf(deps, cloudId, latest.version);
      if (!drift || drift.mode === 'off') {
        out.skipped.push({ cloudId, reason: 'drift mode off' });
        continue;
      }
      out.checked.push({ cloudId, report: await runDriftCheck(deps, cloudId, { trigger: 'schedule' }) });
    } catch (e) {
      if ((e as { code?: unknown }).code === 'CONFLICT') out.skipped.push({ cloudId, reason: message(e) });
      else out.errors.push({ cloudId, error: message(e) });
    }
  }
  return out;
}
