/** Use cases across a cloud's configs: the clouds a caller may see, and the clusters pinned by sticky resolution. */
import type { Principal } from '../../lib/auth.js';
import { AppError } from '../../lib/errors.js';
import type { App } from '../app.js';

const BATCH = 10;

/** The clouds in the caller's scope that have a config, by id, with their latest version. */
export async function listClouds(app: Pick<App, 'stores'>, principal: Principal, inScope: (principal: Principal, cloudId: string) => boolean) {
  const { configs } = app.stores;
  const ids = (await configs.listClouds()).filter((id) => inScope(principal, id)).sort();
  const out = [];
  for (let i = 0; i < ids.length; i += BATCH) {
    for (const stored of await Promise.all(ids.slice(i, i + BATCH).map((id) => configs.getVersion(id)))) {
      if (!stored) continue;
      const doc = stored.document as { cloud_provider: 'AWS' | 'GCP'; compute_stack: 'VM' | 'K8S' };
      out.push({
        cloud_deployment_id: stored.cloudId,
        version: stored.version,
        cloud_provider: doc.cloud_provider,
        compute_stack: doc.compute_stack,
        updated_at: stored.createdAt,
      });
    }
  }
  return out;
}

/** The clusters of a cloud whose first answer is kept, by cluster id. */
export async function listBindings(app: Pick<App, 'stores'>, cloudId: string) {
  const kept = await app.stores.sticky.listSticky(cloudId);
  return kept
    .map(({ clusterId, resolution }) => ({
      cluster_id: clusterId,
      value: resolution.value,
      config_version: resolution.config_version,
      created_at: resolution.resolved_at,
    }))
    .sort((a, b) => (a.cluster_id < b.cluster_id ? -1 : a.cluster_id > b.cluster_id ? 1 : 0));
}

/** Forgets one cluster's kept answer (its next resolve follows the current version); NOT_FOUND when it had none. */
export async function forgetBinding(app: Pick<App, 'stores'>, cloudId: string, clusterId: string): Promise<void> {
  if (!(await app.stores.sticky.deleteSticky(cloudId, clusterId))) {
    throw new AppError('NOT_FOUND', `cluster ${clusterId} of cloud ${cloudId} is not pinned`);
  }
}
