/**
 * runDriftCheck's choice of the desired state (the newest SUCCEEDED version; none; GCP; a run in
 * progress), and the drift report store (history, same-millisecond keys, size limit).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeReport } from '../../adapters/dynamodb/drift-store.js';
import { runDriftCheck } from '../../lib/drift/check.js';
import type { DriftFinding, DriftReport } from '../../lib/ports.js';
import { roleNameFor } from '../../lib/provisioning/naming.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ driftIntervalSeconds: 0 });
});
afterAll(async () => {
  await h?.stop();
});

const config = (cloud: string, names: [string, string], provisioning = '') =>
  SEED_EXAMPLES.eks.replace('cldrsrc_XXXX', cloud).replace('kubernetes-service-account-name1', names[0]).replace('kubernetes-service-account-name2', names[1]) +
  (provisioning ? `${provisioning}\n` : '');

async function putAndWait(cloud: string, body: string, contentType?: string): Promise<string> {
  const res = await h.api('PUT', `/v1/clouds/${cloud}/iam-mapping`, { body, ...(contentType ? { contentType } : {}) });
  expect(res.status, res.text).toBe(200);
  await h.server.workflow.idle();
  return (await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/provisioning`)).json.status;
}

describe('desired state', () => {
  it('409 while provisioning runs; the check afterwards is clean', async () => {
    const cloud = 'cldrsrc_busy';
    h.server.sandbox!.setLatency(40);
    try {
      const res = await h.api('PUT', `/v1/clouds/${cloud}/iam-mapping`, { body: config(cloud, ['busy-a', 'busy-b']) });
      expect(res.status).toBe(200);
      const busy = await h.api('POST', `/v1/clouds/${cloud}/drift-checks`);
      expect(busy.status).toBe(409);
      expect(busy.json.error.code).toBe('CONFLICT');
      expect(busy.json.error.message).toMatch(/provisioning of config version 1 is (PENDING|RUNNING|not started)/);
    } finally {
      h.server.sandbox!.setLatency(0);
    }
    await h.server.workflow.idle();
    expect((await h.api('POST', `/v1/clouds/${cloud}/drift-checks`)).json.status).toBe('clean');
  });

  // Was "GCP: nothing to compare": GKE identities are provisioned now (issue 14), so they are compared.
  it('GCP: the provisioned GKE identities are compared: clean (stored, so latest answers)', async () => {
    const cloud = 'cldrsrc_gke';
    expect(await putAndWait(cloud, SEED_EXAMPLES.gke.replace('cldrsrc_XXXX', cloud))).toBe('SUCCEEDED');
    const report = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`)).json;
    expect(report).toMatchObject({ status: 'clean', drifted: false, findings: [], config_version: 1 });
    expect((await h.api('GET', `/v1/clouds/${cloud}/drift-checks/latest`, { role: 'viewer' })).json.status).toBe('clean');
  });

  it('latest version FAILED: compares with the newest SUCCEEDED one, keeps the newer version’s resources, repairs nothing', async () => {
    const cloud = 'cldrsrc_failed';
    expect(await putAndWait(cloud, config(cloud, ['ok-a', 'ok-a'], 'provisioning: { drift: { mode: repair } }'))).toBe('SUCCEEDED');
    // Version 2 adds a service account in a namespace that does not exist: its run FAILS after creating the role.
    const v2 = config(cloud, ['ok-a', 'ok-b'], 'provisioning: { drift: { mode: repair }, service_accounts: { ok-b: { namespaces: [nowhere] } } }');
    expect(await putAndWait(cloud, v2)).toBe('FAILED');
    expect(h.server.sandbox!.iam.findRole(roleNameFor('iam-mapping-', cloud, 'ok-b'))).toBeDefined();

    const clean = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`)).json;
    expect(clean).toMatchObject({ status: 'clean', config_version: 1, latest_version: 2, findings: [] });
    expect(clean.reason).toContain('version 2 is FAILED');

    h.server.sandbox!.k8s.remove('serviceaccounts', 'anyscale-operator', 'ok-a', {});
    const drifted = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`)).json;
    expect(drifted.findings.map((f: DriftFinding) => f.kind)).toEqual(['service-account-missing']);
    expect(drifted.repair.items).toEqual([]);
    expect(drifted.repair.errors[0]).toMatch(/not repaired: config version 2 did not provision successfully/);
    // The advice is what works: a corrected config (the same document again is unchanged and starts no run).
    expect(drifted.repair.errors[0]).toContain('store a corrected config as a new version');
    expect(drifted.repair.errors[0]).not.toContain('or store the config again');
    expect(h.server.sandbox!.k8s.serviceAccount('anyscale-operator', 'ok-a')).toBeUndefined();
  });

  it('no SUCCEEDED version at all: nothing to compare', async () => {
    const cloud = 'cldrsrc_never';
    const body = config(cloud, ['never-a', 'never-a'], 'provisioning: { service_accounts: { never-a: { namespaces: [nowhere] } } }');
    expect(await putAndWait(cloud, body)).toBe('FAILED');
    const report = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`)).json;
    expect(report).toMatchObject({ status: 'nothing-to-compare', config_version: null, latest_version: 1 });
  });

  it('runDriftCheck with {store: false} leaves no report', async () => {
    const cloud = 'cldrsrc_nostore';
    expect(await putAndWait(cloud, config(cloud, ['ns-a', 'ns-b']))).toBe('SUCCEEDED');
    const report = await runDriftCheck(h.server.drift, cloud, { store: false });
    expect(report.status).toBe('clean');
    expect((await h.api('GET', `/v1/clouds/${cloud}/drift-checks/latest`)).status).toBe(404);
  });
});

describe('drift report store', () => {
  const base = (checkedAt: string, findings: DriftFinding[] = []): DriftReport => ({
    cloud_deployment_id: 'cldrsrc_store',
    checked_at: checkedAt,
    status: findings.length ? 'drifted' : 'clean',
    drifted: findings.length > 0,
    config_version: 1,
    latest_version: 1,
    mode: 'report',
    findings,
    summary: { total: findings.length, by_kind: {}, by_severity: {} },
    observed: { roles: 0, service_accounts: 0, namespaces: 0, clusters: 0 },
    duration_ms: 1,
    trigger: 'api',
  });

  it('keeps every report of the same millisecond; latest is the last written', async () => {
    const store = h.server.drift.reports;
    const at = '2030-01-01T00:00:00.000Z';
    await store.putReport('cldrsrc_store', base('2029-12-31T23:59:59.999Z'));
    await store.putReport('cldrsrc_store', base(at));
    await store.putReport('cldrsrc_store', { ...base(at), duration_ms: 2 });
    expect((await store.latestReport('cldrsrc_store'))!.duration_ms).toBe(2);
    const history = await store.listReports('cldrsrc_store', { limit: 10 });
    expect(history.map((r) => r.checked_at)).toEqual([at, at, '2029-12-31T23:59:59.999Z']);
  });

  it('trims findings (least severe last) to fit the item limit', () => {
    const findings: DriftFinding[] = Array.from({ length: 5000 }, (_, i) => ({
      kind: 'orphan-role',
      name: `role-${i}-${Math.random().toString(36).slice(2)}`,
      expected: 'absent',
      actual: `arn:aws:iam::123456789012:role/${Math.random().toString(36)}`,
      severity: i < 10 ? 'critical' : 'low',
      message: `m ${Math.random().toString(36)} ${i}`,
      resource: 'iam-role',
      repairable: false,
    }));
    const { body, stored } = encodeReport(base('2030-01-01T00:00:00.000Z', findings), 64 * 1024);
    expect(body.length).toBeLessThanOrEqual(64 * 1024);
    expect(stored.findings_truncated).toBeGreaterThan(0);
    expect(stored.findings.length + stored.findings_truncated!).toBe(5000);
    expect(stored.findings.slice(0, 10).every((f) => f.severity === 'critical')).toBe(true);
    expect(stored.summary.total).toBe(5000);
  });
});
