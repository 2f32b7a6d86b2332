/**
 * The provisioning state machine's Lambda tasks (workflow/provisioning.asl.yml): one exported
 * handler per step, each a thin call into lib/workflow/steps.ts. STEP_FUNCTIONS maps the
 * serverless.yml function names that the ASL references (`Fn::GetAtt: [name, Arn]`) to steps,
 * which is also how the local runner finds the handler of each Task state.
 */
import { createWorkflowSteps, type WorkflowSteps } from '../lib/workflow/steps.js';
import { workflowDepsFromEnv } from './workflow-deps.js';

export const STEP_FUNCTIONS = {
  provisionPlan: 'plan',
  provisionLoadPage: 'loadPage',
  provisionEnsureRole: 'ensureRole',
  provisionEnsureTrustPolicy: 'ensureTrustPolicy',
  provisionEnsurePermissions: 'ensurePermissions',
  provisionAwaitRole: 'awaitRole',
  provisionEnsureServiceAccount: 'ensureServiceAccount',
  provisionEnsureInstanceProfile: 'ensureInstanceProfile',
  provisionRecordItem: 'recordItem',
  provisionRecordItemFailure: 'recordItemFailure',
  provisionFinalize: 'finalize',
  provisionRecordRunFailure: 'recordRunFailure',
} as const satisfies Record<string, keyof WorkflowSteps>;

export type StepFunctionName = keyof typeof STEP_FUNCTIONS;
export type TaskHandler = (input: any) => Promise<unknown>;

/** Task handlers by serverless function name, for a given set of steps. */
export function taskHandlers(steps: WorkflowSteps): Record<StepFunctionName, TaskHandler> {
  const out = {} as Record<StepFunctionName, TaskHandler>;
  for (const [fn, step] of Object.entries(STEP_FUNCTIONS) as Array<[StepFunctionName, keyof WorkflowSteps]>) {
    out[fn] = (input) => (steps[step] as TaskHandler)(input);
  }
  return out;
}

let steps: WorkflowSteps | undefined;
const lambda = (step: keyof WorkflowSteps): TaskHandler => (input) => {
  steps ??= createWorkflowSteps(workflowDepsFromEnv());
  return (steps[step] as TaskHandler)(input);
};

export const plan = lambda('plan');
export const loadPage = lambda('loadPage');
export const ensureRole = lambda('ensureRole');
export const ensureTrustPolicy = lambda('ensureTrustPolicy');
export const ensurePermissions = lambda('ensurePermissions');
export const awaitRole = lambda('awaitRole');
export const ensureServiceAccount = lambda('ensureServiceAccount');
export const ensureInstanceProfile = lambda('ensureInstanceProfile');
export const recordItem = lambda('recordItem');
export const recordItemFailure = lambda('recordItemFailure');
export const finalize = lambda('finalize');
export const recordRunFailure = lambda('recordRunFailure');
