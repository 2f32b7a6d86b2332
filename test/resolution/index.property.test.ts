/**
 * The bitset index against a linear first-match scan, on adversarial shapes: every operator
 * (negations, exists, `!key`, notin, `in ()`, gt/lt with every integer spelling), keys a launch
 * never carries, values no rule mentions, label sets with keys absent or extra, and configs long
 * enough to span many 32-rule words, dense value bitsets and gt/lt checkpoints.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MappingConfig } from '../../lib/config/schema.js';
import { compileConfig } from '../../lib/resolution/compile.js';
import { explain, firstMatch, labelsOf, resolve } from '../../lib/resolution/resolve.js';
import { ruleIndexStats } from '../../lib/resolution/rule-index.js';

const config = (selectors: readonly string[]): MappingConfig => ({
  cloud_deployment_id: 'cldrsrc_t',
  cloud_provider: 'AWS',
  compute_stack: 'K8S',
  dataplane_iam_mapping: { rules: selectors.map((selector, i) => ({ selector, value: `sa-${i}` })), fallback_rule: 'CLOUD_DEFAULT' },
});
const ref = { version: 1, etag: '1-x' };

const KEYS = ['workload-type', 'project', 'user', 'team', 'example.com/tier'] as const;
const WORDS = ['job', 'service', 'workspace', 'p1', 'p2', 'a@x.io', 'b@x.io', 'in', 'x'];
const INTS = ['0', '5', '-3', '+7', '007', '12', '-12', '9223372036854775807', '-9223372036854775808', '9007199254740993'];
/** Values launches carry that no rule can mention, or spell a mentioned integer differently. */
const UNSEEN = ['zz', '', '+5', '05', '-0', '6', '8', '-4', '13', '9007199254740992', '9223372036854775808', '-9223372036854775809', '1e3', '+', '-'];

const value = fc.constantFrom(...WORDS, ...INTS);
const int = fc.constantFrom(...INTS);
const key = fc.constantFrom(...KEYS);

const requirement: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(key, fc.constantFrom('=', '==', '!='), value).map(([k, op, v]) => `${k}${op}${v}`),
  fc.tuple(key, fc.constantFrom('in', 'notin'), fc.uniqueArray(value, { maxLength: 4 })).map(([k, op, vs]) => `${k} ${op} (${vs.join(',')})`), // `in ()` is the set {""}
  key, // exists
  key.map((k) => `!${k}`),
  fc.tuple(key, fc.constantFrom('>', '<', ' gt ', ' lt '), int).map(([k, op, v]) => `${k}${op}${v}`),
);
const selector = fc.array(requirement, { maxLength: 4 }).map((rs) => rs.join(','));

/** Config shapes: mostly small pools, so values repeat across many rules. */
const selectors = fc.oneof(
  fc.array(selector, { maxLength: 40 }),
  fc.array(selector, { minLength: 60, maxLength: 200 }),
  // Mostly negations (the shape a former linear fallback was slow on) and numeric ranges.
  fc.array(
    fc.oneof(
      fc.tuple(fc.constantFrom('project', 'user'), value, value).map(([k, a, b]) => `${k} notin (${a},${b}),user!=${a}`),
      fc.tuple(int, int).map(([a, b]) => `project>${a},project<${b}`),
      fc.tuple(int, value).map(([a, v]) => `user gt ${a},user!=${v}`),
      selector,
    ),
    { minLength: 30, maxLength: 160 },
  ),
  // Few integers, many rules: integer values mentioned by enough rules to get dense bitsets,
  // over keys that also have gt/lt rules.
  fc.array(
    fc.oneof(
      fc.tuple(fc.constantFrom('5', '7', '12'), fc.constantFrom('5', '7', '12')).map(([a, b]) => `project notin (${a},${b})`),
      fc.constantFrom('5', '7', '12').map((a) => `project=${a},user!=${a}`),
      fc.tuple(fc.constantFrom('>', '<'), fc.constantFrom('4', '6', '11', '13')).map(([op, t]) => `project${op}${t}`),
    ),
    { minLength: 60, maxLength: 200 },
  ),
  // Several requirements on one key over a tiny pool: a value must pass every one of them.
  fc.array(
    fc
      .array(
        fc.oneof(
          fc.uniqueArray(fc.constantFrom('4', '9', 'a'), { minLength: 1, maxLength: 3 }).map((vs) => `project in (${vs.join(',')})`),
          fc.constantFrom('4', '9', 'a').map((v) => `project=${v}`),
          fc.uniqueArray(fc.constantFrom('4', '9', 'a'), { minLength: 1, maxLength: 2 }).map((vs) => `project notin (${vs.join(',')})`),
          fc.constantFrom('project>3', 'project<5', 'project>8', 'project<10', 'project', '!project'),
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((rs) => rs.join(',')),
    { minLength: 1, maxLength: 60 },
  ),
);

const labelValue = fc.constantFrom(...WORDS, ...INTS, ...UNSEEN, '4', '9', 'a', '+4', '04');
const labels = fc.dictionary(fc.constantFrom(...KEYS, 'other'), labelValue, { maxKeys: 5 });
const launch = fc.record({ workload_type: labelValue, project: labelValue, user: labelValue });

const linear = (c: ReturnType<typeof compileConfig>, l: Record<string, string>) => c.rules.findIndex((r) => r.selector.matches(l));

describe('bitset index = linear first-match scan', () => {
  it('for any label set (keys absent, extra keys, unseen values)', () => {
    fc.assert(
      fc.property(selectors, fc.array(labels, { minLength: 1, maxLength: 12 }), (sels, samples) => {
        const c = compileConfig(config(sels), ref);
        for (const l of samples) expect(firstMatch(c, l)).toBe(linear(c, l));
      }),
      { numRuns: 400 },
    );
  });

  it('for launches (the resolve hot path: three labels, nothing else)', () => {
    fc.assert(
      fc.property(selectors, fc.array(launch, { minLength: 1, maxLength: 12 }), (sels, launches) => {
        const c = compileConfig(config(sels), ref);
        for (const l of launches) {
          const i = linear(c, labelsOf(l));
          expect(resolve(c, l).rule_index).toBe(i < 0 ? null : i);
          // explain stays a linear evaluation: same winner, one entry per rule up to it.
          const e = explain(c, l);
          expect(e.rule_index).toBe(i < 0 ? null : i);
          expect(e.trace.length).toBe(i < 0 ? c.rules.length : i + 1);
          expect(e.trace.filter((t) => t.matched).length).toBe(i < 0 ? 0 : 1);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('bitset index edge cases', () => {
  const first = (sels: string[], l: Record<string, string>) => firstMatch(compileConfig(config(sels), ref), l);

  it('gt/lt compare integers whatever their spelling, and fail on non-integers', () => {
    const sels = ['project>5,project<10', 'project<-9223372036854775807', 'project>9007199254740992', 'project'];
    expect(first(sels, { project: '+6' })).toBe(0);
    expect(first(sels, { project: '009' })).toBe(0);
    expect(first(sels, { project: '10' })).toBe(3);
    expect(first(sels, { project: '-9223372036854775808' })).toBe(1);
    expect(first(sels, { project: '9007199254740993' })).toBe(2);
    expect(first(sels, { project: '9223372036854775808' })).toBe(3); // beyond int64: not an integer
    expect(first(sels, { project: 'six' })).toBe(3);
    expect(first(sels, {})).toBe(-1);
  });

  it('empty gt/lt intervals never match; a mentioned integer also passes its gt/lt rules', () => {
    const sels = ['user>5,user<6', 'user in (7,x),user>6', 'user notin (8),user>6', 'user'];
    expect(first(sels, { user: '7' })).toBe(1);
    expect(first(sels, { user: '+7' })).toBe(2);
    expect(first(sels, { user: '8' })).toBe(3);
    expect(first(sels, { user: 'x' })).toBe(3);
  });

  it("a value passes a rule only if it passes all of the rule's requirements on its key", () => {
    const sels = ['user in (a,b),user=a', 'user in (4,9),user<5', 'user in (4,9),user>4', 'user in (a,4),user notin (4)', 'user'];
    expect(first(sels, { user: 'a' })).toBe(0);
    expect(first(sels, { user: 'b' })).toBe(4);
    expect(first(sels, { user: '4' })).toBe(1);
    expect(first(sels, { user: '9' })).toBe(2);
    expect(first(sels, { user: '+4' })).toBe(4);
  });

  it('!key, in () and keys no launch carries', () => {
    const sels = ['!project', 'project in ()', 'team', '!team,user notin ()', ''];
    expect(first(sels, { project: 'p', user: 'u' })).toBe(3);
    expect(first(sels, { project: '', user: 'u' })).toBe(1);
    expect(first(sels, { project: 'p', user: '' })).toBe(4);
    expect(first(sels, { team: 'a', project: 'p' })).toBe(2);
    expect(resolve(compileConfig(config(sels), ref), { workload_type: 'job', project: 'p', user: 'u' }).rule_index).toBe(3);
  });

  it('no rules, and rule counts on word boundaries', () => {
    expect(first([], { user: 'u' })).toBe(-1);
    for (const n of [31, 32, 33, 64, 65]) {
      const sels = Array.from({ length: n }, (_, i) => (i === n - 1 ? 'user' : `user!=u,project notin (p${i},q)`));
      expect(first(sels, { user: 'u', project: 'q' })).toBe(n - 1);
      expect(first(sels, { user: 'v', project: 'q' })).toBe(n - 1);
      expect(first(sels, { user: 'v', project: 'r' })).toBe(0);
    }
  });

  it('a value many rules mention keeps a dense bitset, gt/lt rules checkpoints; both stay exact', () => {
    const n = 2_000;
    const sels = Array.from({ length: n }, (_, i) =>
      i === n - 1 ? 'project' : i % 2 === 0 ? `project,user notin (shared,u${i})` : `project>${i * 10},project<${i * 10 + 5}`,
    );
    const c = compileConfig(config(sels), ref);
    const stats = ruleIndexStats(c.index);
    expect(stats.dense_values).toBeGreaterThan(0);
    expect(stats.numeric_checkpoints).toBeGreaterThan(1);
    for (const l of [
      { project: 'p', user: 'shared' },
      { project: '13', user: 'shared' },
      { project: '+0013', user: 'shared' },
      { project: '15', user: 'shared' },
      { project: '19993', user: 'shared' },
      { project: 'p', user: 'u0' },
      { project: 'p', user: 'u2' },
    ]) {
      expect(firstMatch(c, l)).toBe(linear(c, l));
    }
    expect(firstMatch(c, { project: '13', user: 'shared' })).toBe(1);
    // A dense integer value starts from the gt/lt state of that integer, not the non-integer one.
    const d = compileConfig(config([...Array.from({ length: 40 }, () => 'project notin (12,x)'), 'project>10', 'project']), ref);
    expect(ruleIndexStats(d.index).dense_values).toBe(2);
    expect(firstMatch(d, { project: '12' })).toBe(40);
    expect(firstMatch(d, { project: 'x' })).toBe(41);
    expect(firstMatch(c, { project: 'p', user: 'shared' })).toBe(n - 1);
  });
});
