/** Starts the provisioning state machine (deployed): one execution per config version. */
import { createHash } from 'node:crypto';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { WorkflowStarter } from '../../lib/ports.js';
import { cachedOnce } from '../../lib/promise-cache.js';

/**
 * The state machine is named by ARN, or by name (serverless.yml sets the name; the ARN is then
 * built from the region and the account the function runs in, read once from STS).
 */
export class StepFunctionsStarter implements WorkflowStarter {
  private readonly client: SFNClient;
  private readonly stateMachineArn: () => Promise<string>;

  constructor(
    private readonly stateMachine: { arn: string } | { name: string },
    private readonly options: { region: string; client?: SFNClient; sts?: STSClient },
  ) {
    this.client = options.client ?? new SFNClient({ region: options.region, maxAttempts: 3 });
    this.stateMachineArn = cachedOnce(async () => {
      if ('arn' in stateMachine) return stateMachine.arn;
      const sts = options.sts ?? new STSClient({ region: options.region });
      const id = await sts.send(new GetCallerIdentityCommand({}));
      const partition = id.Arn?.split(':')[1] ?? 'aws';
      return `arn:${partition}:states:${options.region}:${id.Account}:stateMachine:${stateMachine.name}`;
    });
  }

  async start(input: { cloudId: string; version: number; only?: string[] }): Promise<{ executionId: string }> {
    // A version's full run has one name (a second start of it is refused by Step Functions);
    // partial runs (drift repairs) are named by time.
    const stateMachineArn = await this.stateMachineArn();
    const send = (name: string) => this.client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    const timed = () => executionName(input.cloudId, input.version, `r${Date.now().toString(36)}`);
    const name = input.only ? timed() : executionName(input.cloudId, input.version);
    try {
      const res = await send(name);
      return { executionId: res.executionArn ?? name };
    } catch (e) {
      // The version's run was started before and then lost (the scheduled check restarts runs
      // that never left PENDING): start it again under a new name.
      if ((e as Error).name !== 'ExecutionAlreadyExists' || input.only) throw e;
      const retry = timed();
      const res = await send(retry);
      return { executionId: res.executionArn ?? retry };
    }
  }
}

/** Execution names are unique per state machine (≤ 80 chars of [A-Za-z0-9_-]): the same version never runs twice at once. */
export function executionName(cloudId: string, version: number, tag?: string): string {
  const safe = cloudId.replace(/[^A-Za-z0-9_-]/g, '_');
  const suffix = `-v${version}${tag ? `-${tag}` : ''}`;
  if (safe.length + suffix.length <= 80) return `${safe}${suffix}`;
  const hash = createHash('sha256').update(cloudId).digest('hex').slice(0, 8);
  return `${safe.slice(0, 80 - suffix.length - 9)}_${hash}${suffix}`;
}
