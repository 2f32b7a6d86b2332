/**
 * lib/config/shape.ts: the sliced shape check of a large config gives exactly what
 * `mappingConfigSchema.safeParse` gives — the same value for a valid document (key order
 * included), the same issues for an invalid one, wherever the fault is (property-tested).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mappingConfigSchema } from '../../lib/config/schema.js';
import { shapeSteps } from '../../lib/config/shape.js';
import { runSteps } from '../../lib/steps.js';

const doc = (n: number) => ({
  cloud_deployment_id: 'cldrsrc_shape',
  cloud_provider: 'AWS',
  compute_stack: 'K8S',
  dataplane_iam_mapping: {
    rules: Array.from({ length: n }, (_, i) => ({ selector: `project=p${i}`, value: `sa-${i % 50}` })),
    fallback_rule: 'FAIL',
  },
});

const same = (document: unknown) => {
  const full = mappingConfigSchema.safeParse(document);
  const sliced = runSteps(shapeSteps(document));
  expect(sliced.success).toBe(full.success);
  if (full.success && sliced.success) {
    expect(sliced.data).toEqual(full.data);
    expect(JSON.stringify(sliced.data)).toBe(JSON.stringify(full.data));
  } else {
    expect(sliced.error?.issues).toEqual(full.error?.issues);
  }
  return sliced;
};

describe('shapeSteps', () => {
  it('a valid 3,000-rule config parses to the full check’s value, with yields between slices', () => {
    const d = doc(3000);
    expect(same(d).success).toBe(true);
    const it = shapeSteps(d);
    let yields = 0;
    for (let step = it.next(); !step.done; step = it.next()) yields += 1;
    expect(yields).toBe(Math.ceil(3000 / 512));
  });

  it('any one fault, anywhere, gives the full check’s issues', () => {
    const faults: Array<(d: ReturnType<typeof doc>, i: number) => void> = [
      (d, i) => ((d.dataplane_iam_mapping.rules[i] as Record<string, unknown>).value = ''),
      (d, i) => ((d.dataplane_iam_mapping.rules[i] as Record<string, unknown>).extra = 1),
      (d, i) => ((d.dataplane_iam_mapping.rules as unknown[])[i] = 'project=x'),
      (d, i) => ((d.dataplane_iam_mapping.rules[i] as Record<string, unknown>).selector = 'x'.repeat(100_000)),
      (d) => ((d as Record<string, unknown>).cloud_provider = 'AZURE'),
      (d) => ((d.dataplane_iam_mapping as Record<string, unknown>).fallback_rule = undefined),
      (d) => ((d as Record<string, unknown>).unknown_key = true),
      (d) => ((d as Record<string, unknown>).provisioning = { nonsense: 1 }),
    ];
    fc.assert(
      fc.property(fc.integer({ min: 513, max: 1600 }), fc.nat(), fc.integer({ min: 0, max: faults.length - 1 }), (n, at, f) => {
        const d = doc(n);
        faults[f]!(d, at % n);
        expect(same(d).success).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('small documents, non-objects and too many rules take the one-go path with the same answer', () => {
    for (const d of [doc(3), null, [], 'x', { dataplane_iam_mapping: { rules: 'no' } }, doc(25_001)]) same(d);
  });
});
