/**
 * The ceiling on distinct identities (IAM holds 1,000 roles per account by default, 5,000 at
 * most): a pure option of validation, applied by PUT from the deployment's MAX_IDENTITIES.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctIdentities, identityCeiling, validateConfig } from '../../lib/config/validate.js';
import { startHarness, type Harness } from '../helpers/local.js';

const config = (values: string[], extra: Record<string, unknown> = {}, stack = 'K8S') => ({
  cloud_deployment_id: 'cldrsrc_ceiling',
  cloud_provider: 'AWS',
  compute_stack: stack,
  dataplane_iam_mapping: { rules: values.map((value, i) => ({ selector: `project=p${i}`, value })), fallback_rule: 'FAIL', ...extra },
});
const names = (n: number, prefix = 'sa-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('identity ceiling (validation option)', () => {
  it('defaults to 1,000, caps at 5,000 and refuses nonsense settings', () => {
    expect(identityCeiling(undefined)).toBe(1000);
    expect(identityCeiling('')).toBe(1000);
    expect(identityCeiling('2500')).toBe(2500);
    expect(identityCeiling('25000')).toBe(5000);
    expect(() => identityCeiling('lots')).toThrow(/MAX_IDENTITIES/);
    expect(() => identityCeiling('0')).toThrow(/MAX_IDENTITIES/);
  });

  it('counts distinct values plus the default value (AWS VM names case-insensitively, as IAM does)', () => {
    const doc = validateConfig(config(['a', 'b', 'a'], { default_value: 'c' }));
    expect(doc.ok && distinctIdentities(doc.config)).toBe(3);
    const vm = validateConfig(config(['Prof', 'other'], {}, 'VM'));
    expect(vm.ok && distinctIdentities(vm.config)).toBe(2);
  });

  it('accepts exactly the limit and refuses one more with a detail naming the count and the limit', () => {
    expect(validateConfig(config(names(10)), { maxIdentities: 10 }).ok).toBe(true);
    const over = validateConfig(config(names(10), { default_value: 'one-more' }), { maxIdentities: 10 });
    expect(over.ok).toBe(false);
    if (over.ok) return;
    expect(over.errors).toEqual([
      expect.objectContaining({
        path: 'dataplane_iam_mapping.rules',
        count: 11,
        limit: 10,
        message: expect.stringMatching(/11 distinct identities.*at most 10/),
      }),
    ]);
  });

  it('has no ceiling unless asked (offline lint)', () => {
    expect(validateConfig(config(names(1500))).ok).toBe(true);
  });
});

describe('identity ceiling at PUT', () => {
  let h: Harness;
  const saved = process.env.MAX_IDENTITIES;
  beforeAll(async () => {
    delete process.env.MAX_IDENTITIES; // the default: 1,000
    h = await startHarness({ driftIntervalSeconds: 0 });
  });
  afterAll(async () => {
    await h?.stop();
    if (saved === undefined) delete process.env.MAX_IDENTITIES;
    else process.env.MAX_IDENTITIES = saved;
  });

  it('refuses 1,001 distinct identities with 400 INVALID_CONFIG and stores nothing', async () => {
    const res = await h.api('PUT', '/v1/clouds/cldrsrc_ceiling/iam-mapping', { body: config(names(1001)) });
    expect(res.status, res.text).toBe(400);
    expect(res.json.error.code).toBe('INVALID_CONFIG');
    expect(res.json.error.details).toEqual([expect.objectContaining({ path: 'dataplane_iam_mapping.rules', count: 1001, limit: 1000 })]);
    expect(res.json.error.message).toMatch(/1001 distinct identities.*at most 1000/);
    expect((await h.api('GET', '/v1/clouds/cldrsrc_ceiling/iam-mapping')).status).toBe(404);
  });

  it('accepts 1,000 rules naming fewer identities (the ceiling counts identities, not rules)', async () => {
    const values = Array.from({ length: 1500 }, (_, i) => `sa-${i % 3}`);
    const res = await h.api('PUT', '/v1/clouds/cldrsrc_ceiling/iam-mapping', { body: config(values) });
    expect(res.status, res.text).toBe(200);
    await h.server.workflow.idle();
  });
});
