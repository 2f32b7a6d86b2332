/**
 * EventBridge rule on Step Functions' "Execution Status Change" (FAILED, TIMED_OUT, ABORTED) of
 * the provisioning state machine (serverless.yml `provisioningRunEnded`): an execution that ended
 * outside the states' Catch — a terminal error such as States.DataLimitExceeded, its
 * TimeoutSeconds, a StopExecution — marks its run FAILED with the cause, so no run stays RUNNING
 * (lib/workflow/run-ended.ts; a run the state machine already ended is left as it is).
 */
import { recordExecutionEnd, type ExecutionEnd } from '../lib/workflow/run-ended.js';
import type { ProvisioningRunStore } from '../lib/ports.js';
import { lambdaApp } from './lambda-app.js';
import { logger } from './observability.js';

/** The `detail` of a "Step Functions Execution Status Change" event (the fields used). */
export interface ExecutionStatusChange {
  'detail-type'?: string;
  detail: {
    executionArn: string;
    stateMachineArn?: string;
    status: string;
    /** The execution's input as a JSON string (null when larger than EventBridge carries). */
    input?: string | null;
    error?: string | null;
    cause?: string | null;
  };
}

const ENDED = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

export function createRunEndedHandler(getRuns: () => ProvisioningRunStore) {
  return async (event: ExecutionStatusChange): Promise<{ recorded: boolean; reason?: string }> => {
    const { detail } = event;
    if (!ENDED.has(detail.status)) return { recorded: false, reason: `status ${detail.status} needs nothing` };
    let input: { cloudId?: unknown; version?: unknown } = {};
    try {
      input = JSON.parse(detail.input ?? '{}') as typeof input;
    } catch {
      // not ours
    }
    if (typeof input.cloudId !== 'string' || typeof input.version !== 'number') {
      logger.warn('execution status change without a cloudId/version input; ignored', { executionArn: detail.executionArn });
      return { recorded: false, reason: 'input names no run' };
    }
    const end: ExecutionEnd = {
      cloudId: input.cloudId,
      version: input.version,
      status: detail.status as ExecutionEnd['status'],
      executionId: detail.executionArn,
      ...(detail.error ? { error: detail.error } : {}),
      ...(detail.cause ? { cause: detail.cause } : {}),
    };
    const recorded = await recordExecutionEnd(getRuns(), end);
    logger.info(recorded ? 'provisioning run marked FAILED after its execution ended' : 'provisioning run had already ended', { ...end });
    return { recorded };
  };
}

const app = lambdaApp();
export const handler = createRunEndedHandler(() => app().stores.runs);
