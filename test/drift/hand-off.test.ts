/**
 * The on-demand drift check's deadline (app/use-cases/drift.ts `checkDriftNow`): a check still
 * reading at the deadline is withdrawn before its first write and handed off; one already writing
 * is waited for; a hand-off that fails is a 503; the drift worker's event round-trips; the
 * scheduled pass defers what it has no time for, checked-longest-ago first.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { driftCheckEvent, driftCheckRequestOf, DRIFT_CHECK_EVENT_KIND, LambdaDriftHandOff } from '../../adapters/aws/drift-hand-off.js';
import { createDriftScheduleHandler } from '../../functions/drift-schedule.js';
import { backgroundDriftChecks, checkDriftNow, checkReserveMs, runHandedOffCheck, runScheduledPass } from '../../app/use-cases/drift.js';
import type { App } from '../../app/app.js';
import type { DriftDeps } from '../../lib/drift/check.js';
import { AppError } from '../../lib/errors.js';
import type { DriftCheckHandOff, DriftCheckRequest, DriftReport, DriftReportSummary } from '../../lib/ports.js';

const CLOUD = 'cldrsrc_handoff';
const later = <T>(ms: number, value: T) => new Promise<T>((r) => setTimeout(() => r(value), ms));

/** Deps of a cloud whose only version FAILED: the check stores a nothing-to-compare report. `slow` delays a read or the write. */
function fakeDeps(slow: { readMs?: number; writeMs?: number } = {}) {
  const stored: DriftReport[] = [];
  const deps = {
    configs: {
      getLatestMeta: async () => ({ version: 1, createdAt: '2026-12-01T00:00:00Z' }),
      listVersions: async () => [],
      getVersion: async () => null,
      listClouds: async () => [CLOUD],
    },
    runs: { getRun: () => later(slow.readMs ?? 0, { status: 'FAILED', configVersion: 1 }) },
    reports: {
      putReport: async (_c: string, r: DriftReport) => {
        await later(slow.writeMs ?? 0, undefined);
        stored.push(r);
      },
      ...memorySlots(),
    },
    defaults: {},
  } as unknown as DriftDeps;
  return { deps, stored };
}

/** The worker slots in memory, with the store's semantics (first claim wins until released, failed or past `until`). */
function memorySlots() {
  const slots = new Map<string, { requestedAt: string; until: string; error?: string }>();
  const held = (key: string, now: string) => {
    const s = slots.get(key);
    return s && s.until >= now && s.error === undefined ? { requestedAt: s.requestedAt } : null;
  };
  return {
    slots,
    workerSlot: async (cloudId: string, slot: string, now: string) => held(`${cloudId}/${slot}`, now),
    claimWorkerSlot: async (cloudId: string, slot: string, claim: { requestedAt: string; until: string }) => {
      const existing = held(`${cloudId}/${slot}`, claim.requestedAt);
      if (existing) return existing;
      slots.set(`${cloudId}/${slot}`, claim);
      return null;
    },
    releaseWorkerSlot: async (cloudId: string, slot: string, requestedAt: string) => {
      if (slots.get(`${cloudId}/${slot}`)?.requestedAt === requestedAt) slots.delete(`${cloudId}/${slot}`);
    },
    failWorkerSlot: async (cloudId: string, slot: string, requestedAt: string, failure: { error: string; until: string }) => {
      const s = slots.get(`${cloudId}/${slot}`);
      if (s?.requestedAt === requestedAt) slots.set(`${cloudId}/${slot}`, { ...s, ...failure });
    },
    workerSlots: async (cloudId: string, now: string) =>
      [...slots.entries()]
        .filter(([k, s]) => k.startsWith(`${cloudId}/`) && s.until >= now)
        .map(([k, s]) => ({ slot: k.slice(cloudId.length + 1), requestedAt: s.requestedAt, until: s.until, ...(s.error ? { error: s.error } : {}) })),
  };
}

function appOf(deps: DriftDeps, deadlineMs: number | undefined, handOff?: DriftCheckHandOff) {
  return { config: { defaults: {}, ...(deadlineMs !== undefined ? { driftDeadlineMs: deadlineMs } : {}) }, driftDeps: deps, driftHandOff: handOff } as Pick<
    App,
    'config' | 'driftDeps' | 'driftHandOff'
  >;
}

describe('checkDriftNow with a deadline', () => {
  // Fake timers: the deadline and the slow reads and writes run in a fixed order, not against the host's clock.
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());
  /** The outcome of `pending` once `ms` of fake time has passed. */
  const after = async <T>(ms: number, pending: Promise<T>) => {
    await vi.advanceTimersByTimeAsync(ms);
    return pending;
  };
  it('answers with the report when the check ends in time; nothing is handed off', async () => {
    const { deps, stored } = fakeDeps();
    const handOff = { handOff: vi.fn(async () => undefined) };
    const outcome = await after(10, checkDriftNow(appOf(deps, 5_000, handOff), CLOUD, {}));
    expect('report' in outcome && outcome.report.status).toBe('nothing-to-compare');
    expect(stored).toHaveLength(1);
    expect(handOff.handOff).not.toHaveBeenCalled();
  });

  it('a check still reading at the deadline is handed off with the request, and the withdrawn one writes nothing', async () => {
    const { deps, stored } = fakeDeps({ readMs: 80 });
    const requests: DriftCheckRequest[] = [];
    const handOff = { handOff: async (r: DriftCheckRequest) => void requests.push(r) };
    const before = new Date().toISOString();
    const outcome = await after(10, checkDriftNow(appOf(deps, 10, handOff), CLOUD, { repair: true, requestedBy: 'owner@example.com' }));
    expect(outcome).toMatchObject({ handedOff: { cloudId: CLOUD, repair: true, requestedBy: 'owner@example.com' }, deadlineMs: 10 });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.requestedAt >= before).toBe(true);
    await vi.advanceTimersByTimeAsync(200); // the withdrawn check's read ends; it stops at its first write
    expect(stored).toHaveLength(0);
  });

  it('while a handed-off check is pending, requests of the same kind join it; the worker frees the slot when done', async () => {
    const { deps, stored } = fakeDeps({ readMs: 80 });
    const requests: DriftCheckRequest[] = [];
    const app = appOf(deps, 10, { handOff: async (r: DriftCheckRequest) => void requests.push(r) });
    const first = await after(10, checkDriftNow(app, CLOUD, {}));
    expect(first).toMatchObject({ joined: false });
    // At once (no check of its own, no second hand-off), with the first request's time.
    const second = await checkDriftNow(app, CLOUD, { requestedBy: 'other@example.com' });
    expect(second).toMatchObject({ joined: true, handedOff: { requestedAt: requests[0]!.requestedAt, requestedBy: 'other@example.com' } });
    // Another kind (repair asked) has its own slot.
    expect(await after(10, checkDriftNow(app, CLOUD, { repair: true }))).toMatchObject({ joined: false });
    expect(requests).toHaveLength(2);

    // The worker runs the first request and frees its slot: the next request checks anew.
    await after(100, runHandedOffCheck(app, requests[0]!));
    expect(stored).toHaveLength(1);
    expect(await after(10, checkDriftNow(app, CLOUD, {}))).toMatchObject({ joined: false });
    expect(requests).toHaveLength(3);
  });

  it('a check that fails in the worker is listed failed, with why; the next request checks anew', async () => {
    const { deps, stored } = fakeDeps({ readMs: 80 });
    const requests: DriftCheckRequest[] = [];
    const app = appOf(deps, 10, { handOff: async (r: DriftCheckRequest) => void requests.push(r) });
    await after(10, checkDriftNow(app, CLOUD, { repair: false }));
    expect((await backgroundDriftChecks(app, CLOUD)).checks).toMatchObject([{ requested_at: requests[0]!.requestedAt, repair: false, status: 'running' }]);
    // The worker's check fails: the store refuses the report.
    (deps.reports as { putReport: unknown }).putReport = async () => Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'the store is unavailable'));
    const failed = await after(
      100,
      runHandedOffCheck(app, requests[0]!).catch((e: unknown) => e),
    );
    expect(String(failed)).toMatch(/unavailable/);
    expect(stored).toHaveLength(0);
    const listed = await backgroundDriftChecks(app, CLOUD);
    expect(listed.checks).toEqual([
      {
        requested_at: requests[0]!.requestedAt,
        repair: false,
        status: 'failed',
        error: 'SERVICE_UNAVAILABLE: the store is unavailable',
        until: expect.any(String),
      },
    ]);
    // Not joined to the failed one: a check of its own.
    expect(await after(10, checkDriftNow(app, CLOUD, { repair: false }))).toMatchObject({ joined: false });
    expect(requests).toHaveLength(2);
  });

  it('a check already writing at the deadline is waited for, not handed off', async () => {
    const { deps, stored } = fakeDeps({ writeMs: 80 });
    const handOff = { handOff: vi.fn(async () => undefined) };
    const outcome = await after(100, checkDriftNow(appOf(deps, 10, handOff), CLOUD, {}));
    expect('report' in outcome).toBe(true);
    expect(stored).toHaveLength(1);
    expect(handOff.handOff).not.toHaveBeenCalled();
  });

  it('a hand-off that fails is a 503 with Retry-After', async () => {
    const { deps } = fakeDeps({ readMs: 80 });
    const failing = { handOff: async () => Promise.reject(new Error('TooManyRequestsException')) };
    const error = await after(
      10,
      checkDriftNow(appOf(deps, 10, failing), CLOUD, {}).catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('SERVICE_UNAVAILABLE');
    expect((error as AppError).headers).toMatchObject({ 'Retry-After': '5' });
    // The slot it claimed is free again: the retry can hand off.
    expect((deps.reports as unknown as ReturnType<typeof memorySlots>).slots.size).toBe(0);
  });

  it('without a hand-off (or a deadline) the request waits for the check', async () => {
    const { deps, stored } = fakeDeps({ readMs: 60 });
    expect('report' in (await after(100, checkDriftNow(appOf(deps, 10), CLOUD, {})))).toBe(true);
    expect('report' in (await after(100, checkDriftNow(appOf(deps, undefined, { handOff: async () => undefined }), CLOUD, {})))).toBe(true);
    expect(stored).toHaveLength(2);
  });
});

describe('the drift worker event', () => {
  it('round-trips the request; other events (EventBridge) are not ours; a malformed one names the field', () => {
    const request: DriftCheckRequest = { cloudId: CLOUD, repair: false, requestedAt: '2026-12-03T10:00:00.000Z', requestedBy: 'a@b.c' };
    expect(driftCheckEvent(request).kind).toBe(DRIFT_CHECK_EVENT_KIND);
    expect(driftCheckRequestOf(JSON.parse(JSON.stringify(driftCheckEvent(request))))).toEqual(request);
    expect(driftCheckRequestOf({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} })).toBeNull();
    expect(driftCheckRequestOf(null)).toBeNull();
    expect(() => driftCheckRequestOf({ kind: DRIFT_CHECK_EVENT_KIND, cloud_deployment_id: CLOUD, requested_at: 'soon' })).toThrow(/requested_at/);
    expect(() => driftCheckRequestOf({ kind: DRIFT_CHECK_EVENT_KIND, requested_at: request.requestedAt })).toThrow(/cloud_deployment_id/);
  });
});

describe('the deployed hand-off: an asynchronous invocation of the drift worker', () => {
  const lambda = mockClient(LambdaClient);
  beforeEach(() => void lambda.reset());
  const request: DriftCheckRequest = { cloudId: CLOUD, requestedAt: '2026-12-03T10:00:00.000Z', requestedBy: 'a@b.c' };

  it('queues the event (InvocationType Event) on the named function', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    await new LambdaDriftHandOff('iam-mapping-prod-driftSchedule', { region: 'us-east-1', client: new LambdaClient({ region: 'us-east-1' }) }).handOff(request);
    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({ FunctionName: 'iam-mapping-prod-driftSchedule', InvocationType: 'Event' });
    expect(driftCheckRequestOf(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array)))).toEqual(request);
  });

  it('an answer other than 202 (or an error) did not queue it', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
    const handOff = new LambdaDriftHandOff('w', { region: 'us-east-1', client: new LambdaClient({ region: 'us-east-1' }) });
    await expect(handOff.handOff(request)).rejects.toThrow(/did not queue/);
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    await expect(handOff.handOff(request)).rejects.toThrow(/Rate exceeded/);
  });

  it('the schedule function runs a handed-off check (and only that cloud) when the event is ours', async () => {
    const { deps, stored } = fakeDeps();
    const app = { driftDeps: deps } as unknown as App;
    const handler = createDriftScheduleHandler(() => app, new Metrics({ namespace: 'test' }));
    const context = { getRemainingTimeInMillis: () => 900_000, awsRequestId: 'r', functionName: 'w' } as never;
    const summary = await handler(driftCheckEvent(request), context);
    expect(summary).toMatchObject({ cloudId: CLOUD, status: 'nothing-to-compare', requestedBy: 'a@b.c' });
    expect(stored.map((r) => [r.cloud_deployment_id, r.trigger])).toEqual([[CLOUD, 'api']]);
  });
});

describe('the scheduled pass within its time', () => {
  /** Clouds a..e, all provisioned (SUCCEEDED runs, drift mode report); `lastChecked` per cloud. */
  function passApp(lastChecked: Record<string, string>) {
    const clouds = ['a', 'b', 'c', 'd', 'e'];
    const checked: string[] = [];
    const slots = memorySlots();
    const deps = {
      configs: {
        listClouds: async () => clouds,
        getLatestMeta: async () => ({ version: 1, createdAt: '2026-12-01T00:00:00Z' }),
        // Unparsable as a config: drift mode falls back to `report`.
        getVersion: async () => ({}),
        listVersions: async () => [],
      },
      runs: { getRun: async () => ({ status: 'FAILED', configVersion: 1 }) },
      reports: { putReport: async (cloudId: string) => void checked.push(cloudId), ...slots },
      defaults: {},
    } as unknown as DriftDeps;
    const stores = {
      drift: {
        listReports: async (cloudId: string): Promise<DriftReportSummary[]> =>
          lastChecked[cloudId]
            ? [{ checked_at: lastChecked[cloudId], status: 'clean', drifted: false, config_version: 1, finding_count: 0, by_severity: {} }]
            : [],
      },
    };
    return { app: { driftDeps: deps, stores, workflow: {} } as unknown as Pick<App, 'driftDeps' | 'stores' | 'workflow'>, checked, slots };
  }

  it('checks never-checked clouds first, then oldest first; defers the rest when time runs short', async () => {
    const { app, checked } = passApp({ a: '2026-12-03T10:00:00Z', b: '2026-12-03T08:00:00Z', d: '2026-12-03T09:00:00Z' });
    // Each check takes 50 s of the pass's time.
    const outcome = await runScheduledPass(app, { remainingMs: () => 150_000 - 50_000 * checked.length });
    // 150 s, 100 s left: checks; 50 s (< the 60 s reserve): deferred from then on.
    expect(checked).toEqual(['c', 'e']);
    expect(outcome.deferred).toEqual(['b', 'd', 'a']);
    expect(outcome.checked.map((c) => c.cloudId)).toEqual(['c', 'e']);
  });

  it('in the last 15 s even the restart decisions wait: every cloud left is deferred', async () => {
    const { app, checked } = passApp({});
    const outcome = await runScheduledPass(app, { remainingMs: () => 14_000 });
    expect(checked).toEqual([]);
    expect(outcome.deferred).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('skips a cloud whose same check is running in the background for an on-demand request', async () => {
    const { app, checked, slots } = passApp({});
    await slots.claimWorkerSlot('b', 'mode', { requestedAt: new Date().toISOString(), until: new Date(Date.now() + 60_000).toISOString() });
    await slots.claimWorkerSlot('c', 'true', { requestedAt: new Date().toISOString(), until: new Date(Date.now() + 60_000).toISOString() });
    const outcome = await runScheduledPass(app);
    // b's running check is the same as the pass's; c's repairs (another kind), so c is checked.
    expect(checked).toEqual(['a', 'c', 'd', 'e']);
    expect(outcome.skipped).toEqual([{ cloudId: 'b', reason: expect.stringMatching(/running in the background/) }]);
  });

  it('without a time limit every cloud is checked', async () => {
    const { app, checked } = passApp({});
    const outcome = await runScheduledPass(app);
    expect(checked).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(outcome.deferred).toEqual([]);
  });

  it('keeps a minute in hand, or twice the longest check', () => {
    expect(checkReserveMs(0)).toBe(60_000);
    expect(checkReserveMs(45_000)).toBe(90_000);
  });
});
