/**
 * Runs the provisioning state machine in-process with aws-local-stepfunctions, from the same
 * ASL file that deploys (workflow/provisioning.asl.yml). Each Task's `Fn::GetAtt: [fn, Arn]`
 * names the serverless function whose handler runs it; retry intervals and the IAM propagation
 * wait are shortened for local use (configurable).
 *
 * What AWS does and aws-local-stepfunctions does not, done here so that a design that would break
 * on AWS breaks locally the same way:
 * - **Distributed Map** (`ProcessorConfig.Mode: DISTRIBUTED`): aws-local-stepfunctions would run it
 *   inline. Here the state becomes a Task whose handler starts one *child execution* per item
 *   (ItemsPath, ItemSelector with `$$.Map.Item.Value/Index`, MaxConcurrency), each with its own
 *   history and quotas; the results are the children's outputs in item order. A failed child
 *   fails the Map state with `States.ExceedToleratedFailureThreshold` (ToleratedFailurePercentage
 *   and ToleratedFailureCount honoured) and stops the other children, as a Map Run does.
 *   ItemReader, ItemBatcher and ResultWriter are refused at load (not emulated).
 * - **Payload quota**: every state's input and output, and every Task's effective input and
 *   result, at most 262,144 bytes (UTF-8 JSON). Larger fails the execution with
 *   `States.DataLimitExceeded`, which no Catch or Retry matches (as on AWS).
 * - **History quota**: at most 25,000 events per execution, counted as Step Functions writes
 *   them (see `eventWeight`); the 25,001st fails the execution (`States.Runtime`, cause
 *   "... history event limit ..."). Inline Map iterations count toward their execution; each
 *   Distributed Map child has its own count.
 * - **Inline Map concurrency**: MaxConcurrency above 40 (or 0 = unbounded) is refused at load.
 * - **Runs end**: `onEnded` is called once per top-level execution with its final status
 *   (SUCCEEDED, FAILED, TIMED_OUT, ABORTED) and cause: the local stand-in for EventBridge's
 *   "Step Functions Execution Status Change".
 */
import './polyfills.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import { parse } from 'yaml';
import type { WorkflowStarter } from '../lib/ports.js';
import { asFunction } from './function-context.js';

export const DEFINITION_FILE = fileURLToPath(new URL('../workflow/provisioning.asl.yml', import.meta.url));

type Json = Record<string, unknown>;
export type TaskHandler = (input: any) => Promise<unknown>;

/** Step Functions' quotas the runner enforces (AWS values by default). */
export interface Quotas {
  /** Max bytes (UTF-8 JSON) of any state's input or output. AWS: 256 KiB. */
  payloadBytes: number;
  /** Max history events of one execution. AWS: 25,000. */
  historyEvents: number;
  /** Max MaxConcurrency of an Inline Map. AWS: 40. */
  inlineMapConcurrency: number;
}
export const AWS_QUOTAS: Quotas = { payloadBytes: 262_144, historyEvents: 25_000, inlineMapConcurrency: 40 };

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionEnded {
  executionId: string;
  input: any;
  status: ExecutionStatus;
  /** Error name (FAILED), e.g. `States.DataLimitExceeded`, `ProvisioningFailed`. */
  error?: string;
  cause?: string;
  historyEvents: number;
}

export interface RunnerStats {
  /** Executions started (top-level plus Distributed Map children). */
  executions: number;
  childExecutions: number;
  /** Most history events of any one execution. */
  peakHistoryEvents: number;
  /** Largest state input/output seen (bytes). */
  peakPayloadBytes: number;
  peakPayloadState?: string;
  /** Inline Map iterations (items) running now, over every execution; and the most at once. */
  iterationsInFlight: number;
  peakIterationsInFlight: number;
  /** Task handlers running now (Lambda invocations in flight, deployed). */
  tasksInFlight: number;
  /** Retries of failed Task attempts, by state name (each waits the Retry interval first). */
  retriesByState: Record<string, number>;
}

export interface LocalRunnerOptions {
  handlers: Record<string, TaskHandler>;
  /** Milliseconds between retries (instead of the definition's seconds). */
  retryIntervalMs?: number;
  /** Milliseconds for Wait states (instead of the definition's seconds). */
  waitMs?: number;
  onError?: (executionId: string, error: unknown) => void;
  /** Called once when a top-level execution ends, whatever its status (not for those `close()` aborts: they resume at the next start). */
  onEnded?: (ended: ExecutionEnded) => void | Promise<void>;
  /** Quota overrides (tests); AWS's values by default. */
  quotas?: Partial<Quotas>;
  /** Another definition (tests); default the deployed ASL file. */
  definition?: Json;
}

export function loadDefinition(file = DEFINITION_FILE): Json {
  return parse(readFileSync(file, 'utf8')) as Json;
}

interface TaskState {
  name: string;
  fn: string;
}

const processorOf = (state: Json) => (state.ItemProcessor ?? state.Iterator) as Json | undefined;
const isDistributed = (state: Json) => state.Type === 'Map' && (processorOf(state)?.ProcessorConfig as Json | undefined)?.Mode === 'DISTRIBUTED';

/** Every Task state (also inside Map processors) with the function it names. */
export function taskStates(definition: Json): TaskState[] {
  const out: TaskState[] = [];
  const walk = (states: Record<string, Json>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') {
        const getAtt = (state.Resource as Json | undefined)?.['Fn::GetAtt'] as [string, string] | undefined;
        if (!getAtt) throw new Error(`Task ${name} must name its function with Fn::GetAtt: [function, Arn]`);
        out.push({ name, fn: getAtt[0] });
      }
      const processor = processorOf(state);
      if (processor?.States) walk(processor.States as Record<string, Json>);
    }
  };
  walk(definition.States as Record<string, Json>);
  return out;
}

/** Every state, also inside Map processors, with its path of enclosing Map states. */
export function allStates(definition: Json): Array<{ name: string; state: Json; enclosing: string[] }> {
  const out: Array<{ name: string; state: Json; enclosing: string[] }> = [];
  const walk = (states: Record<string, Json>, enclosing: string[]) => {
    for (const [name, state] of Object.entries(states)) {
      out.push({ name, state, enclosing });
      const processor = processorOf(state);
      if (processor?.States) walk(processor.States as Record<string, Json>, [...enclosing, name]);
    }
  };
  walk(definition.States as Record<string, Json>, []);
  return out;
}

/** The definition with each `Fn::GetAtt` resource replaced by a Lambda ARN (what CloudFormation does). */
function withArns(definition: Json, region = 'us-east-1', account = '000000000000'): Json {
  return JSON.parse(JSON.stringify(definition), (key, value: unknown) => {
    const ref = key === 'Resource' && value && typeof value === 'object' ? (value as Record<string, unknown>)['Fn::GetAtt'] : undefined;
    if (Array.isArray(ref)) return `arn:aws:lambda:${region}:${account}:function:${String(ref[0])}`;
    return value;
  }) as Json;
}

function statesWith(definition: Json, predicate: (state: Json) => boolean): string[] {
  return allStates(definition)
    .filter((s) => predicate(s.state))
    .map((s) => s.name);
}

// ---------------------------------------------------------------------------------------------
// Errors the runner raises as Step Functions would.
// ---------------------------------------------------------------------------------------------

/** A terminal error: no Retry or Catch (not even States.ALL) matches it (aws-local-stepfunctions honours these flags). */
class TerminalError extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

class StatesError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export const byteSize = (value: unknown): number => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8'));

// ---------------------------------------------------------------------------------------------
// History events, counted as Step Functions writes them.
// ---------------------------------------------------------------------------------------------

interface LibEvent {
  type: string;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
}

/**
 * Events Step Functions writes for one aws-local-stepfunctions event (which emits one event per
 * state entry/exit, where AWS writes several):
 * - execution: ExecutionStarted, ExecutionSucceeded | Failed | TimedOut | Aborted (1 each);
 * - Task: TaskStateEntered + TaskScheduled + TaskStarted on entry (3), TaskSucceeded +
 *   TaskStateExited on exit (2); each failed attempt TaskFailed (1), each retry TaskScheduled +
 *   TaskStarted again (2); a caught failure exits with TaskStateExited only (−1 on the exit);
 * - Inline Map: MapStateEntered + MapStateStarted (2), MapStateSucceeded + MapStateExited (2),
 *   per iteration MapIterationStarted and MapIterationSucceeded | Failed (1 each), plus the
 *   iteration's own state events;
 * - Distributed Map (in the parent): MapStateEntered, MapStateStarted, MapRunStarted (3) and
 *   MapRunSucceeded, MapStateSucceeded, MapStateExited (3); the children's events are theirs;
 * - Choice, Pass, Wait, Succeed: Entered + Exited (1 each); Fail: FailStateEntered (then
 *   ExecutionFailed).
 */
function eventWeight(event: LibEvent, distributed: ReadonlySet<string>): number {
  const type = event.state?.type;
  const name = event.state?.name ?? '';
  switch (event.type) {
    case 'ExecutionStarted':
    case 'ExecutionSucceeded':
    case 'ExecutionFailed':
    case 'ExecutionAborted':
    case 'ExecutionTimeout':
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed':
      return 1;
    case 'StateEntered':
      if (distributed.has(name)) return 3;
      return type === 'Task' ? 3 : type === 'Map' || type === 'Parallel' ? 2 : 1;
    case 'StateExited':
      if (distributed.has(name)) return 3;
      return type === 'Task' || type === 'Map' || type === 'Parallel' ? 2 : 1;
    case 'StateFailed':
      return type === 'Task' || type === 'Map' || type === 'Parallel' ? 1 : 0;
    case 'StateRetried':
      return type === 'Task' ? 2 : 1;
    case 'StateCaught':
      return type === 'Task' ? -1 : 0;
    default:
      return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Paths and payload templates (the subset a Distributed Map's ItemsPath / ItemSelector use).
// ---------------------------------------------------------------------------------------------

const SIMPLE_PATH = /^\$\$?(?:\.[A-Za-z_][\w-]*|\[\d+\])*$/;

function readPath(path: string, input: unknown, context: unknown): unknown {
  if (!SIMPLE_PATH.test(path)) throw new StatesError('States.Runtime', `path ${path} is not supported by the local Distributed Map`);
  let node: unknown = path.startsWith('$$') ? context : input;
  for (const [, field, index] of path.replace(/^\$\$?/, '').matchAll(/\.([A-Za-z_][\w-]*)|\[(\d+)\]/g)) {
    const key = field ?? Number(index);
    if (node === null || typeof node !== 'object' || !(key in node)) {
      throw new StatesError('States.Runtime', `the JSONPath ${path} could not be found in the input`);
    }
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

function applyTemplate(template: unknown, input: unknown, context: unknown): unknown {
  if (Array.isArray(template)) return template.map((t) => applyTemplate(t, input, context));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) out[key.slice(0, -2)] = readPath(String(value), input, context);
    else out[key] = applyTemplate(value, input, context);
  }
  return out;
}

function checkTemplatePaths(template: unknown, where: string): void {
  if (Array.isArray(template)) return template.forEach((t) => checkTemplatePaths(t, where));
  if (template === null || typeof template !== 'object') return;
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && !SIMPLE_PATH.test(String(value)))
      throw new Error(`${where}: ${key}: ${String(value)} is not supported by the local Distributed Map`);
    checkTemplatePaths(value, where);
  }
}

// ---------------------------------------------------------------------------------------------
// The runner.
// ---------------------------------------------------------------------------------------------

interface DistributedSpec {
  name: string;
  itemsPath?: string;
  itemSelector?: unknown;
  maxConcurrency: number;
  toleratedPercent: number;
  toleratedCount: number;
  child: Prepared;
}

interface Prepared {
  machine: StateMachine;
  handlers: Record<string, TaskHandler>;
  distributed: Set<string>;
  retryIntervalOverrides: Record<string, number>;
  waitTimeOverrides: Record<string, number>;
}

const REMOVED_MAP_FIELDS = [
  'ItemsPath',
  'ItemSelector',
  'Parameters',
  'MaxConcurrency',
  'MaxConcurrencyPath',
  'ItemProcessor',
  'Iterator',
  'ToleratedFailurePercentage',
  'ToleratedFailureCount',
  'Label',
];

export interface LocalWorkflowRunner extends WorkflowStarter {
  /** Resolves when no execution is running. */
  idle(): Promise<void>;
  /** Aborts running executions. */
  close(): Promise<void>;
  /** Quota figures over every execution so far. */
  stats(): RunnerStats;
}

interface Execution {
  abort(): void;
  children: Set<Execution>;
}

export function createLocalWorkflowRunner(options: LocalRunnerOptions): LocalWorkflowRunner {
  const quotas: Quotas = { ...AWS_QUOTAS, ...options.quotas };
  const definition = options.definition ?? loadDefinition();
  const retryMs = options.retryIntervalMs ?? 50;
  const waitMs = options.waitMs ?? 100;
  const stats: RunnerStats = {
    executions: 0,
    childExecutions: 0,
    peakHistoryEvents: 0,
    peakPayloadBytes: 0,
    iterationsInFlight: 0,
    peakIterationsInFlight: 0,
    tasksInFlight: 0,
    retriesByState: {},
  };

  const measure = (bytes: number, where: string) => {
    if (bytes > stats.peakPayloadBytes) {
      stats.peakPayloadBytes = bytes;
      stats.peakPayloadState = where;
    }
  };
  const payloadError = (what: string, bytes: number) =>
    new TerminalError('States.DataLimitExceeded', `the ${what} has ${bytes} bytes, more than the ${quotas.payloadBytes}-byte state payload quota`);

  /** Validates (as AWS would), checks the quotas the definition itself can break, and builds the machines. */
  function prepare(def: Json, label: string): Prepared {
    for (const { name, state, enclosing } of allStates(def)) {
      if (state.Type !== 'Map') continue;
      if (isDistributed(state)) {
        for (const field of ['ItemReader', 'ItemBatcher', 'ResultWriter']) {
          if (state[field] !== undefined) throw new Error(`${label}: Distributed Map ${name}: ${field} is not emulated by the local runner`);
        }
        if (enclosing.length > 0)
          throw new Error(`${label}: Distributed Map ${name} inside ${enclosing.join('/')}: only top-level Distributed Maps are emulated`);
        continue;
      }
      const mc = state.MaxConcurrency;
      if (state.MaxConcurrencyPath !== undefined || typeof mc !== 'number' || mc === 0 || mc > quotas.inlineMapConcurrency) {
        throw new Error(
          `${label}: Inline Map ${name} has MaxConcurrency ${JSON.stringify(mc ?? state.MaxConcurrencyPath ?? 'unset')}; Step Functions runs at most ${quotas.inlineMapConcurrency} inline iterations at once — set 1..${quotas.inlineMapConcurrency}`,
        );
      }
    }
    const handlers: Record<string, TaskHandler> = {};
    for (const { name, fn } of taskStates(def)) {
      const handler = options.handlers[fn];
      if (!handler) throw new Error(`no local handler for function ${fn} (state ${name})`);
      handlers[name] = guardTask(name, fn, handler);
    }
    const distributed = new Set<string>();
    const states = { ...(def.States as Record<string, Json>) };
    for (const [name, state] of Object.entries(states)) {
      if (!isDistributed(state)) continue;
      distributed.add(name);
      const processor = processorOf(state)!;
      const { ProcessorConfig: _config, ...childDef } = processor;
      checkTemplatePaths(state.ItemSelector ?? state.Parameters, `${label}: ${name}.ItemSelector`);
      if (state.ItemsPath !== undefined && !SIMPLE_PATH.test(JSON.stringify(state.ItemsPath).slice(1, -1)))
        throw new Error(`${label}: ${name}.ItemsPath ${JSON.stringify(state.ItemsPath)} is not supported locally`);
      const spec: DistributedSpec = {
        name,
        ...(typeof state.ItemsPath === 'string' ? { itemsPath: state.ItemsPath } : {}),
        ...((state.ItemSelector ?? state.Parameters) ? { itemSelector: state.ItemSelector ?? state.Parameters } : {}),
        maxConcurrency: typeof state.MaxConcurrency === 'number' && state.MaxConcurrency > 0 ? state.MaxConcurrency : 10_000,
        toleratedPercent: typeof state.ToleratedFailurePercentage === 'number' ? state.ToleratedFailurePercentage : 0,
        toleratedCount: typeof state.ToleratedFailureCount === 'number' ? state.ToleratedFailureCount : 0,
        child: prepare(childDef, `${label}/${name}`),
      };
      const task: Json = Object.fromEntries(Object.entries(state).filter(([k]) => !REMOVED_MAP_FIELDS.includes(k)));
      task.Type = 'Task';
      task.Resource = `arn:aws:lambda:us-east-1:000000000000:function:local-distributed-map-${name}`;
      task.TimeoutSeconds = 2_000_000; // (< 2^31 ms for setTimeout) bounded by the execution's TimeoutSeconds, as a Map Run is
      states[name] = task;
      handlers[name] = (input) => runDistributedMap(spec, input);
    }
    const transformed = withArns({ ...def, States: states });
    return {
      machine: new StateMachine(transformed as never, { validationOptions: { checkPaths: true, checkArn: true } }),
      handlers,
      distributed,
      retryIntervalOverrides: Object.fromEntries(statesWith(def, (s) => Array.isArray(s.Retry)).map((n) => [n, retryMs])),
      waitTimeOverrides: Object.fromEntries(statesWith(def, (s) => s.Type === 'Wait').map((n) => [n, waitMs])),
    };
  }

  /**
   * A Task's effective input and its result are payloads too: checked synchronously, before and
   * after the call. The handler runs as its function `fn` (local/function-context.ts), so the
   * sandbox calls it makes are attributed to it.
   */
  function guardTask(name: string, fn: string, handler: TaskHandler): TaskHandler {
    return async (input) => {
      const inBytes = byteSize(input);
      measure(inBytes, `${name} (task input)`);
      if (inBytes > quotas.payloadBytes) throw payloadError(`input of Task ${name}`, inBytes);
      stats.tasksInFlight += 1;
      let result: unknown;
      try {
        result = await asFunction(fn, () => handler(input));
      } finally {
        stats.tasksInFlight -= 1;
      }
      const outBytes = byteSize(result);
      measure(outBytes, `${name} (task result)`);
      if (outBytes > quotas.payloadBytes) throw payloadError(`result of Task ${name}`, outBytes);
      return result;
    };
  }

  // Which execution a Distributed Map handler belongs to: the library calls it from inside that
  // execution's run, and AsyncLocalStorage carries the execution through the library's awaits.
  const current = new AsyncLocalStorage<Execution>();

  async function runDistributedMap(spec: DistributedSpec, input: unknown): Promise<unknown[]> {
    const parent = current.getStore();
    const items = spec.itemsPath ? readPath(spec.itemsPath, input, {}) : input;
    if (!Array.isArray(items)) throw new StatesError('States.Runtime', `ItemsPath of ${spec.name} does not point at an array`);
    const results = new Array<unknown>(items.length);
    const allowedFailures = Math.max(spec.toleratedCount, Math.floor((spec.toleratedPercent / 100) * items.length));
    let failures = 0;
    let firstFailure: ExecutionEnded | undefined;
    let stop = false;
    const running = new Set<Execution>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (!stop && next < items.length) {
        const index = next++;
        const item: unknown = items[index];
        const childInput: unknown =
          spec.itemSelector !== undefined ? applyTemplate(spec.itemSelector, input, { Map: { Item: { Index: index, Value: item } } }) : item;
        const ended = await execute(spec.child, childInput, `${parentIdOf(parent)}/${spec.name}:${index}`, parent, running);
        if (ended.status === 'SUCCEEDED') {
          results[index] = ended.output;
          continue;
        }
        failures += 1;
        firstFailure ??= ended;
        if (failures > allowedFailures) {
          stop = true;
          for (const r of running) r.abort();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(spec.maxConcurrency, items.length) }, worker));
    if (failures > allowedFailures) {
      const f = firstFailure!;
      throw new StatesError(
        'States.ExceedToleratedFailureThreshold',
        `The specified tolerated failure threshold was exceeded: ${failures} of ${items.length} child executions of ${spec.name} failed; ` +
          `first: ${f.executionId} ${f.status}${f.error ? ` ${f.error}` : ''}${f.cause ? `: ${f.cause}` : ''}`,
      );
    }
    return results;
  }

  const ids = new WeakMap<Execution, string>();
  const parentIdOf = (e: Execution | undefined) => (e ? (ids.get(e) ?? 'local') : 'local');

  /** One execution (top-level or child) with its own history count and payload checks. */
  async function execute(
    prepared: Prepared,
    input: unknown,
    executionId: string,
    parent: Execution | undefined,
    siblings?: Set<Execution>,
  ): Promise<ExecutionEnded & { output?: unknown }> {
    stats.executions += 1;
    if (parent) stats.childExecutions += 1;
    const inBytes = byteSize(input);
    measure(inBytes, 'execution input');
    if (inBytes > quotas.payloadBytes) {
      return { executionId, input, status: 'FAILED', error: 'States.DataLimitExceeded', cause: `execution input of ${inBytes} bytes`, historyEvents: 0 };
    }
    let violation: { error: string; cause: string } | undefined;
    let events = 0;
    let abortRun = () => {};
    const execution: Execution = {
      abort: () => {
        for (const c of execution.children) c.abort();
        abortRun();
      },
      children: new Set(),
    };
    const run = current.run(execution, () =>
      prepared.machine.run(input as never, {
        overrides: {
          taskResourceLocalHandlers: prepared.handlers as never,
          retryIntervalOverrides: prepared.retryIntervalOverrides,
          waitTimeOverrides: prepared.waitTimeOverrides,
        },
        context: { Execution: { Id: executionId, Name: executionId.split(':').pop() } },
      }),
    );
    abortRun = run.abort;
    ids.set(execution, executionId);
    parent?.children.add(execution);
    siblings?.add(execution);
    allRunning.add(execution);

    const fail = (error: string, cause: string) => {
      if (violation) return;
      violation = { error, cause };
      execution.abort();
    };
    const consume = (async () => {
      let iterations = 0;
      try {
        for await (const event of run.eventLogs as AsyncGenerator<LibEvent>) {
          events += eventWeight(event, prepared.distributed);
          if (event.type === 'MapIterationStarted') {
            iterations += 1;
            stats.iterationsInFlight += 1;
            if (stats.iterationsInFlight > stats.peakIterationsInFlight) stats.peakIterationsInFlight = stats.iterationsInFlight;
          } else if ((event.type === 'MapIterationSucceeded' || event.type === 'MapIterationFailed') && iterations > 0) {
            iterations -= 1;
            stats.iterationsInFlight -= 1;
          } else if (event.type === 'StateRetried' && event.state) {
            stats.retriesByState[event.state.name] = (stats.retriesByState[event.state.name] ?? 0) + 1;
          }
          if (events > quotas.historyEvents)
            fail('States.Runtime', `the execution reached Step Functions' history event limit of ${quotas.historyEvents} events`);
          const state = event.state;
          if (state && (event.type === 'StateEntered' || event.type === 'StateExited')) {
            const payload = event.type === 'StateEntered' ? state.input : state.output;
            const bytes = byteSize(payload);
            measure(bytes, `${state.name} (${event.type === 'StateEntered' ? 'input' : 'output'})`);
            if (bytes > quotas.payloadBytes)
              fail('States.DataLimitExceeded', payloadError(`${event.type === 'StateEntered' ? 'input' : 'output'} of state ${state.name}`, bytes).message);
          }
        }
      } finally {
        // An aborted execution leaves its iterations unfinished: they are no longer in flight.
        stats.iterationsInFlight -= iterations;
      }
    })();

    let ended: ExecutionEnded & { output?: unknown };
    try {
      const output = await run.result;
      ended = { executionId, input, status: 'SUCCEEDED', output, historyEvents: 0 };
    } catch (error) {
      if (error instanceof ExecutionTimeoutError)
        ended = { executionId, input, status: 'TIMED_OUT', error: 'States.Timeout', cause: 'the execution exceeded its TimeoutSeconds', historyEvents: 0 };
      else if (error instanceof ExecutionAbortedError) ended = { executionId, input, status: 'ABORTED', historyEvents: 0 };
      else if (error instanceof ExecutionError) {
        const cause = (error as { cause?: unknown }).cause as { name?: string; message?: string } | undefined;
        ended = { executionId, input, status: 'FAILED', error: cause?.name ?? 'Error', cause: cause?.message ?? String(error), historyEvents: 0 };
      } else ended = { executionId, input, status: 'FAILED', error: (error as Error)?.name ?? 'Error', cause: String(error), historyEvents: 0 };
    } finally {
      for (const c of execution.children) c.abort();
      parent?.children.delete(execution);
      siblings?.delete(execution);
      allRunning.delete(execution);
    }
    await consume.catch(() => undefined);
    // A quota violation aborts the execution: report it as the failure AWS would show.
    const v = violation;
    if (v && ended.status !== 'FAILED') ended = { executionId, input, status: 'FAILED', error: v.error, cause: v.cause, historyEvents: 0 };
    ended.historyEvents = events;
    if (events > stats.peakHistoryEvents) stats.peakHistoryEvents = events;
    return ended;
  }

  const root = prepare(definition, 'state machine');
  const allRunning = new Set<Execution>();
  const running = new Map<string, Promise<void>>();
  let counter = 0;
  let closing = false;

  return {
    async start(input) {
      const executionId = `local:${input.cloudId}-v${input.version}-${++counter}`;
      const done = execute(root, input, executionId, undefined).then(
        async (ended) => {
          if (ended.status !== 'SUCCEEDED')
            options.onError?.(executionId, `${ended.status}${ended.error ? ` ${ended.error}` : ''}${ended.cause ? `: ${ended.cause}` : ''}`);
          const { output: _output, ...summary } = ended;
          try {
            if (!(closing && ended.status === 'ABORTED')) await options.onEnded?.(summary);
          } catch (e) {
            options.onError?.(executionId, e);
          }
        },
        (error: unknown) => options.onError?.(executionId, error),
      );
      running.set(executionId, done);
      void done.finally(() => running.delete(executionId));
      return { executionId };
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running.values()]);
    },
    async close() {
      closing = true;
      for (const e of allRunning) e.abort();
      await Promise.all([...running.values()]);
    },
    stats: () => ({ ...stats }),
  };
}
