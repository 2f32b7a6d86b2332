/**
 * Lambda bundles: builds each function with esbuild using serverless.yml's `custom.esbuild`
 * (read from the file and passed on the way serverless-esbuild does: plugin-only keys dropped,
 * `exclude` added to `external`, `outputFileExtension` → `outExtension`), into a temp dir; reports
 * the minified size per function (goal: resolve ≤ 200 KB) and the cold import time — fresh `node`
 * processes `import()` the built .mjs, median of RUNS — against importing a bare
 * `@aws-sdk/client-dynamodb` the same way (goal: resolve / bare SDK ≤ 1.3).
 *
 * The Lambda runtime provides `@aws-sdk/*`; here the temp dir gets a `node_modules` symlink to the
 * project's, so the externals resolve as they would there. Also measured, not part of the goal:
 * the same with NODE_OPTIONS=--enable-source-maps (as serverless.yml deploys; sdk and resolve
 * only) and the biggest inputs of each bundle (esbuild metafile).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { lambdaBundleConfig } from '../scripts/lambda-bundle.js';
import { emit, median, round } from './common.js';
import { origin } from './cpuprofile.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 15);
const SOURCEMAP_RUNS = 7;
const GOAL_KB = 200;
const GOAL_RATIO = 1.3;

// serverless.yml's custom.esbuild, as serverless-esbuild hands it to esbuild; every function it deploys.
const bundleConfig = lambdaBundleConfig(ROOT);
const FUNCTIONS = bundleConfig.handlers;
const ext = bundleConfig.ext;
const options: BuildOptions = {
  ...bundleConfig.options,
  metafile: true, // analysis only; does not change the output
  logLevel: 'warning',
};
console.log(`esbuild options (serverless.yml custom.esbuild): ${JSON.stringify({ ...options, metafile: undefined, logLevel: undefined })}`);

const out = mkdtempSync(join(tmpdir(), 'iam-mapping-bundle-'));
symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
writeFileSync(join(out, 'sdk-dynamodb.mjs'), "import '@aws-sdk/client-dynamodb';\n");

try {
  const sizes: Record<string, { kb: number; gzip_kb: number; map_kb: number; top_inputs: Array<[string, number]> }> = {};
  for (const fn of FUNCTIONS) {
    const result = await build({ ...options, absWorkingDir: ROOT, entryPoints: [`functions/${fn}.ts`], outdir: out });
    const file = join(out, `${fn}${ext}`);
    const bytes = statSync(file).size;
    let mapBytes = 0;
    try {
      mapBytes = statSync(`${file}.map`).size;
    } catch {
      // no source map configured
    }
    sizes[fn] = {
      kb: round(bytes / 1024, 1),
      gzip_kb: round(gzipSync(readFileSync(file)).length / 1024, 1),
      map_kb: round(mapBytes / 1024, 1),
      top_inputs: topInputs(result.metafile!, `${fn}${ext}`),
    };
    console.log(
      `${fn.padEnd(8)} ${sizes[fn].kb} KB minified (${sizes[fn].gzip_kb} KB gzip, map ${sizes[fn].map_kb} KB); biggest inputs (KB in bundle): ${sizes[fn].top_inputs.map(([k, v]) => `${k} ${v}`).join(', ')}`,
    );
  }

  // Cold import: each run a fresh process; the module's own import() is timed inside it, and
  // performance.now() at the end is the process's time since start (startup + import).
  const script =
    'const t=performance.now();await import(process.env.BENCH_IMPORT);const i=performance.now()-t;console.log(JSON.stringify({i,p:performance.now()}));';
  const targets: ReadonlyArray<readonly [string, string]> = [
    ['sdk', join(out, 'sdk-dynamodb.mjs')],
    ...FUNCTIONS.map((fn) => [fn, join(out, `${fn}${ext}`)] as const),
  ] as const;
  const measure = (runs: number, nodeOptions: string | undefined, only?: readonly string[]) => {
    const chosen = targets.filter(([name]) => !only || only.includes(name));
    const times = new Map<string, { importMs: number[]; processMs: number[] }>(chosen.map(([name]) => [name, { importMs: [], processMs: [] }]));
    for (let r = 0; r < runs; r++) {
      for (const [name, file] of chosen) {
        const env: NodeJS.ProcessEnv = { ...process.env, TABLE_NAME: 'x', BENCH_IMPORT: pathToFileURL(file).href };
        delete env.NODE_OPTIONS;
        if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
        const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: out, env, encoding: 'utf8' });
        if (res.status !== 0) throw new Error(`importing ${name} failed: ${res.stderr}`);
        const line = res.stdout.trim().split('\n').pop()!;
        const { i, p } = JSON.parse(line) as { i: number; p: number };
        times.get(name)!.importMs.push(i);
        times.get(name)!.processMs.push(p);
      }
    }
    // Medians are the figures; minima (least disturbed by other load on the machine) are shown too.
    const medians: Record<string, { import_ms: number; process_ms: number; ratio_vs_sdk: number; min_import_ms: number; min_ratio_vs_sdk: number }> = {};
    const sdk = median(times.get('sdk')!.importMs);
    const sdkMin = Math.min(...times.get('sdk')!.importMs);
    for (const [name, t] of times) {
      const m = median(t.importMs);
      const min = Math.min(...t.importMs);
      medians[name] = {
        import_ms: round(m, 1),
        process_ms: round(median(t.processMs), 1),
        ratio_vs_sdk: round(m / sdk, 2),
        min_import_ms: round(min, 1),
        min_ratio_vs_sdk: round(min / sdkMin, 2),
      };
    }
    return medians;
  };

  const plain = measure(RUNS, undefined);
  console.log(`cold import, median of ${RUNS} fresh processes (import ms / process ms / ratio to bare SDK import; [min import ms, ratio of minima]):`);
  for (const [name, m] of Object.entries(plain))
    console.log(`  ${name.padEnd(8)} ${m.import_ms} ms / ${m.process_ms} ms / ×${m.ratio_vs_sdk}  [${m.min_import_ms} ms, ×${m.min_ratio_vs_sdk}]`);
  const withMaps = measure(SOURCEMAP_RUNS, '--enable-source-maps', ['sdk', 'resolve']);
  console.log(
    `  with NODE_OPTIONS=--enable-source-maps (as deployed), median of ${SOURCEMAP_RUNS}: ${Object.entries(withMaps)
      .map(([n, m]) => `${n} ${m.import_ms} ms ×${m.ratio_vs_sdk}`)
      .join(', ')}`,
  );

  const resolveKb = sizes.resolve!.kb;
  const ratio = plain.resolve!.ratio_vs_sdk;
  const met = resolveKb <= GOAL_KB && ratio <= GOAL_RATIO;
  console.log(
    `goal resolve ≤ ${GOAL_KB} KB: ${resolveKb <= GOAL_KB ? 'MET' : 'MISSED'} (${resolveKb} KB); cold import ≤ ×${GOAL_RATIO} bare SDK: ${ratio <= GOAL_RATIO ? 'MET' : 'MISSED'} (×${ratio})`,
  );

  emit({
    bench: 'bundle',
    sizes_kb: Object.fromEntries(Object.entries(sizes).map(([fn, s]) => [fn, { minified: s.kb, gzip: s.gzip_kb, map: s.map_kb }])),
    top_inputs_kb: Object.fromEntries(Object.entries(sizes).map(([fn, s]) => [fn, s.top_inputs])),
    import_runs: RUNS,
    cold_import: plain,
    cold_import_enable_source_maps: withMaps,
    goal: { resolve_kb_max: GOAL_KB, import_ratio_max: GOAL_RATIO, resolve_kb: resolveKb, import_ratio: ratio, met },
  });
} finally {
  rmSync(out, { recursive: true, force: true });
}

/** The biggest contributors to an output, grouped by package (or project directory), in KB. */
function topInputs(metafile: Metafile, outName: string, top = 6): Array<[string, number]> {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(outName))?.[1];
  if (!output) return [];
  const groups = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const key = path.includes('node_modules/') ? origin(path, '') : path.split('/').slice(0, 2).join('/');
    groups.set(key, (groups.get(key) ?? 0) + bytesInOutput);
  }
  return [...groups]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => [k, round(v / 1024, 1)]);
}
