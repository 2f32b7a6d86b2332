/**
 * The deployed half of "runs always end": the EventBridge rule's handler marks a run FAILED when
 * its execution failed, timed out or was aborted outside the states' Catch, leaves a run the state
 * machine already ended alone; and a RUNNING run older than the execution timeout counts as ended.
 */
import { describe, expect, it } from 'vitest';
import { createRunEndedHandler } from '../../functions/run-ended.js';
import { EXECUTION_TIMEOUT_SECONDS, runOutlived } from '../../lib/workflow/run-ended.js';
import { FakeRunStore } from './fakes.js';

const event = (status: string, extra: Record<string, unknown> = {}) => ({
  'detail-type': 'Step Functions Execution Status Change',
  detail: {
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:iam-mapping-dev-provisioning:cldrsrc_x-v3',
    status,
    input: JSON.stringify({ cloudId: 'cldrsrc_x', version: 3 }),
    ...extra,
  },
});

describe('run-ended handler (EventBridge: Step Functions Execution Status Change)', () => {
  it('TIMED_OUT → the RUNNING run is FAILED with the cause', async () => {
    const runs = new FakeRunStore();
    await runs.createRun('cldrsrc_x', 3);
    await runs.updateRun('cldrsrc_x', 3, { status: 'RUNNING' });
    const out = await createRunEndedHandler(() => runs)(event('TIMED_OUT'));
    expect(out.recorded).toBe(true);
    const run = await runs.getRun('cldrsrc_x', 3);
    expect(run).toMatchObject({ status: 'FAILED', error: { name: 'ExecutionTimedOut' } });
    expect(run!.error!.message).toMatch(/execution:iam-mapping-dev-provisioning:cldrsrc_x-v3 timed out/);
  });

  it('FAILED with a terminal error → FAILED naming the error and cause', async () => {
    const runs = new FakeRunStore();
    await runs.createRun('cldrsrc_x', 3);
    await runs.updateRun('cldrsrc_x', 3, { status: 'RUNNING' });
    await createRunEndedHandler(() => runs)(
      event('FAILED', {
        error: 'States.DataLimitExceeded',
        cause: 'The state/task returned a result with a size exceeding the maximum number of bytes service limit.',
      }),
    );
    const run = await runs.getRun('cldrsrc_x', 3);
    expect(run).toMatchObject({ status: 'FAILED', error: { name: 'States.DataLimitExceeded' } });
    expect(run!.error!.message).toMatch(/failed with States.DataLimitExceeded: The state\/task returned a result/);
  });

  it('a run the state machine already ended (SUCCEEDED, or FAILED by RecordRunFailure) is left as it is', async () => {
    const runs = new FakeRunStore();
    await runs.createRun('cldrsrc_x', 3);
    await runs.updateRun('cldrsrc_x', 3, { status: 'FAILED', error: { name: 'ItemsFailed', message: '1 of 2 items failed' } });
    expect((await createRunEndedHandler(() => runs)(event('FAILED', { error: 'ProvisioningFailed' }))).recorded).toBe(false);
    expect(await runs.getRun('cldrsrc_x', 3)).toMatchObject({ error: { name: 'ItemsFailed' } });
  });

  it('ignores SUCCEEDED/RUNNING events and inputs that name no run', async () => {
    const runs = new FakeRunStore();
    const h = createRunEndedHandler(() => runs);
    expect(await h(event('SUCCEEDED'))).toMatchObject({ recorded: false });
    expect(await h(event('FAILED', { input: 'not json' }))).toMatchObject({ recorded: false, reason: 'input names no run' });
  });
});

describe('runOutlived (drift never waits on a run that cannot finish)', () => {
  const started = new Date('2026-01-01T00:00:00Z');
  const run = { status: 'RUNNING' as const, createdAt: started.toISOString(), updatedAt: started.toISOString(), startedAt: started.toISOString() };
  it('RUNNING within the execution timeout is still running; past it, it has ended', () => {
    expect(runOutlived(run, new Date(started.getTime() + EXECUTION_TIMEOUT_SECONDS * 1000 - 1))).toBe(false);
    expect(runOutlived(run, new Date(started.getTime() + EXECUTION_TIMEOUT_SECONDS * 1000 + 1))).toBe(true);
    expect(runOutlived({ ...run, status: 'SUCCEEDED' }, new Date(started.getTime() + 10 ** 10))).toBe(false);
  });
});
