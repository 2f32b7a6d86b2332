/**
 * In-process resolution latency on a 10,000-rule config: validate + lint and compile once (timed),
 * check the indexed `resolve` against a naive first-match scan on every sampled launch (exit 1 on
 * any mismatch), then time ≥ 200,000 single resolutions with process.hrtime.bigint().
 * Goal: p99 ≤ 20 µs.
 */
import { lintRules } from '../lib/config/lint.js';
import type { MappingConfig } from '../lib/config/schema.js';
import { validateConfig } from '../lib/config/validate.js';
import { compileConfig } from '../lib/resolution/compile.js';
import { ruleIndexStats } from '../lib/resolution/rule-index.js';
import { labelsOf, resolve, type Resolution } from '../lib/resolution/resolve.js';
import { emit, median, percentile, round } from './common.js';
import { generateConfig, sampleLaunches, type LaunchKind } from './rules.js';

const RULES = Number(process.env.BENCH_RULES ?? 10_000);
const POOL = 10_000; // distinct launches, all checked against the naive scan
const WARMUP = 100_000;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 250_000);
const GOAL_P99_US = 20;

const ms = (t0: bigint, t1: bigint) => Number(t1 - t0) / 1e6;

const gen = generateConfig(RULES);
console.log(`config: ${RULES} rules (seed ${gen.seed}), ${JSON.stringify(gen.config).length} bytes of JSON`);

// Validate (zod shape + selector parse + value checks) and lint (included in validateConfig).
let t0 = process.hrtime.bigint();
const validated = validateConfig(gen.config, { cloudId: gen.config.cloud_deployment_id });
let t1 = process.hrtime.bigint();
if (!validated.ok) {
  console.error('generated config is invalid:', JSON.stringify(validated.errors.slice(0, 5)));
  process.exit(1);
}
const validateMs = ms(t0, t1);
t0 = process.hrtime.bigint();
lintRules(validated.config.dataplane_iam_mapping.rules.map((r, i) => ({ selector: validated.selectors[i]!, value: r.value })));
const lintMs = ms(t0, process.hrtime.bigint());
const warningCounts: Record<string, number> = {};
for (const w of validated.warnings) warningCounts[w.code] = (warningCounts[w.code] ?? 0) + 1;
console.log(`validate+lint: ${validateMs.toFixed(1)} ms (lint alone, warm: ${lintMs.toFixed(1)} ms); warnings ${JSON.stringify(warningCounts)}`);

// Compile from the stored document (re-parsing every selector, as ResolutionService.refresh does).
const config = gen.config as unknown as MappingConfig;
t0 = process.hrtime.bigint();
const compiled = compileConfig(config, { version: 1, etag: 'bench' });
const compileMs = ms(t0, process.hrtime.bigint());
const compileRuns: number[] = [];
for (let i = 0; i < 5; i++) {
  t0 = process.hrtime.bigint();
  compileConfig(config, { version: 1, etag: 'bench' });
  compileRuns.push(ms(t0, process.hrtime.bigint()));
}
const compileWarmMs = median(compileRuns);
const sizes = ruleIndexStats(compiled.index);
console.log(`compile: ${compileMs.toFixed(1)} ms first, ${compileWarmMs.toFixed(1)} ms warm (median of 5); index ${JSON.stringify(sizes)}`);

// Correctness: indexed resolve vs naive linear first-match, on every launch of the pool.
const sampled = sampleLaunches(gen, POOL);
const launches = sampled.map((s) => s.launch);
let mismatches = 0;
const winners: Record<string, number> = { early: 0, middle: 0, late: 0, none: 0 };
const depthOf = (i: number) => (i < 0 ? 'none' : i < RULES * 0.1 ? 'early' : i < RULES * 0.45 ? 'early-mid' : i < RULES * 0.55 ? 'middle' : i < RULES * 0.9 ? 'mid-late' : 'late');
t0 = process.hrtime.bigint();
for (const s of sampled) {
  const labels = labelsOf(s.launch);
  const naive = compiled.rules.find((r) => r.selector.matches(labels));
  const got: Resolution = resolve(compiled, s.launch);
  const expected = naive
    ? { value: naive.value, rule_index: naive.index, source: 'RULE' }
    : { value: compiled.defaultValue, rule_index: null, source: 'CLOUD_DEFAULT' };
  if (got.value !== expected.value || got.rule_index !== expected.rule_index || got.source !== expected.source) {
    if (++mismatches <= 5) console.error(`MISMATCH ${JSON.stringify(s.launch)}: indexed ${JSON.stringify(got)}, naive ${JSON.stringify(expected)}`);
  }
  const d = depthOf(naive ? naive.index : -1);
  winners[d] = (winners[d] ?? 0) + 1;
}
const naiveMs = ms(t0, process.hrtime.bigint());
console.log(`correctness: ${POOL} launches, ${mismatches} mismatches vs naive scan (checked in ${naiveMs.toFixed(0)} ms); winning rule depth ${JSON.stringify(winners)}`);

// Timer overhead (an empty timed region), for reading the figures below.
const overhead = new Float64Array(100_000);
for (let i = 0; i < overhead.length; i++) {
  const a = process.hrtime.bigint();
  overhead[i] = Number(process.hrtime.bigint() - a);
}
overhead.sort();

// Warm-up, then the timed run: each resolution timed individually.
let sink = 0;
for (let i = 0; i < WARMUP; i++) sink += resolve(compiled, launches[i % POOL]!).rule_index ?? -1;
const durations = new Float64Array(ITERATIONS);
const kinds: LaunchKind[] = sampled.map((s) => s.kind);
for (let i = 0; i < ITERATIONS; i++) {
  const launch = launches[i % POOL]!;
  const a = process.hrtime.bigint();
  const r = resolve(compiled, launch);
  const b = process.hrtime.bigint();
  durations[i] = Number(b - a);
  sink += r.rule_index ?? -1;
}
if (sink === 0.5) console.log(''); // keep `sink` observable

const us = (ns: number) => round(ns / 1000, 3);
const byKind: Record<string, { p50_us: number; p99_us: number }> = {};
for (const kind of ['early', 'middle', 'late', 'miss'] as const) {
  const list: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) if (kinds[i % POOL] === kind) list.push(durations[i]!);
  list.sort((a, b) => a - b);
  byKind[kind] = { p50_us: us(percentile(list, 50)), p99_us: us(percentile(list, 99)) };
}
const sorted = Float64Array.from(durations).sort();
let total = 0;
for (const d of durations) total += d;
const figures = {
  p50_us: us(percentile(sorted, 50)),
  p90_us: us(percentile(sorted, 90)),
  p99_us: us(percentile(sorted, 99)),
  p999_us: us(percentile(sorted, 99.9)),
  max_us: us(sorted[sorted.length - 1]!),
  mean_us: us(total / ITERATIONS),
};
console.log(`resolve x${ITERATIONS} (after ${WARMUP} warm-up): p50 ${figures.p50_us} µs, p90 ${figures.p90_us} µs, p99 ${figures.p99_us} µs, p99.9 ${figures.p999_us} µs, max ${figures.max_us} µs`);
console.log(`  by launch kind: ${JSON.stringify(byKind)}; timer overhead p50 ${us(percentile(overhead, 50))} µs`);
const met = figures.p99_us <= GOAL_P99_US && mismatches === 0;
console.log(`goal p99 ≤ ${GOAL_P99_US} µs: ${figures.p99_us <= GOAL_P99_US ? 'MET' : 'MISSED'}`);

emit({
  bench: 'resolve-inprocess',
  rules: RULES,
  iterations: ITERATIONS,
  warmup: WARMUP,
  validate_lint_ms: round(validateMs, 1),
  lint_warm_ms: round(lintMs, 1),
  lint_warnings: warningCounts,
  compile_ms: round(compileMs, 1),
  compile_warm_ms: round(compileWarmMs, 1),
  index: sizes,
  correctness: { launches: POOL, mismatches, winning_rule_depth: winners },
  ...figures,
  by_kind: byKind,
  timer_overhead_p50_us: us(percentile(overhead, 50)),
  goal: { p99_us_max: GOAL_P99_US, met },
});
process.exit(mismatches === 0 ? 0 : 1);
