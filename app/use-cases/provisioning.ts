/** Use cases of provisioning runs: start one for a config version, and report one. */
import { AppError } from '../../lib/errors.js';
import type { ProvisioningRun } from '../../lib/ports.js';
import type { App } from '../app.js';

export type StartOutcome = { executionId: string } | { error: string };

/**
 * Records the version's run as PENDING and starts the workflow (after a PUT, and again by the
 * scheduled pass for a run whose start was lost). The version is committed either way: if the
 * start fails the run stays PENDING and the scheduled pass starts it later.
 */
export async function startProvisioning(app: Pick<App, 'stores' | 'workflow'>, cloudId: string, version: number): Promise<StartOutcome> {
  const { runs } = app.stores;
  await runs.createRun(cloudId, version);
  try {
    const { executionId } = await app.workflow.start({ cloudId, version });
    await runs.updateRun(cloudId, version, { executionId }, { onlyFrom: ['PENDING', 'RUNNING'] });
    return { executionId };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** The run of a version (default: the latest) as the API shows it. */
export async function provisioningStatus(app: Pick<App, 'stores'>, cloudId: string, requested?: number) {
  const { configs, runs } = app.stores;
  const latest = await configs.getLatestMeta(cloudId);
  if (latest === null) throw new AppError('NOT_FOUND', `cloud ${cloudId} has no IAM mapping config`);
  const version = requested ?? latest.version;
  // Versions are 1..latest (never deleted): a run of any other was never started and never will be.
  if (version > latest.version) throw new AppError('NOT_FOUND', `cloud ${cloudId} has no config version ${version} (the latest is ${latest.version})`);
  return runView(version, await runs.getRun(cloudId, version));
}

export function runView(version: number, run: ProvisioningRun | null) {
  if (!run) return { config_version: version, status: 'PENDING' as const, resources: [], items: [] };
  return {
    config_version: run.configVersion,
    status: run.status,
    ...(run.reason ? { reason: run.reason } : {}),
    ...(run.error ? { error: run.error } : {}),
    created_at: run.createdAt,
    ...(run.startedAt ? { started_at: run.startedAt } : {}),
    ...(run.finishedAt ? { finished_at: run.finishedAt } : {}),
    ...(run.executionId ? { execution_id: run.executionId } : {}),
    item_count: run.itemCount ?? null,
    items: run.items.map((i) => ({ name: i.name, kind: i.kind, status: i.status, ...(i.error ? { error: i.error } : {}) })),
    resources: run.items.flatMap((i) => i.resources),
    ...(run.lingering?.length ? { lingering: run.lingering } : {}),
    ...(run.warnings?.length ? { warnings: run.warnings } : {}),
  };
}
