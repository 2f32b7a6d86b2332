/** Use cases across clouds: the clouds a caller may see. */
import type { Principal } from '../../lib/auth.js';
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
