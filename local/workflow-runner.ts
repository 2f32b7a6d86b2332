/**
 * Runs the provisioning state machine in-process with aws-local-stepfunctions, from the same
 * ASL file that deploys (workflow/provisioning.asl.yml). Each Task's `Fn::GetAtt: [fn, Arn]`
 * names the serverless function whose handler runs it; retry intervals and the IAM propagation
 * wait are shortened for local use (configurable).
 */
import './polyfills.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StateMachine } from 'aws-local-stepfunctions';
import { parse } from 'yaml';
import type { WorkflowStarter } from '../lib/ports.js';

export const DEFINITION_FILE = fileURLToPath(new URL('../workflow/provisioning.asl.yml', import.meta.url));

type Json = Record<string, unknown>;
export type TaskHandler = (input: any) => Promise<unknown>;

export interface LocalRunnerOptions {
  handlers: Record<string, TaskHandler>;
  /** Milliseconds between retries (instead of the definition's seconds). */
  retryIntervalMs?: number;
  /** Milliseconds for Wait states (instead of the definition's seconds). */
  waitMs?: number;
  onError?: (executionId: string, error: unknown) => void;
}

export function loadDefinition(file = DEFINITION_FILE): Json {
  return parse(readFileSync(file, 'utf8')) as Json;
}

interface TaskState {
  name: string;
  fn: string;
}

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
      const processor = (state.ItemProcessor ?? state.Iterator) as Json | undefined;
      if (processor?.States) walk(processor.States as Record<string, Json>);
    }
  };
  walk(definition.States as Record<string, Json>);
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
  const out: string[] = [];
  const walk = (states: Record<string, Json>) => {
    for (const [name, state] of Object.entries(states)) {
      if (predicate(state)) out.push(name);
      const processor = (state.ItemProcessor ?? state.Iterator) as Json | undefined;
      if (processor?.States) walk(processor.States as Record<string, Json>);
    }
  };
  walk(definition.States as Record<string, Json>);
  return out;
}

export interface LocalWorkflowRunner extends WorkflowStarter {
  /** Resolves when no execution is running. */
  idle(): Promise<void>;
  /** Aborts running executions. */
  close(): Promise<void>;
}

export function createLocalWorkflowRunner(options: LocalRunnerOptions): LocalWorkflowRunner {
  const definition = loadDefinition();
  const taskResourceLocalHandlers: Record<string, TaskHandler> = {};
  for (const { name, fn } of taskStates(definition)) {
    const handler = options.handlers[fn];
    if (!handler) throw new Error(`no local handler for function ${fn} (state ${name})`);
    taskResourceLocalHandlers[name] = handler;
  }
  const retryMs = options.retryIntervalMs ?? 50;
  const retryIntervalOverrides = Object.fromEntries(statesWith(definition, (s) => Array.isArray(s.Retry)).map((n) => [n, retryMs]));
  const waitTimeOverrides = Object.fromEntries(statesWith(definition, (s) => s.Type === 'Wait').map((n) => [n, options.waitMs ?? 100]));
  const machine = new StateMachine(withArns(definition) as never, { validationOptions: { checkPaths: true, checkArn: true } });

  const running = new Map<string, { done: Promise<void>; abort: () => void }>();
  let counter = 0;

  return {
    async start(input) {
      const executionId = `local:${input.cloudId}-v${input.version}-${++counter}`;
      const execution = machine.run(input, {
        overrides: { taskResourceLocalHandlers: taskResourceLocalHandlers as never, retryIntervalOverrides, waitTimeOverrides },
        noThrowOnAbort: true,
      });
      const done = execution.result.then(
        () => undefined,
        (error: unknown) => options.onError?.(executionId, error),
      );
      running.set(executionId, { done, abort: execution.abort });
      void done.finally(() => running.delete(executionId));
      return { executionId };
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running.values()].map((r) => r.done));
    },
    async close() {
      for (const r of running.values()) r.abort();
      await Promise.all([...running.values()].map((r) => r.done));
    },
  };
}
