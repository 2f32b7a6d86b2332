/**
 * Use cases of drift checks: one now (on demand), the reports, and the periodic pass over every
 * cloud (EventBridge-scheduled deployed, an interval under `npm start`): a drift check for each
 * cloud whose latest config has drift mode != off, and a restart of provisioning for a cloud whose
 * latest version's run has been PENDING longer than `pendingAfterMs` (its start was lost: the PUT
 * committed the version, the start failed).
 */
import pMap from 'p-map';
import { DriftCheckWithdrawn, driftSettingsOf, runDriftCheck, type DriftCheckControl } from '../../lib/drift/check.js';
import { AppError, DependencyUnavailableError } from '../../lib/errors.js';
import type { DriftCheckRequest, DriftReport } from '../../lib/ports.js';
import { TargetError } from '../../lib/target-errors.js';
import { runOutlived } from '../../lib/workflow/run-ended.js';
import type { App } from '../app.js';
import { startProvisioning } from './provisioning.js';

/**
 * What an on-demand check gives: its report, or — past the deadline — the request handed to the
 * drift worker (`joined`: a check of the same kind was already pending there, and answers this one).
 */
export type DriftCheckOutcome = { report: DriftReport } | { handedOff: DriftCheckRequest; deadlineMs: number; joined: boolean };

const EXPIRED = Symbol('expired');

/** How long a handed-off check holds the worker's slot at most: the worker's 15 minutes and a margin. */
export const WORKER_SLOT_MS = 16 * 60_000;

/** The worker slot of a request: one per kind (repair asked, refused, or as the drift mode says); `repairOfSlot` reads it back. */
const slotOf = (request: { repair?: boolean }) => (request.repair === undefined ? 'mode' : String(request.repair));
const repairOfSlot = (slot: string): boolean | null => (slot === 'mode' ? null : slot === 'true');

const clockOf = (deps: Pick<App['driftDeps'], 'now'>) => deps.now ?? (() => new Date());
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * A drift check now (and its repair when asked or configured); IAM/Kubernetes throttling or
 * outages → 503. With a deadline and a hand-off configured:
 * - a check still reading after the deadline is handed off: it is withdrawn before its first
 *   write (so only the worker writes the report or repairs) and the same check is queued with
 *   the hand-off; a check that has begun writing by then is waited for instead;
 * - at most one handed-off check per cloud and kind is pending in the worker (its slot in the
 *   store): a request while one is pending joins it at once, and so does one whose deadline
 *   passes while another request queued one — repeated clicks never multiply 15-minute reads of
 *   the account's IAM.
 */
export async function checkDriftNow(
  app: Pick<App, 'config' | 'driftDeps' | 'driftHandOff'>,
  cloudId: string,
  options: { repair?: boolean; requestedBy?: string },
): Promise<DriftCheckOutcome> {
  const repair = options.repair !== undefined ? { repair: options.repair } : {};
  const handOff = app.driftHandOff;
  const deadlineMs = app.config.driftDeadlineMs;
  const deps = app.driftDeps;
  const now = clockOf(deps);
  return targetFailures(cloudId, async () => {
    if (!handOff || deadlineMs === undefined) return { report: await runDriftCheck(deps, cloudId, { trigger: 'api', ...repair }) };
    const request = (requestedAt: string): DriftCheckRequest => ({
      cloudId,
      ...repair,
      requestedAt,
      ...(options.requestedBy ? { requestedBy: options.requestedBy } : {}),
    });
    const pending = await deps.reports.workerSlot(cloudId, slotOf(repair), now().toISOString());
    if (pending) return { handedOff: request(pending.requestedAt), deadlineMs, joined: true };

    const control: DriftCheckControl = { withdrawn: false, writing: false };
    const check = runDriftCheck(deps, cloudId, { trigger: 'api', ...repair, control });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<typeof EXPIRED>((resolve) => (timer = setTimeout(() => resolve(EXPIRED), deadlineMs)));
    const first = await Promise.race([check, expired]).finally(() => clearTimeout(timer));
    if (first !== EXPIRED) return { report: first };
    if (control.writing) return { report: await check };
    control.withdrawn = true;
    // The withdrawn check ends at its next phase boundary; what it throws then (or before) is nobody's answer.
    check.catch(() => undefined);

    const ours = request(now().toISOString());
    const until = new Date(Date.parse(ours.requestedAt) + WORKER_SLOT_MS).toISOString();
    const held = await deps.reports.claimWorkerSlot(cloudId, slotOf(repair), { requestedAt: ours.requestedAt, until });
    if (held) return { handedOff: request(held.requestedAt), deadlineMs, joined: true };
    try {
      await handOff.handOff(ours);
    } catch (e) {
      await deps.reports.releaseWorkerSlot(cloudId, slotOf(repair), ours.requestedAt).catch(() => undefined);
      throw new DependencyUnavailableError('the drift worker', e, 5);
    }
    return { handedOff: ours, deadlineMs, joined: false };
  });
}

/** How long a failed handed-off check stays listed (GET …/drift-checks/background), so its requester sees why. */
export const FAILED_SLOT_MS = 10 * 60_000;

/**
 * A check handed off by `checkDriftNow`, run to its end by the worker (no deadline). When it ends
 * it frees its slot; when it fails, the slot records why (listed by `backgroundDriftChecks` for
 * FAILED_SLOT_MS) and is free for the next request. `control` (as for runDriftCheck) lets a worker
 * that is stopping withdraw it.
 */
export async function runHandedOffCheck(
  app: Pick<App, 'driftDeps'>,
  request: DriftCheckRequest,
  options: { control?: DriftCheckControl } = {},
): Promise<DriftReport> {
  const deps = app.driftDeps;
  const slot = slotOf(request);
  let failure: string | undefined;
  try {
    return await targetFailures(request.cloudId, () =>
      runDriftCheck(deps, request.cloudId, {
        trigger: 'api',
        ...(request.repair !== undefined ? { repair: request.repair } : {}),
        ...(options.control ? { control: options.control } : {}),
      }),
    );
  } catch (e) {
    // Withdrawn (a stopping worker) is not a failure: the slot is just freed.
    if (!(e instanceof DriftCheckWithdrawn)) failure = e instanceof AppError ? `${e.code}: ${e.message}` : message(e);
    throw e;
  } finally {
    const done =
      failure === undefined
        ? deps.reports.releaseWorkerSlot(request.cloudId, slot, request.requestedAt)
        : deps.reports.failWorkerSlot(request.cloudId, slot, request.requestedAt, {
            error: failure,
            until: new Date(clockOf(deps)().getTime() + FAILED_SLOT_MS).toISOString(),
          });
    await done.catch(() => undefined);
  }
}

/** The cloud's on-demand checks going on in the background: running in the worker, or failed in the last FAILED_SLOT_MS. */
export async function backgroundDriftChecks(app: Pick<App, 'driftDeps'>, cloudId: string) {
  const deps = app.driftDeps;
  const slots = await deps.reports.workerSlots(cloudId, clockOf(deps)().toISOString());
  return {
    cloud_deployment_id: cloudId,
    checks: slots
      .map((s) => ({
        requested_at: s.requestedAt,
        repair: repairOfSlot(s.slot),
        status: s.error === undefined ? ('running' as const) : ('failed' as const),
        ...(s.error !== undefined ? { error: s.error } : {}),
        until: s.until,
      }))
      .sort((a, b) => b.requested_at.localeCompare(a.requested_at)),
  };
}

/** A provisioning target's failure as the API answers it: retryable (throttling, outage) → 503, else 500 naming it. */
async function targetFailures<T>(cloudId: string, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
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
  /** Clouds not checked because the pass ran short of time (they are checked longest ago, so they go first next time; in its last 15 s, restarts of lost runs wait too). */
  deferred: string[];
  errors: Array<{ cloudId: string; error: string }>;
}

export interface ScheduleOptions {
  /** A PENDING run older than this is restarted. Default 5 minutes. */
  pendingAfterMs?: number;
  now?: () => Date;
  /**
   * Time left for the pass (deployed: the invocation's remaining time). A check is started only
   * while more than `reserveMs(longest check so far)` is left; the rest is deferred.
   */
  remainingMs?: () => number;
}

/** Time a pass keeps in hand before it starts another check: a minute, or twice its longest check so far. */
export const checkReserveMs = (longestMs: number) => Math.max(60_000, 2 * longestMs);

export const PENDING_RESTART_MS = 5 * 60_000;
/** The last seconds of a pass: every cloud left is deferred, restart decisions too. */
export const PASS_FINAL_MS = 15_000;

export async function runScheduledPass(app: Pick<App, 'driftDeps' | 'stores' | 'workflow'>, options: ScheduleOptions = {}): Promise<ScheduleOutcome> {
  const deps = app.driftDeps;
  const now = options.now ?? clockOf(deps);
  const pendingAfter = options.pendingAfterMs ?? PENDING_RESTART_MS;
  const out: ScheduleOutcome = { checked: [], skipped: [], restarted: [], deferred: [], errors: [] };
  let longestMs = 0;
  for (const cloudId of await checkedLongestAgoFirst(app, await deps.configs.listClouds())) {
    // Nearly out of time: not even the reads of a restart decision (thousands of clouds add up).
    if (options.remainingMs && options.remainingMs() < PASS_FINAL_MS) {
      out.deferred.push(cloudId);
      continue;
    }
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
      if (options.remainingMs && options.remainingMs() < checkReserveMs(longestMs)) {
        out.deferred.push(cloudId);
        continue;
      }
      // The same check (repair as the mode says) already running in the worker for an on-demand request: its report will do.
      const pending = await deps.reports.workerSlot(cloudId, slotOf({}), now().toISOString());
      if (pending) {
        out.skipped.push({ cloudId, reason: `an on-demand check requested at ${pending.requestedAt} is running in the background` });
        continue;
      }
      const started = Date.now();
      out.checked.push({ cloudId, report: await runDriftCheck(deps, cloudId, { trigger: 'schedule' }) });
      longestMs = Math.max(longestMs, Date.now() - started);
    } catch (e) {
      if ((e as { code?: unknown }).code === 'CONFLICT') out.skipped.push({ cloudId, reason: message(e) });
      else out.errors.push({ cloudId, error: message(e) });
    }
  }
  return out;
}

/**
 * The clouds in the order a pass takes them: never checked first, then by their latest report's
 * time, oldest first (ties by id), so a pass cut short never starves the same clouds.
 */
async function checkedLongestAgoFirst(app: Pick<App, 'stores'>, clouds: string[]): Promise<string[]> {
  const last = new Map<string, string>();
  await pMap(
    clouds,
    async (cloudId) => {
      const [latest] = await app.stores.drift.listReports(cloudId, { limit: 1 });
      if (latest) last.set(cloudId, latest.checked_at);
    },
    { concurrency: 8 },
  );
  return [...clouds].sort((a, b) => (last.get(a) ?? '').localeCompare(last.get(b) ?? '') || a.localeCompare(b));
}
