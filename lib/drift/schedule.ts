/**
 * The periodic pass over every cloud (EventBridge-scheduled Lambda deployed, an interval under
 * `npm start`): a drift check for each cloud whose latest config has drift mode != off, and a
 * restart of provisioning for a cloud whose latest version's run has been PENDING for longer
 * than `pendingAfterMs` (its start was lost: the PUT committed the version, the start failed).
 */
import { runOutlived } from '../workflow/run-ended.js';
import type { DriftReport } from '../ports.js';
import { driftSettingsOf, runDriftCheck, type DriftDeps } from './check.js';

export interface ScheduleOutcome {
  checked: Array<{ cloudId: string; report: DriftReport }>;
  skipped: Array<{ cloudId: string; reason: string }>;
  restarted: Array<{ cloudId: string; version: number; executionId?: string; error?: string }>;
  errors: Array<{ cloudId: string; error: string }>;
}

export interface ScheduleOptions {
  /** A PENDING run older than this is restarted. Default 5 minutes. */
  pendingAfterMs?: number;
}

export const PENDING_RESTART_MS = 5 * 60_000;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function runScheduledDriftChecks(deps: DriftDeps, options: ScheduleOptions = {}): Promise<ScheduleOutcome> {
  const now = deps.now ?? (() => new Date());
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
          const restart: ScheduleOutcome['restarted'][number] = { cloudId, version: latest.version };
          try {
            await deps.runs.createRun(cloudId, latest.version);
            const { executionId } = await deps.workflow.start({ cloudId, version: latest.version });
            restart.executionId = executionId;
            await deps.runs.updateRun(cloudId, latest.version, { executionId }, { onlyFrom: ['PENDING'] });
          } catch (e) {
            restart.error = message(e);
          }
          out.restarted.push(restart);
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
