/**
 * The local runner enforces Step Functions' quotas (payload 256 KB per state, 25,000 history
 * events per execution, Inline Map concurrency ≤ 40) and runs a Distributed Map as child
 * executions — so a design that would break on AWS breaks here the same way, and the deployed
 * design is shown to fit 5,000 identities.
 */
import { describe, expect, it } from 'vitest';
import { createLocalWorkflowRunner, loadDefinition, taskStates, type ExecutionEnded, type TaskHandler } from '../../local/workflow-runner.js';

type Json = Record<string, unknown>;

const fn = (name: string) => ({ 'Fn::GetAtt': [name, 'Arn'] });

/** Runs one execution of `definition` and returns how it ended, plus the runner's figures. */
async function runOnce(definition: Json, handlers: Record<string, TaskHandler>, input: Json = { cloudId: 'c', version: 1 }) {
  let ended: ExecutionEnded | undefined;
  const runner = createLocalWorkflowRunner({ definition, handlers, retryIntervalMs: 1, waitMs: 1, onEnded: (e) => void (ended = e) });
  await runner.start(input as never);
  await runner.idle();
  return { ended: ended!, stats: runner.stats() };
}

describe('payload quota (256 KB per state)', () => {
  const definition = {
    StartAt: 'Big',
    States: {
      Big: { Type: 'Task', Resource: fn('big'), Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }], End: true },
      Caught: { Type: 'Succeed' },
    },
  };

  it('a Task result over 262,144 bytes fails the execution with States.DataLimitExceeded, which States.ALL does not catch', async () => {
    const { ended } = await runOnce(definition, { big: async () => ({ blob: 'x'.repeat(262_144) }) });
    expect(ended).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(ended.cause).toMatch(/result of Task Big has 262155 bytes, more than the 262144-byte/);
  });

  it('counts UTF-8 bytes, not characters', async () => {
    const { ended } = await runOnce(definition, { big: async () => ({ blob: 'é'.repeat(140_000) }) });
    expect(ended).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
  });

  it('just under the quota passes', async () => {
    const { ended, stats } = await runOnce(definition, { big: async () => ({ blob: 'x'.repeat(262_000) }) });
    expect(ended.status).toBe('SUCCEEDED');
    expect(stats.peakPayloadBytes).toBeGreaterThan(262_000);
    expect(stats.peakPayloadBytes).toBeLessThanOrEqual(262_144);
  });

  it('a state output grown by ResultPath (not a Task result) over the quota fails the same way', async () => {
    const grow = {
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: fn('half'), ResultPath: '$.a', Next: 'B' },
        B: { Type: 'Task', Resource: fn('half'), ResultPath: '$.b', Next: 'Done' },
        Done: { Type: 'Succeed' },
      },
    };
    const { ended } = await runOnce(grow, { half: async () => 'y'.repeat(150_000) });
    expect(ended).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(ended.cause).toMatch(/output of state B/);
  });
});

describe('history quota (25,000 events per execution)', () => {
  // Per iteration: MapIterationStarted, 2 Tasks × 5 events, MapIterationSucceeded = 12 events.
  const inline = (_n: number) => ({
    StartAt: 'Items',
    States: {
      Items: {
        Type: 'Map',
        ItemsPath: '$.items',
        MaxConcurrency: 40,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'One',
          States: {
            One: { Type: 'Task', Resource: fn('noop'), Next: 'Two' },
            Two: { Type: 'Task', Resource: fn('noop'), End: true },
          },
        },
        ResultPath: null,
        End: true,
      },
    },
  });
  const noop = { noop: async () => ({}) };
  const items = (n: number) => ({ items: Array.from({ length: n }, (_, i) => i) });

  it('counts events as Step Functions writes them (12 per iteration of two Tasks, + 6 for the execution and the Map)', async () => {
    const { ended } = await runOnce(inline(10), noop, items(10));
    expect(ended.status).toBe('SUCCEEDED');
    expect(ended.historyEvents).toBe(10 * 12 + 6);
  });

  it('an Inline Map whose iterations need more than 25,000 events fails the execution', async () => {
    const { ended } = await runOnce(inline(2100), noop, items(2100)); // 2,100 × 12 = 25,200
    expect(ended).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(ended.cause).toMatch(/history event limit of 25000/);
  });

  it('a retry counts again (TaskScheduled, TaskStarted, TaskFailed)', async () => {
    let calls = 0;
    const retrying = {
      StartAt: 'Flaky',
      States: { Flaky: { Type: 'Task', Resource: fn('flaky'), Retry: [{ ErrorEquals: ['Boom'], MaxAttempts: 3 }], End: true } },
    };
    const { ended } = await runOnce(retrying, {
      flaky: async () => {
        if (++calls < 3) throw Object.assign(new Error('boom'), { name: 'Boom' });
        return {};
      },
    });
    expect(ended.status).toBe('SUCCEEDED');
    // ExecutionStarted, Entered+Scheduled+Started, 2 × (Failed + Scheduled + Started), Succeeded+Exited, ExecutionSucceeded
    expect(ended.historyEvents).toBe(1 + 3 + 2 * 3 + 2 + 1);
  });

  it('the same work as a Distributed Map over pages of 100 fits: each child execution has its own history', async () => {
    const itemsMap = { ...(inline(0).States.Items as Json), ItemsPath: '$.items', End: true };
    const distributed = {
      StartAt: 'Pages',
      States: {
        Pages: {
          Type: 'Map',
          ItemsPath: '$.pages',
          MaxConcurrency: 4,
          ItemSelector: { 'page.$': '$$.Map.Item.Value' },
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'Load',
            States: { Load: { Type: 'Task', Resource: fn('load'), Next: 'Items' }, Items: itemsMap },
          },
          End: true,
        },
      },
    };
    const { ended, stats } = await runOnce(
      distributed,
      { ...noop, load: async (input: { page: number }) => ({ items: Array.from({ length: 100 }, (_, i) => input.page * 100 + i) }) },
      { pages: Array.from({ length: 21 }, (_, p) => p) },
    );
    expect(ended.status, ended.cause).toBe('SUCCEEDED');
    expect(stats.childExecutions).toBe(21);
    expect(stats.peakHistoryEvents).toBeLessThan(1_300);
  });

  it('a failed child fails the Distributed Map with States.ExceedToleratedFailureThreshold (catchable), naming the child', async () => {
    const def = {
      StartAt: 'Pages',
      States: {
        Pages: {
          Type: 'Map',
          ItemsPath: '$.pages',
          MaxConcurrency: 2,
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'Load',
            States: { Load: { Type: 'Task', Resource: fn('load'), End: true } },
          },
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }],
          End: true,
        },
        Caught: { Type: 'Fail', Error: 'Caught' },
      },
    };
    const { ended } = await runOnce(
      def,
      {
        load: async (page: number) => {
          if (page === 3) throw Object.assign(new Error('page 3 is bad'), { name: 'Bad' });
          return page;
        },
      },
      { pages: [0, 1, 2, 3, 4, 5] },
    );
    expect(ended).toMatchObject({ status: 'FAILED', error: 'Caught' });
  });
});

describe('Inline Map concurrency (≤ 40)', () => {
  for (const mc of [41, 0, undefined]) {
    it(`refuses an Inline Map with MaxConcurrency ${String(mc)} at load`, () => {
      const def = {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ...(mc === undefined ? {} : { MaxConcurrency: mc }),
            ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
            End: true,
          },
        },
      };
      expect(() => createLocalWorkflowRunner({ definition: def, handlers: {} })).toThrow(/at most 40 inline iterations/);
    });
  }
});

describe('the deployed definition at 5,000 identities', () => {
  it('provisions 5,000 items through the runner with every quota on: 50 child executions, each far below 25,000 events, no payload near 256 KB', async () => {
    const definition = loadDefinition();
    const N = 5000;
    const PAGE = 100;
    const step = async () => ({ resources: [{ kind: 'iam-role', name: 'r', action: 'created' }], createdRole: true });
    const handlers: Record<string, TaskHandler> = {
      provisionPlan: async (input: { cloudId: string; version: number }) => ({
        ...input,
        superseded: false,
        planId: 'p1',
        itemCount: N,
        pageSize: PAGE,
        pages: Array.from({ length: N / PAGE }, (_, p) => p),
      }),
      provisionLoadPage: async (input: { page: number }) => ({
        ...input,
        items: Array.from({ length: PAGE }, (_, i) => ({
          index: input.page * PAGE + i,
          kind: 'k8s-irsa',
          name: `service-account-${input.page * PAGE + i}`,
          digest: 'd'.repeat(64),
        })),
      }),
      provisionEnsureRole: step,
      provisionEnsureTrustPolicy: step,
      provisionEnsurePermissions: step,
      provisionAwaitRole: async () => ({ resources: [] }),
      provisionEnsureServiceAccount: step,
      provisionEnsureInstanceProfile: step,
      provisionEnsureAssociation: async () => ({ resources: [], blocked: false }),
      provisionFinishMigration: step,
      provisionRecordItem: async (input: { ref: { name: string } }) => ({ name: input.ref.name, status: 'SUCCEEDED' }),
      provisionRecordItemFailure: async (input: { ref: { name: string } }) => ({ name: input.ref.name, status: 'FAILED' }),
      provisionFinalize: async (input: { pages: string[][] }) => ({ status: input.pages.flat().length === N ? 'SUCCEEDED' : 'FAILED' }),
      provisionRecordRunFailure: async () => ({ status: 'FAILED' }),
      provisionGcpEnsureAccount: step,
      provisionGcpEnsureAccountPolicy: step,
      provisionGcpEnsureBucketAccess: step,
      provisionGcpEnsureServiceAccount: step,
    };
    expect(Object.keys(handlers).sort()).toEqual([...new Set(taskStates(definition).map((t) => t.fn))].sort());
    const { ended, stats } = await runOnce(definition, handlers, { cloudId: 'cldrsrc_big', version: 1 });
    expect(ended, ended.cause).toMatchObject({ status: 'SUCCEEDED' });
    expect(stats.childExecutions).toBe(N / PAGE);
    // 40 events per item (the provider Choice, then role created: the Wait state runs); the parent a few dozen whatever the size.
    expect(stats.peakHistoryEvents).toBe(PAGE * 40 + 11); // + ExecutionStarted, LoadPage (5), the Map (4), ExecutionSucceeded
    expect(ended.historyEvents).toBeLessThan(40);
    expect(stats.peakPayloadBytes).toBeLessThan(100_000);
  }, 120_000);
});
