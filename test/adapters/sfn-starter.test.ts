import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { StepFunctionsStarter, executionName } from '../../adapters/aws/sfn-starter.js';

const sfn = mockClient(SFNClient);
const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:iam-mapping-dev-provisioning';

describe('StepFunctionsStarter', () => {
  beforeEach(() => sfn.reset());

  it('names a version run after the cloud and version, with the config version as input', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${arn}:x` });
    const starter = new StepFunctionsStarter({ arn }, { region: 'us-east-1', client: sfn as unknown as SFNClient });
    await starter.start({ cloudId: 'cldrsrc_XXXX', version: 3 });
    const input = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ stateMachineArn: arn, name: 'cldrsrc_XXXX-v3', input: JSON.stringify({ cloudId: 'cldrsrc_XXXX', version: 3 }) });
  });

  it('restarts a lost run under a new name when the first name is taken', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejectsOnce(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }))
      .resolves({ executionArn: `${arn}:y` });
    const starter = new StepFunctionsStarter({ arn }, { region: 'us-east-1', client: sfn as unknown as SFNClient });
    expect(await starter.start({ cloudId: 'cldrsrc_XXXX', version: 3 })).toEqual({ executionId: `${arn}:y` });
    const names = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
    expect(names[0]).toBe('cldrsrc_XXXX-v3');
    expect(names[1]).toMatch(/^cldrsrc_XXXX-v3-r[0-9a-z]+$/);
  });

  it('keeps execution names within Step Functions limits', () => {
    const name = executionName('c'.repeat(128), 1_234_567, 'rabc');
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(executionName('c'.repeat(128), 1)).not.toBe(executionName(`${'c'.repeat(127)}d`, 1));
  });
});
