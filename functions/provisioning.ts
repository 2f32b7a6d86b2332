/**
 * The provisioning state machine's Lambda tasks (workflow/provisioning.asl.yml): one exported
 * handler per step, each a thin call into lib/workflow/steps.ts over the app's ports. STEP_FUNCTIONS
 * maps the serverless.yml function names that the ASL references (`Fn::GetAtt: [name, Arn]`) to
 * steps, which is also how the local runner finds the handler of each Task state.
 */
import type { App } from '../app/app.js';
import { createWorkflowSteps, type WorkflowSteps } from '../lib/workflow/steps.js';
import { lambdaApp } from './lambda-app.js';
import { awsTargets } from './targets.js';
import { gcpTargets } from './gcp-targets.js';
import { gcpDefaultsFromEnv } from './gcp-env.js';

export const STEP_FUNCTIONS = {
  provisionPlan: 'plan',
  provisionLoadPage: 'loadPage',
  provisionEnsureRole: 'ensureRole',
  provisionEnsureTrustPolicy: 'ensureTrustPolicy',
  provisionEnsurePermissions: 'ensurePermissions',
  provisionAwaitRole: 'awaitRole',
  provisionEnsureServiceAccount: 'ensureServiceAccount',
  provisionEnsureInstanceProfile: 'ensureInstanceProfile',
  provisionEnsureAssociation: 'ensureAssociation',
  provisionFinishMigration: 'finishMigration',
  provisionRecordItem: 'recordItem',
  provisionRecordItemFailure: 'recordItemFailure',
  provisionFinalize: 'finalize',
  provisionRecordRunFailure: 'recordRunFailure',
  provisionGcpEnsureAccount: 'gcpEnsureAccount',
  provisionGcpEnsureAccountPolicy: 'gcpEnsureAccountPolicy',
  provisionGcpEnsureBucketAccess: 'gcpEnsureBucketAccess',
  provisionGcpEnsureServiceAccount: 'gcpEnsureServiceAccount',
} as const satisfies Record<string, keyof WorkflowSteps>;

export type StepFunctionName = keyof typeof STEP_FUNCTIONS;
export type TaskHandler = (input: any) => Promise<unknown>;

/** Task handlers by serverless function name; the steps are built on the first task (once per warm container). */
export function taskHandlers(buildSteps: () => WorkflowSteps): Record<StepFunctionName, TaskHandler> {
  let steps: WorkflowSteps | undefined;
  const out = {} as Record<StepFunctionName, TaskHandler>;
  for (const [fn, step] of Object.entries(STEP_FUNCTIONS) as Array<[StepFunctionName, keyof WorkflowSteps]>) {
    out[fn] = (input) => ((steps ??= buildSteps())[step] as TaskHandler)(input);
  }
  return out;
}

const app: () => App = lambdaApp((env) => ({ targets: awsTargets(env), gcp: gcpTargets(env), extraDefaults: gcpDefaultsFromEnv(env) }));
const tasks = taskHandlers(() => createWorkflowSteps(app().workflowDeps));

export const plan = tasks.provisionPlan;
export const loadPage = tasks.provisionLoadPage;
export const ensureRole = tasks.provisionEnsureRole;
export const ensureTrustPolicy = tasks.provisionEnsureTrustPolicy;
export const ensurePermissions = tasks.provisionEnsurePermissions;
export const awaitRole = tasks.provisionAwaitRole;
export const ensureServiceAccount = tasks.provisionEnsureServiceAccount;
export const ensureInstanceProfile = tasks.provisionEnsureInstanceProfile;
export const ensureAssociation = tasks.provisionEnsureAssociation;
export const finishMigration = tasks.provisionFinishMigration;
export const recordItem = tasks.provisionRecordItem;
export const recordItemFailure = tasks.provisionRecordItemFailure;
export const finalize = tasks.provisionFinalize;
export const recordRunFailure = tasks.provisionRecordRunFailure;
export const gcpEnsureAccount = tasks.provisionGcpEnsureAccount;
export const gcpEnsureAccountPolicy = tasks.provisionGcpEnsureAccountPolicy;
export const gcpEnsureBucketAccess = tasks.provisionGcpEnsureBucketAccess;
export const gcpEnsureServiceAccount = tasks.provisionGcpEnsureServiceAccount;
