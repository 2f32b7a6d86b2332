import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MappingConfig } from '../../lib/config/schema.js';
import { AppError } from '../../lib/errors.js';
import { compileConfig } from '../../lib/resolution/compile.js';
import { explain, firstMatch, labelsOf, resolve } from '../../lib/resolution/resolve.js';

const config = (selectors: string[], fallback: 'CLOUD_DEFAULT' | 'FAIL' = 'CLOUD_DEFAULT', default_value?: string): MappingConfig => ({
  cloud_deployment_id: 'cldrsrc_t',
  cloud_provider: 'AWS',
  compute_stack: 'K8S',
  dataplane_iam_mapping: {
    rules: selectors.map((selector, i) => ({ selector, value: `sa-${i}` })),
    fallback_rule: fallback,
    ...(default_value ? { default_value } : {}),
  },
});
const ref = { version: 7, etag: '7-abc' };

describe('resolve', () => {
  it('first matching rule wins', () => {
    const c = compileConfig(config(['user=a@x.io', 'workload-type=job', 'project in (p1,p2)', '']), ref);
    expect(resolve(c, { workload_type: 'job', project: 'p1', user: 'a@x.io' })).toEqual({ value: 'sa-0', source: 'RULE', rule_index: 0, config_version: 7 });
    expect(resolve(c, { workload_type: 'job', project: 'p1', user: 'b@x.io' }).rule_index).toBe(1);
    expect(resolve(c, { workload_type: 'service', project: 'p2', user: 'b@x.io' }).rule_index).toBe(2);
    expect(resolve(c, { workload_type: 'service', project: 'p3', user: 'b@x.io' }).rule_index).toBe(3);
  });

  it('falls back to the cloud default or fails', () => {
    const d = compileConfig(config(['user=a@x.io'], 'CLOUD_DEFAULT', 'default-sa'), ref);
    expect(resolve(d, { workload_type: 'job', project: 'p', user: 'z@x.io' })).toEqual({
      value: 'default-sa',
      source: 'CLOUD_DEFAULT',
      rule_index: null,
      config_version: 7,
    });
    const f = compileConfig(config(['user=a@x.io'], 'FAIL'), ref);
    expect(() => resolve(f, { workload_type: 'job', project: 'p', user: 'z@x.io' })).toThrow(AppError);
  });

  it('explain reports the first failing requirement of every rule before the winner', () => {
    const c = compileConfig(config(['workload-type=job,user=a@x.io', 'project notin (secret)', 'workload-type=service']), ref);
    const out = explain(c, { workload_type: 'service', project: 'secret', user: 'a@x.io' });
    expect(out.rule_index).toBe(2);
    expect(out.trace.map((t) => [t.rule_index, t.matched, t.failed_requirement])).toEqual([
      [0, false, 'workload-type=job'],
      [1, false, 'project notin (secret)'],
      [2, true, undefined],
    ]);
  });

  // The index must never change the answer: indexed first match == linear first match.
  it('indexed resolution equals a linear scan (property)', () => {
    const users = ['a@x.io', 'b@x.io', 'c@x.io', 'd@x.io'];
    const projects = ['p1', 'p2', 'p3'];
    const kinds = ['job', 'service', 'workspace'];
    const set = (xs: string[]) => fc.uniqueArray(fc.constantFrom(...xs), { minLength: 1, maxLength: xs.length }).map((v) => v.join(','));
    const requirement = fc.oneof(
      fc.constantFrom(...users).map((u) => `user=${u}`),
      set(users).map((s) => `user in (${s})`),
      set(users).map((s) => `user notin (${s})`),
      fc.constantFrom(...projects).map((p) => `project=${p}`),
      fc.constantFrom(...projects).map((p) => `project!=${p}`),
      set(projects).map((s) => `project in (${s})`),
      set(kinds).map((s) => `workload-type in (${s})`),
      set(kinds).map((s) => `workload-type notin (${s})`),
      fc.constant('user'),
      fc.constant('!project'),
    );
    const selector = fc.array(requirement, { minLength: 0, maxLength: 3 }).map((rs) => rs.join(','));
    const launch = fc.record({
      workload_type: fc.constantFrom(...kinds),
      project: fc.constantFrom(...projects, 'p9'),
      user: fc.constantFrom(...users, 'z@x.io'),
    });
    fc.assert(
      fc.property(fc.array(selector, { minLength: 0, maxLength: 25 }), fc.array(launch, { minLength: 1, maxLength: 10 }), (selectors, launches) => {
        const c = compileConfig(config(selectors), ref);
        for (const l of launches) {
          const labels = labelsOf(l);
          const linear = c.rules.findIndex((r) => r.selector.matches(labels));
          expect(firstMatch(c, labels)).toBe(linear);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
