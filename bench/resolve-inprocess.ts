/**
 * In-process resolution latency on 10,000-rule configs of several shapes: the realistic mix of
 * bench/rules.ts and the adversarial shapes (negations, exists + !=, workload-type notin, gt/lt
 * ranges, `!key` / `in ()`, large shared value sets, a random mix of every operator). Per shape:
 * validate (the schema must accept it), compile (timed, first and warm), memory of one compiled
 * version (heap + ArrayBuffer delta after GC, and the index's own typed-array bytes), the indexed `resolve`
 * checked against a naive first-match scan on every launch of the pool (exit 1 on any mismatch),
 * then ≥ 100,000 single resolutions timed with process.hrtime.bigint().
 * Goal: p99 ≤ 20 µs for every shape. Run with --expose-gc (bench/run.ts does) for heap figures.
 */
import { lintRules } from '../lib/config/lint.js';
import type { MappingConfig } from '../lib/config/schema.js';
import { validateConfig } from '../lib/config/validate.js';
import { compileConfig, type CompiledConfig } from '../lib/resolution/compile.js';
import { labelsOf, resolve, type Launch } from '../lib/resolution/resolve.js';
import { buildRuleIndex, ruleIndexStats } from '../lib/resolution/rule-index.js';
import { parseSelector } from '../lib/selector/index.js';
import { emit, median, percentile, round } from './common.js';
import { adversarialShapes, generateConfig, sampleLaunches, shapeConfig, type BenchConfig, type LaunchKind } from './rules.js';

const RULES = Number(process.env.BENCH_RULES ?? 10_000);
const POOL = 3_000; // launches of the realistic shape, all checked against the naive scan
const SHAPE_POOL = 2_000;
const WARMUP = 20_000;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 100_000);
const GOAL_P99_US = 20;

const gc = (globalThis as { gc?: () => void }).gc;
const ms = (t0: bigint, t1: bigint) => Number(t1 - t0) / 1e6;
/** CPU time of this process in ms (user + system): unlike wall time, not inflated by other processes. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const us = (ns: number) => round(ns / 1000, 3);
const mb = (bytes: number) => round(bytes / 2 ** 20, 2);

/** JS heap plus ArrayBuffer backing stores (typed arrays above 64 bytes live outside the heap). */
function heapAfterGc(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

interface ShapeResult {
  shape: string;
  validate_lint_ms: number;
  lint_warnings: Record<string, number>;
  compile_ms: number;
  compile_warm_ms: number;
  /** CPU time of a warm compile (median of 3). */
  compile_warm_cpu_ms: number;
  /** Heap retained by one compiled version (parsed selectors + index), after GC. */
  heap_per_version_mb: number | null;
  /** Heap retained by the index alone (selectors already parsed), after GC. */
  index_heap_mb: number | null;
  index: ReturnType<typeof ruleIndexStats>;
  correctness: { launches: number; mismatches: number; winners: Record<string, number> };
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
  by_kind?: Record<string, { p50_us: number; p99_us: number }>;
}

function measure(name: string, shape: string, document: BenchConfig, launches: readonly Launch[], kinds?: readonly LaunchKind[]): ShapeResult {
  const config = document as unknown as MappingConfig;
  let t0 = process.hrtime.bigint();
  const validated = validateConfig(document, { cloudId: document.cloud_deployment_id });
  const validateMs = ms(t0, process.hrtime.bigint());
  if (!validated.ok) {
    console.error(`${name}: generated config is invalid:`, JSON.stringify(validated.errors.slice(0, 5)));
    process.exit(1);
  }
  const warnings: Record<string, number> = {};
  for (const w of validated.warnings) warnings[w.code] = (warnings[w.code] ?? 0) + 1;

  // Compile from the stored document (re-parsing every selector, as ResolutionService.refresh does).
  t0 = process.hrtime.bigint();
  let compiled: CompiledConfig = compileConfig(config, { version: 1, etag: 'bench' });
  const compileMs = ms(t0, process.hrtime.bigint());
  const runs: number[] = [];
  const cpuRuns: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c0 = cpuMs();
    t0 = process.hrtime.bigint();
    compiled = compileConfig(config, { version: 1, etag: 'bench' });
    runs.push(ms(t0, process.hrtime.bigint()));
    cpuRuns.push(cpuMs() - c0);
  }

  let heapPerVersion: number | null = null;
  let indexHeap: number | null = null;
  if (gc) {
    // Drop the last compiled version first, so the heap is measured with none held.
    // eslint-disable-next-line no-useless-assignment
    compiled = undefined as unknown as CompiledConfig;
    let before = heapAfterGc();
    compiled = compileConfig(config, { version: 1, etag: 'bench' });
    heapPerVersion = heapAfterGc() - before;
    const selectors = config.dataplane_iam_mapping.rules.map((r) => parseSelector(r.selector));
    before = heapAfterGc();
    const index = buildRuleIndex(selectors);
    indexHeap = heapAfterGc() - before;
    if (index.ruleCount !== selectors.length) throw new Error('unreachable');
  }
  const stats = ruleIndexStats(compiled.index);

  // Correctness: indexed resolve vs naive linear first-match, on every launch of the pool.
  let mismatches = 0;
  const winners: Record<string, number> = {};
  const n = compiled.rules.length;
  for (const launch of launches) {
    const labels = labelsOf(launch);
    const naive = compiled.rules.findIndex((r) => r.selector.matches(labels));
    const got = resolve(compiled, launch).rule_index;
    if (got !== (naive < 0 ? null : naive) && ++mismatches <= 5) console.error(`${name}: MISMATCH ${JSON.stringify(launch)}: indexed ${got}, naive ${naive}`);
    const depth = naive < 0 ? 'none' : naive === n - 1 ? 'last' : naive < n * 0.1 ? 'first 10%' : naive < n * 0.9 ? 'middle' : 'last 10%';
    winners[depth] = (winners[depth] ?? 0) + 1;
  }

  let sink = 0;
  for (let i = 0; i < WARMUP; i++) sink += resolve(compiled, launches[i % launches.length]!).rule_index ?? -1;
  const durations = new Float64Array(ITERATIONS);
  for (let i = 0; i < ITERATIONS; i++) {
    const launch = launches[i % launches.length]!;
    const a = process.hrtime.bigint();
    const r = resolve(compiled, launch);
    const b = process.hrtime.bigint();
    durations[i] = Number(b - a);
    sink += r.rule_index ?? -1;
  }
  if (sink === 0.5) console.log(''); // keep `sink` observable

  let byKind: ShapeResult['by_kind'];
  if (kinds) {
    byKind = {};
    for (const kind of ['early', 'middle', 'late', 'miss'] as const) {
      const list: number[] = [];
      for (let i = 0; i < ITERATIONS; i++) if (kinds[i % kinds.length] === kind) list.push(durations[i]!);
      list.sort((x, y) => x - y);
      byKind[kind] = { p50_us: us(percentile(list, 50)), p99_us: us(percentile(list, 99)) };
    }
  }
  const sorted = Float64Array.from(durations).sort();
  const result: ShapeResult = {
    shape,
    validate_lint_ms: round(validateMs, 1),
    lint_warnings: warnings,
    compile_ms: round(compileMs, 1),
    compile_warm_ms: round(median(runs), 1),
    compile_warm_cpu_ms: round(median(cpuRuns), 1),
    heap_per_version_mb: heapPerVersion === null ? null : mb(heapPerVersion),
    index_heap_mb: indexHeap === null ? null : mb(indexHeap),
    index: stats,
    correctness: { launches: launches.length, mismatches, winners },
    p50_us: us(percentile(sorted, 50)),
    p90_us: us(percentile(sorted, 90)),
    p99_us: us(percentile(sorted, 99)),
    p999_us: us(percentile(sorted, 99.9)),
    max_us: us(sorted[sorted.length - 1]!),
    ...(byKind ? { by_kind: byKind } : {}),
  };
  console.log(
    `${name.padEnd(17)} p50 ${result.p50_us} µs, p99 ${result.p99_us} µs, p99.9 ${result.p999_us} µs | compile ${result.compile_ms} ms (warm ${result.compile_warm_ms}, CPU ${result.compile_warm_cpu_ms}) | ` +
      `heap/version ${result.heap_per_version_mb ?? '?'} MB (index ${result.index_heap_mb ?? '?'} MB, ${mb(stats.bytes)} MB typed arrays) | ` +
      `validate+lint ${result.validate_lint_ms} ms | ${mismatches} mismatches in ${launches.length} launches ${JSON.stringify(winners)}`,
  );
  return result;
}

console.log(
  `${RULES} rules per config; ${ITERATIONS} timed resolutions per shape after ${WARMUP} warm-up${gc ? '' : ' (no --expose-gc: heap figures skipped)'}`,
);

// Timer overhead (an empty timed region), for reading the figures below.
const overhead = new Float64Array(100_000);
for (let i = 0; i < overhead.length; i++) {
  const a = process.hrtime.bigint();
  overhead[i] = Number(process.hrtime.bigint() - a);
}
overhead.sort();

const shapes: Record<string, ShapeResult> = {};
const gen = generateConfig(RULES);
const sampled = sampleLaunches(gen, POOL);
shapes.realistic = measure(
  'realistic',
  'the bench/rules.ts mix: per-user / per-project rules, some exclusions, workload-type catch-alls',
  gen.config,
  sampled.map((s) => s.launch),
  sampled.map((s) => s.kind),
);
const lintMs = (() => {
  const selectors = gen.config.dataplane_iam_mapping.rules.map((r) => parseSelector(r.selector));
  const t0 = process.hrtime.bigint();
  lintRules(gen.config.dataplane_iam_mapping.rules.map((r, i) => ({ selector: selectors[i]!, value: r.value })));
  return ms(t0, process.hrtime.bigint());
})();
for (const s of adversarialShapes(RULES, SHAPE_POOL)) shapes[s.name] = measure(s.name, s.shape, shapeConfig(s), s.launches);

const worst = Object.entries(shapes).reduce((a, b) => (b[1].p99_us > a[1].p99_us ? b : a));
const mismatches = Object.values(shapes).reduce((sum, s) => sum + s.correctness.mismatches, 0);
const met = worst[1].p99_us <= GOAL_P99_US && mismatches === 0;
console.log(
  `worst p99: ${worst[1].p99_us} µs (${worst[0]}); timer overhead p50 ${us(percentile(overhead, 50))} µs; lint alone (realistic, warm) ${lintMs.toFixed(1)} ms`,
);
console.log(`goal p99 ≤ ${GOAL_P99_US} µs for every shape: ${met ? 'MET' : 'MISSED'}`);

emit({
  bench: 'resolve-inprocess',
  rules: RULES,
  iterations: ITERATIONS,
  warmup: WARMUP,
  p50_us: shapes.realistic.p50_us,
  p99_us: shapes.realistic.p99_us,
  worst_p99_us: worst[1].p99_us,
  worst_shape: worst[0],
  lint_warm_ms: round(lintMs, 1),
  timer_overhead_p50_us: us(percentile(overhead, 50)),
  shapes,
  goal: { p99_us_max: GOAL_P99_US, every_shape: true, met },
});
process.exit(mismatches === 0 ? 0 : 1);
