/**
 * The paged workflow through the whole local system: Plan stores the item refs page by page,
 * each page runs as a Distributed Map child execution, and an execution that ends outside every
 * Catch still ends its run (the runner's end-of-execution hook, EventBridge's rule deployed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/local.js';

const config = (cloud: string, n: number) => ({
  cloud_deployment_id: cloud,
  cloud_provider: 'AWS',
  compute_stack: 'K8S',
  dataplane_iam_mapping: {
    rules: Array.from({ length: n }, (_, i) => ({ selector: `project=p${i}`, value: `paged-sa-${String(i).padStart(2, '0')}` })),
    fallback_rule: 'FAIL',
  },
});

async function provisioned(h: Harness, cloud: string, n: number) {
  const put = await h.api('PUT', `/v1/clouds/${cloud}/iam-mapping`, { body: config(cloud, n) });
  expect(put.status, put.text).toBe(200);
  await h.server.workflow.idle();
  const run = await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/provisioning`, { role: 'viewer' });
  expect(run.status, run.text).toBe(200);
  return run.json;
}

describe('paged provisioning (plan page size 3)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ workflow: { retryIntervalMs: 5, waitMs: 5, planPageSize: 3 }, driftIntervalSeconds: 0 });
  });
  afterAll(async () => h?.stop());

  it('11 identities → 4 pages, one child execution each; every identity provisioned once', async () => {
    const before = h.server.workflow.stats();
    const run = await provisioned(h, 'cldrsrc_paged', 11);
    expect(run.status, JSON.stringify(run).slice(0, 400)).toBe('SUCCEEDED');
    expect(run.items).toHaveLength(11);
    expect(run.item_count).toBe(11);
    const after = h.server.workflow.stats();
    expect(after.childExecutions - before.childExecutions).toBe(4);
    const roles = h.server.sandbox!.iam.listRoles().filter((r) => r.roleName.includes('cldrsrc_paged'));
    expect(roles).toHaveLength(11);
    const creates = h.server.sandbox!.calls.filter({ action: 'CreateRole', failed: false }).filter((c) => String(c.params.RoleName).includes('cldrsrc_paged'));
    expect(creates).toHaveLength(11);
  });
});

describe('an execution that fails outside every Catch', () => {
  let h: Harness;
  beforeAll(async () => {
    // A payload quota so small that the run breaks it: States.DataLimitExceeded is terminal (no Catch applies).
    h = await startHarness({ workflow: { retryIntervalMs: 5, waitMs: 5, planPageSize: 1, quotas: { payloadBytes: 300 } }, driftIntervalSeconds: 0 });
  });
  afterAll(async () => h?.stop());

  it('still ends its run: FAILED with the error and cause, and drift does not wait on it', async () => {
    const run = await provisioned(h, 'cldrsrc_uncaught', 40);
    expect(run.status).toBe('FAILED');
    expect(run.error.name).toBe('States.DataLimitExceeded');
    expect(run.error.message).toMatch(
      /failed with States\.DataLimitExceeded: the (input|result) of Task \w+ has \d+ bytes, more than the 300-byte state payload quota/,
    );
    const drift = await h.api('POST', '/v1/clouds/cldrsrc_uncaught/drift-checks', { body: {} });
    expect(drift.status, drift.text).not.toBe(409);
  });
});
