import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constraintsOf, covers, unsatisfiable } from '../../lib/config/constraints.js';
import { lintRules, lintRulesAsync } from '../../lib/config/lint.js';
import { parseSelector } from '../../lib/selector/index.js';

const lint = (rules: Array<[string, string]>) => lintRules(rules.map(([s, value]) => ({ selector: parseSelector(s), value })));
const codes = (rules: Array<[string, string]>) => lint(rules).map((w) => [w.code, w.rule_index, w.shadowed_by]);

describe('lint', () => {
  it('finds rules shadowed by an earlier, wider rule', () => {
    expect(
      codes([
        ['workload-type in (job,service)', 'a'],
        ['workload-type=job,project=p', 'b'],
      ]),
    ).toEqual([['SHADOWED_RULE', 1, 0]]);
    expect(
      codes([
        ['', 'a'],
        ['user=u@x.io', 'b'],
      ]),
    ).toEqual([['SHADOWED_RULE', 1, 0]]);
    expect(
      codes([
        ['user in (a@x.io,b@x.io)', 'a'],
        ['user=a@x.io,project=p', 'b'],
      ]),
    ).toEqual([['SHADOWED_RULE', 1, 0]]);
    expect(
      codes([
        ['project!=secret', 'a'],
        ['project=open', 'b'],
      ]),
    ).toEqual([['SHADOWED_RULE', 1, 0]]);
    expect(
      codes([
        ['project notin (a,b)', 'x'],
        ['project notin (a,b,c)', 'y'],
      ]),
    ).toEqual([['SHADOWED_RULE', 1, 0]]);
    expect(
      codes([
        ['workload-type notin (job)', 'x'],
        ['workload-type in (service,workspace)', 'y'],
      ]),
    ).toEqual([['SHADOWED_RULE', 1, 0]]);
  });

  it('does not flag rules that can still match', () => {
    expect(
      codes([
        ['user=a@x.io', 'a'],
        ['user=b@x.io', 'b'],
      ]),
    ).toEqual([]);
    expect(
      codes([
        ['workload-type=job,project=p', 'a'],
        ['workload-type in (job,service)', 'b'],
      ]),
    ).toEqual([]);
    expect(
      codes([
        ['project=open', 'a'],
        ['project!=secret', 'b'],
      ]),
    ).toEqual([]);
    expect(
      codes([
        ['project notin (a,b,c)', 'x'],
        ['project notin (a,b)', 'y'],
      ]),
    ).toEqual([]);
    expect(
      codes([
        ['project gt 5', 'x'],
        ['project=7', 'y'],
      ]),
    ).toEqual([]); // gt/lt are not decided
  });

  it('tells duplicates (same value) from shadowed twins (other value)', () => {
    expect(
      codes([
        ['user=a@x.io,project=p', 'a'],
        ['project=p,user=a@x.io', 'a'],
      ]),
    ).toEqual([['DUPLICATE_RULE', 1, 0]]);
    expect(
      codes([
        ['user=a@x.io', 'a'],
        ['user==a@x.io', 'b'],
      ]),
    ).toEqual([['SHADOWED_RULE', 1, 0]]);
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

  it('lints 1,200 rules `project notin (<800 values>, z<i>)` without pairwise set checks: complete, nothing shadowed', () => {
    const common = Array.from({ length: 800 }, (_, i) => `p${i}`).join(',');
    const rules: Array<[string, string]> = Array.from({ length: 1200 }, (_, i) => [`project notin (${common},z${i})`, `sa-${i}`]);
    rules.push([`project notin (${common},z7,z9,extra)`, 'late']); // z7's rule excludes less: it covers this one
    rules.push([`project=p3`, 'never']); // excluded by every notin rule: not covered
    rules.push([`project=fresh`, 'covered']); // allowed by rule 0
    expect(lint(rules).map((w) => [w.code, w.rule_index, w.shadowed_by])).toEqual([
      ['SHADOWED_RULE', 1200, 7],
      ['SHADOWED_RULE', 1202, 0],
    ]);
  });

  it('finds the same first shadowing rule as a pairwise scan (property test)', () => {
    const value = fc.constantFrom('a', 'b', 'c', 'd');
    const wt = fc.constantFrom('job', 'service', 'workspace');
    const req = fc.oneof(
      fc.tuple(fc.constantFrom('user', 'project'), fc.constantFrom('=', '!='), value).map(([k, op, v]) => `${k}${op}${v}`),
      fc
        .tuple(fc.constantFrom('user', 'project'), fc.constantFrom('in', 'notin'), fc.uniqueArray(value, { minLength: 1, maxLength: 3 }))
        .map(([k, op, vs]) => `${k} ${op} (${vs.join(',')})`),
      fc.tuple(fc.constantFrom('in', 'notin'), fc.uniqueArray(wt, { minLength: 1, maxLength: 2 })).map(([op, vs]) => `workload-type ${op} (${vs.join(',')})`),
      fc.constantFrom('project', 'user', 'project gt 3'),
    );
    const selector = fc.uniqueArray(req, { maxLength: 3, selector: (r) => r.split(/[ =!]/)[0] }).map((rs) => rs.join(','));
    fc.assert(
      fc.property(fc.array(fc.tuple(selector, fc.constantFrom('x', 'y')), { maxLength: 25 }), (rules) => {
        const parsed = rules.map(([s]) => parseSelector(s));
        const cs = parsed.map((p) => constraintsOf(p));
        const expected: Array<[number, number]> = [];
        cs.forEach((c, j) => {
          if (unsatisfiable(c)) return;
          const canonical = parsed[j]!.toString();
          const twin = parsed.findIndex((p, i) => i < j && !unsatisfiable(cs[i]!) && p.toString() === canonical);
          if (twin >= 0) return void expected.push([j, twin]);
          const first = cs.findIndex((e, i) => i < j && !unsatisfiable(e) && covers(e, c) === true);
          if (first >= 0) expected.push([j, first]);
        });
        const got = lint(rules)
          .filter((w) => w.code === 'SHADOWED_RULE' || w.code === 'DUPLICATE_RULE')
          .map((w) => [w.rule_index!, w.shadowed_by!]);
        expect(got).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('the async form gives the same warnings', async () => {
    const rules: Array<[string, string]> = Array.from({ length: 3000 }, (_, i) => [`user=u${i % 2000}@x.io`, `sa-${i % 7}`]);
    const parsed = rules.map(([s, value]) => ({ selector: parseSelector(s), value }));
    expect(await lintRulesAsync(parsed, 1)).toEqual(lintRules(parsed));
  });
});
