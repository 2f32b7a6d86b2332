/**
 * GET /v1/clouds/{cloud}/iam-mapping/bindings lists the clusters sticky resolution pinned;
 * DELETE .../bindings/{cluster_id} (owner) forgets one, audited, so its next resolve follows the
 * current version.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../../functions/observability.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

const CLOUD = 'cldrsrc_XXXX';
const BASE = `/v1/clouds/${CLOUD}/iam-mapping`;
const launch = { workload_type: 'job', project: 'p', user: 'user2@example.com' };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ driftIntervalSeconds: 0 });
  expect((await h.api('PUT', BASE, { body: SEED_EXAMPLES.eks })).status).toBe(200);
});
afterAll(async () => {
  await h?.stop();
});

describe('bindings', () => {
  it('lists the pinned clusters (all roles), by cluster id', async () => {
    expect((await h.api('GET', `${BASE}/bindings`, { role: 'viewer' })).json).toEqual([]);
    for (const cluster_id of ['ses_b', 'ses_a']) {
      expect((await h.api('POST', `${BASE}/resolve`, { role: 'control-plane', body: { ...launch, cluster_id } })).status).toBe(200);
    }
    for (const role of ['owner', 'control-plane', 'viewer'] as const) {
      const res = await h.api('GET', `${BASE}/bindings`, { role });
      expect(res.status, role).toBe(200);
      expect(res.json).toEqual([
        { cluster_id: 'ses_a', value: 'kubernetes-service-account-name2', config_version: 1, created_at: expect.any(String) },
        { cluster_id: 'ses_b', value: 'kubernetes-service-account-name2', config_version: 1, created_at: expect.any(String) },
      ]);
    }
    expect((await h.api('GET', `${BASE}/bindings`, { role: null })).status).toBe(401);
    expect((await h.api('GET', '/v1/clouds/cldrsrc_none/iam-mapping/bindings', { role: 'viewer' })).json).toEqual([]);
  });

  it('forgets one cluster (owner only, audited): 204, then 404; its next resolve follows the current version', async () => {
    const changed = SEED_EXAMPLES.eks.replace('kubernetes-service-account-name2', 'sa-changed');
    const put = await h.api('PUT', BASE, { body: changed });
    expect(put.status).toBe(200);
    // The two pinned clusters keep an identity version 2 no longer gives: the PUT says so.
    const pinned = put.json.warnings.filter((w: { code: string }) => w.code === 'PINNED_IDENTITY');
    expect(pinned).toHaveLength(1);
    expect(pinned[0].message).toMatch(/^2 pinned clusters \(ses_a, ses_b\) keep identity kubernetes-service-account-name2, which version 2 no longer gives/);
    const kept = await h.api('POST', `${BASE}/resolve`, { role: 'control-plane', body: { ...launch, cluster_id: 'ses_a' } });
    expect(kept.json).toMatchObject({ value: 'kubernetes-service-account-name2', sticky: true });

    expect((await h.api('DELETE', `${BASE}/bindings/ses_a`, { role: 'viewer' })).status).toBe(403);
    expect((await h.api('DELETE', `${BASE}/bindings/ses_a`, { role: 'control-plane' })).status).toBe(403);
    const audit = vi.spyOn(logger, 'info');
    try {
      const gone = await h.api('DELETE', `${BASE}/bindings/ses_a`, { role: 'owner' });
      expect(gone.status).toBe(204);
      expect(gone.text).toBe('');
      expect(audit).toHaveBeenCalledWith(
        'pinned cluster forgotten',
        expect.objectContaining({ cloudId: CLOUD, clusterId: 'ses_a', subject: 'owner@example.com' }),
      );
    } finally {
      audit.mockRestore();
    }
    const again = await h.api('DELETE', `${BASE}/bindings/ses_a`, { role: 'owner' });
    expect(again.status).toBe(404);
    expect(again.json.error.code).toBe('NOT_FOUND');

    expect((await h.api('GET', `${BASE}/bindings`, { role: 'viewer' })).json.map((b: { cluster_id: string }) => b.cluster_id)).toEqual(['ses_b']);
    const fresh = await h.api('POST', `${BASE}/resolve`, { role: 'control-plane', body: { ...launch, cluster_id: 'ses_a' } });
    expect(fresh.json).toMatchObject({ value: 'sa-changed', sticky: false, config_version: 2 });
  });

  it('refuses a malformed cluster id with 400 naming it', async () => {
    const res = await h.api('DELETE', `${BASE}/bindings/${encodeURIComponent('a b')}`, { role: 'owner' });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([{ path: 'cluster_id', message: 'must be 1-255 letters, digits or _.:-' }]);
  });
});
