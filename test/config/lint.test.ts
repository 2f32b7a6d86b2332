import { describe, expect, it } from 'vitest';
import { lintRules } from '../../lib/config/lint.js';
import { parseSelector } from '../../lib/selector/index.js';

const lint = (rules: Array<[string, string]>) => lintRules(rules.map(([s, value]) => ({ selector: parseSelector(s), value })));
const codes = (rules: Array<[string, string]>) => lint(rules).map((w) => [w.code, w.rule_index, w.shadowed_by]);

describe('lint', () => {
  it('finds rules shadowed by an earlier, wider rule', () => {
    expect(codes([['workload-type in (job,service)', 'a'], ['workload-type=job,project=p', 'b']])).toEqual([['SHADOWED_RULE', 1, 0]]);
    expect(codes([['', 'a'], ['user=u@x.io', 'b']])).toEqual([['SHADOWED_RULE', 1, 0]]);
    expect(codes([['user in (a@x.io,b@x.io)', 'a'], ['user=a@x.io,project=p', 'b']])).toEqual([['SHADOWED_RULE', 1, 0]]);
    expect(codes([['project!=secret', 'a'], ['project=open', 'b']])).toEqual([['SHADOWED_RULE', 1, 0]]);
    expect(codes([['project notin (a,b)', 'x'], ['project notin (a,b,c)', 'y']])).toEqual([['SHADOWED_RULE', 1, 0]]);
    expect(codes([['workload-type notin (job)', 'x'], ['workload-type in (service,workspace)', 'y']])).toEqual([['SHADOWED_RULE', 1, 0]]);
  });

  it('does not flag rules that can still match', () => {
    expect(codes([['user=a@x.io', 'a'], ['user=b@x.io', 'b']])).toEqual([]);
    expect(codes([['workload-type=job,project=p', 'a'], ['workload-type in (job,service)', 'b']])).toEqual([]);
    expect(codes([['project=open', 'a'], ['project!=secret', 'b']])).toEqual([]);
    expect(codes([['project notin (a,b,c)', 'x'], ['project notin (a,b)', 'y']])).toEqual([]);
    expect(codes([['project gt 5', 'x'], ['project=7', 'y']])).toEqual([]); // gt/lt are not decided
  });

  it('tells duplicates (same value) from shadowed twins (other value)', () => {
    expect(codes([['user=a@x.io,project=p', 'a'], ['project=p,user=a@x.io', 'a']])).toEqual([['DUPLICATE_RULE', 1, 0]]);
    expect(codes([['user=a@x.io', 'a'], ['user==a@x.io', 'b']])).toEqual([['SHADOWED_RULE', 1, 0]]);
  });

  it('finds selectors that match nothing', () => {
    for (const s of ['user=a@x.io,user=b@x.io', '!project', 'workload-type notin (job,service,workspace)', 'project in (a),project notin (a)']) {
      expect(codes([[s, 'x']])).toEqual([['UNSATISFIABLE_SELECTOR', 0, undefined]]);
    }
  });

  it('lints 10,000 per-user rules without quadratic blow-up', () => {
    const rules: Array<[string, string]> = Array.from({ length: 10_000 }, (_, i) => [`workload-type in (job,service),user=u${i}@x.io`, `sa-${i}`]);
    rules.push(['user=u42@x.io,workload-type=job', 'late']);
    const warnings = lint(rules);
    expect(warnings).toEqual([expect.objectContaining({ code: 'SHADOWED_RULE', rule_index: 10_000, shadowed_by: 42 })]);
  });
});
