/** The provisioning starter of deployed functions: Step Functions `StartExecution` on the state machine the environment names. */
import { StepFunctionsStarter } from '../adapters/aws/sfn-starter.js';
import type { WorkflowStarter } from '../lib/ports.js';
import { regionOf } from './lambda-app.js';

export function stepFunctionsFromEnv(env: NodeJS.ProcessEnv): WorkflowStarter {
  const machine = env.STATE_MACHINE_ARN ? { arn: env.STATE_MACHINE_ARN } : env.STATE_MACHINE_NAME ? { name: env.STATE_MACHINE_NAME } : null;
  if (!machine) return { start: async () => Promise.reject(new Error('STATE_MACHINE_NAME is not set: provisioning cannot start')) };
  return new StepFunctionsStarter(machine, { region: regionOf(env) });
}
