/** GET /v1/clouds: the clouds in the caller's scope that have a config, with their latest version. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listClouds } from '../../app/use-cases/clouds.js';
import { inScope, type Principal } from '../../lib/auth.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ driftIntervalSeconds: 0 });
});
afterAll(async () => {
  await h?.stop();
});

const seed = (yaml: string, cloud: string) => yaml.replace(/cldrsrc_XXXX/g, cloud);

describe('GET /v1/clouds', () => {
  it('is empty before any config, then lists each cloud once with its latest version, for every role', async () => {
    const empty = await h.api('GET', '/v1/clouds', { role: 'viewer' });
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual([]);
    expect((await h.api('PUT', '/v1/clouds/cldrsrc_b/iam-mapping', { body: seed(SEED_EXAMPLES.eks, 'cldrsrc_b') })).status).toBe(200);
    expect((await h.api('PUT', '/v1/clouds/cldrsrc_a/iam-mapping', { body: seed(SEED_EXAMPLES.awsVm, 'cldrsrc_a') })).status).toBe(200);
    const second = await h.api('PUT', '/v1/clouds/cldrsrc_b/iam-mapping', { body: seed(SEED_EXAMPLES.eks, 'cldrsrc_b').replace('CLOUD_DEFAULT', 'FAIL') });
    expect(second.json.version).toBe(2);
    for (const role of ['owner', 'control-plane', 'viewer'] as const) {
      const res = await h.api('GET', '/v1/clouds', { role });
      expect(res.status, role).toBe(200);
      expect(res.json).toEqual([
        { cloud_deployment_id: 'cldrsrc_a', version: 1, cloud_provider: 'AWS', compute_stack: 'VM', updated_at: expect.any(String) },
        { cloud_deployment_id: 'cldrsrc_b', version: 2, cloud_provider: 'AWS', compute_stack: 'K8S', updated_at: expect.any(String) },
      ]);
    }
  });

  it('needs a token', async () => {
    const res = await h.api('GET', '/v1/clouds', { role: null });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('UNAUTHORIZED');
  });

  it('lists only the clouds in the principal’s scope', async () => {
    const as = (clouds: string[]): Principal => ({ subject: 'v@example.com', roles: ['viewer'], clouds });
    const ids = async (p: Principal) => (await listClouds(h.server.app, p, inScope)).map((c) => c.cloud_deployment_id);
    expect(await ids(as(['*']))).toEqual(['cldrsrc_a', 'cldrsrc_b']);
    expect(await ids(as(['cldrsrc_b', 'cldrsrc_other']))).toEqual(['cldrsrc_b']);
    expect(await ids(as([]))).toEqual([]);
  });
});
