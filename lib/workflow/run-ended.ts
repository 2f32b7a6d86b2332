/**
 * Runs always end. The state machine records its own outcome (Finalize, RecordRunFailure), but
 * an execution can also end where no Catch applies: a terminal error (States.DataLimitExceeded,
 * the history limit), its TimeoutSeconds, an operator's StopExecution, a crash of the local
 * process. Then:
 * - `recordExecutionEnd` marks the run FAILED with the cause (deployed: the runEnded Lambda on
 *   EventBridge's "Step Functions Execution Status Change"; locally: the runner's end hook);
 * - `resumeUnfinishedRuns` (start of `npm start`) starts again the latest version's run of each
 *   cloud that was left PENDING or RUNNING by a process that died — the steps are idempotent, so
 *   resuming redoes only what is missing;
 * - `runOutlived` lets drift treat a RUNNING run older than the execution timeout as ended.
 */
import type { ConfigStore, ProvisioningRun, ProvisioningRunStore, WorkflowStarter } from '../ports.js';

/** The state machine's TimeoutSeconds (workflow/provisioning.asl.yml; a test keeps them equal). */
export const EXECUTION_TIMEOUT_SECONDS = 10_800;

export interface ExecutionEnd {
  cloudId: string;
  version: number;
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  executionId?: string;
  error?: string;
  cause?: string;
}

const MAX_CAUSE = 2_000;

/** Marks the run FAILED unless it already ended (conditional: only from PENDING/RUNNING). True when it did. */
export async function recordExecutionEnd(runs: ProvisioningRunStore, end: ExecutionEnd, now: () => Date = () => new Date()): Promise<boolean> {
  if (end.status === 'SUCCEEDED') return false;
  const how = end.status === 'TIMED_OUT' ? 'timed out' : end.status === 'ABORTED' ? 'was aborted' : 'failed';
  const cause = end.cause ? `: ${end.cause.length > MAX_CAUSE ? `${end.cause.slice(0, MAX_CAUSE)}…` : end.cause}` : '';
  const message = `the provisioning execution${end.executionId ? ` ${end.executionId}` : ''} ${how}${end.error ? ` with ${end.error}` : ''}${cause}`;
  const name = end.status === 'TIMED_OUT' ? 'ExecutionTimedOut' : end.status === 'ABORTED' ? 'ExecutionAborted' : (end.error ?? 'ExecutionFailed');
  return runs.updateRun(
    end.cloudId,
    end.version,
    { status: 'FAILED', finishedAt: now().toISOString(), error: { name, message } },
    { onlyFrom: ['PENDING', 'RUNNING'] },
  );
}

/** A RUNNING run older than the execution timeout: its execution cannot still be running. */
export function runOutlived(run: Pick<ProvisioningRun, 'status' | 'startedAt' | 'updatedAt' | 'createdAt'>, now: Date = new Date()): boolean {
  if (run.status !== 'RUNNING') return false;
  const since = Date.parse(run.startedAt ?? run.updatedAt ?? run.createdAt);
  return Number.isFinite(since) && now.getTime() - since > EXECUTION_TIMEOUT_SECONDS * 1000;
}

export interface ResumeDeps {
  configs: Pick<ConfigStore, 'listClouds' | 'getLatestMeta'>;
  runs: ProvisioningRunStore;
  workflow: WorkflowStarter;
}

export interface Resumed {
  cloudId: string;
  version: number;
  from: string;
  executionId?: string;
  error?: string;
}

/**
 * Start-up of a single-process deployment (`npm start`): no execution survives the process, so
 * every latest-version run still PENDING or RUNNING was cut off. Each is started again.
 */
export async function resumeUnfinishedRuns(deps: ResumeDeps): Promise<Resumed[]> {
  const out: Resumed[] = [];
  for (const cloudId of await deps.configs.listClouds()) {
    const latest = await deps.configs.getLatestMeta(cloudId);
    if (!latest) continue;
    const run = await deps.runs.getRun(cloudId, latest.version);
    if (run && run.status !== 'PENDING' && run.status !== 'RUNNING') continue;
    const resumed: Resumed = { cloudId, version: latest.version, from: run?.status ?? 'not started' };
    try {
      await deps.runs.createRun(cloudId, latest.version);
      const { executionId } = await deps.workflow.start({ cloudId, version: latest.version });
      resumed.executionId = executionId;
      await deps.runs.updateRun(cloudId, latest.version, { executionId }, { onlyFrom: ['PENDING', 'RUNNING'] });
    } catch (e) {
      resumed.error = e instanceof Error ? e.message : String(e);
    }
    out.push(resumed);
  }
  return out;
}
