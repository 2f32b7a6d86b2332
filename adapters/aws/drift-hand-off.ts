/**
 * The drift worker, deployed: an on-demand drift check that outlasts the HTTP deadline is queued as
 * an asynchronous invocation (`InvocationType: Event`) of the drift schedule function, whose
 * 15 minutes suffice for any account, with the check's request as the event. Lambda accepts the
 * event (202) and runs it in the background; the function tells it from EventBridge's scheduled
 * events by `kind` (`driftCheckRequestOf`).
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { DriftCheckHandOff, DriftCheckRequest } from '../../lib/ports.js';

export const DRIFT_CHECK_EVENT_KIND = 'iam-mapping.drift-check';

/** The event the worker receives. */
export interface DriftCheckEvent {
  kind: typeof DRIFT_CHECK_EVENT_KIND;
  cloud_deployment_id: string;
  repair?: boolean;
  requested_at: string;
  requested_by?: string;
}

export function driftCheckEvent(request: DriftCheckRequest): DriftCheckEvent {
  return {
    kind: DRIFT_CHECK_EVENT_KIND,
    cloud_deployment_id: request.cloudId,
    ...(request.repair !== undefined ? { repair: request.repair } : {}),
    requested_at: request.requestedAt,
    ...(request.requestedBy !== undefined ? { requested_by: request.requestedBy } : {}),
  };
}

/**
 * The request an event carries; null for any other event (EventBridge's scheduled ones). An event
 * of our kind that is malformed throws, naming the field.
 */
export function driftCheckRequestOf(event: unknown): DriftCheckRequest | null {
  if (event === null || typeof event !== 'object' || (event as { kind?: unknown }).kind !== DRIFT_CHECK_EVENT_KIND) return null;
  const e = event as Record<string, unknown>;
  const bad = (field: string, what: string) => new Error(`drift check event: ${field} ${what}`);
  if (typeof e.cloud_deployment_id !== 'string' || e.cloud_deployment_id === '') throw bad('cloud_deployment_id', 'must be a cloud id');
  if (typeof e.requested_at !== 'string' || Number.isNaN(Date.parse(e.requested_at))) throw bad('requested_at', 'must be an ISO 8601 time');
  if (e.repair !== undefined && typeof e.repair !== 'boolean') throw bad('repair', 'must be true or false');
  if (e.requested_by !== undefined && typeof e.requested_by !== 'string') throw bad('requested_by', 'must be a string');
  return {
    cloudId: e.cloud_deployment_id,
    requestedAt: e.requested_at,
    ...(e.repair !== undefined ? { repair: e.repair } : {}),
    ...(e.requested_by !== undefined ? { requestedBy: e.requested_by } : {}),
  };
}

export class LambdaDriftHandOff implements DriftCheckHandOff {
  private readonly client: LambdaClient;

  constructor(
    private readonly functionName: string,
    options: { region: string; client?: LambdaClient },
  ) {
    this.client = options.client ?? new LambdaClient({ region: options.region, maxAttempts: 3 });
  }

  async handOff(request: DriftCheckRequest): Promise<void> {
    const res = await this.client.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(driftCheckEvent(request))),
      }),
    );
    // An asynchronous invocation is queued with 202; anything else did not queue it.
    if (res.StatusCode !== 202) throw new Error(`Lambda did not queue the drift check of ${request.cloudId} (status ${res.StatusCode ?? 'none'})`);
  }
}
