/** GET /v1/clouds/{cloud}/iam-mapping/provisioning — the provisioning run of the latest config version. */
import middy from '@middy/core';
import { AppError } from '../lib/errors.js';
import type { ProvisioningRun } from '../lib/ports.js';
import { cloudOf } from './cloud.js';
import { lazyEnvDeps, type Deps } from './deps.js';
import { json, type HttpEvent, type HttpResult } from './http.js';
import { authorize } from './middleware/auth.js';
import { errorResponses } from './middleware/errors.js';

export function runView(version: number, run: ProvisioningRun | null) {
  if (!run) return { config_version: version, status: 'PENDING', resources: [], items: [] };
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
  };
}

export function createProvisioningStatusHandler(getDeps: () => Deps) {
  const status = async (event: HttpEvent): Promise<HttpResult> => {
    const cloudId = cloudOf(event);
    const { configs, runs } = getDeps();
    const requested = event.queryStringParameters?.version;
    const version = requested && /^[1-9]\d{0,9}$/.test(requested) ? Number(requested) : (await configs.getLatestMeta(cloudId))?.version;
    if (version === undefined) throw new AppError('NOT_FOUND', `cloud ${cloudId} has no IAM mapping config`);
    return json(200, runView(version, await runs.getRun(cloudId, version)));
  };
  return middy(status).use(errorResponses()).use(authorize('read'));
}

export const handler = createProvisioningStatusHandler(lazyEnvDeps());
