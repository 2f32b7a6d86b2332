/**
 * Lint in bounded time. Worst cases for the shadowing analysis (lib/config/lint.ts), each linted
 * in-process (validation = schema + selectors + values, then lint, timed separately), and then
 * PUT through the local server while `perf_hooks.monitorEventLoopDelay` watches the event loop:
 *
 *   notin-1200:  1,200 rules `project notin (<800 values>, z<i>)` (~4.7 MB): every rule is
 *                unindexed and no rule covers another — the pairwise check was 16 s;
 *   notin-1800:  1,800 such rules of 500 values (the rule count that once got a 500 after committing);
 *   mixed-25000: 25,000 rules of assorted shapes (per-user, per-project, workload-type sets,
 *                notin lists, exists, duplicates, shadowed rules), up to the 5 MiB body limit.
 *
 * Goals: lint ≤ 1 s for each; the longest event-loop stall ≤ 100 ms during the PUT of each (the
 * YAML/JSON parse of the body is included) and the first BENCH_LINT_AFTER_PUT_MS (3 s) of the
 * provisioning run it starts in the same process (its Plan step plans and digests every identity).
 * Knobs: BENCH_LINT_REPEAT (default 3: best of N in-process), BENCH_LINT_ONLY (one case by name),
 * BENCH_LINT_PROFILE=1: a CPU profile of each PUT, and what ran in its longest stalls, by
 * inclusive time.
 * On a shared machine a stall of the event loop is also time the OS did not run the process, so
 * each stall's main-thread CPU time is measured too (`process.threadCpuUsage`, Node ≥ 23.9): the
 * longest stall's CPU is what the code itself blocked for.
 */
import { createGunzip } from 'node:zlib';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { lintRules } from '../lib/config/lint.js';
import { validateConfig } from '../lib/config/validate.js';
import { parseSelector } from '../lib/selector/index.js';
import { loadOrCreateSecret, mintToken } from '../local/auth.js';
import { startLocalServer } from '../local/server.js';
import { Session } from 'node:inspector/promises';
import { emit, round } from './common.js';
import { windowSummary, type CpuProfile } from './cpuprofile.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
const REPEAT = Number(process.env.BENCH_LINT_REPEAT ?? 3);
const PROFILE = process.env.BENCH_LINT_PROFILE === '1';
const AFTER_PUT_MS = Number(process.env.BENCH_LINT_AFTER_PUT_MS ?? 3000);
/** CPU time of the main thread (ms); the whole process's where Node lacks threadCpuUsage. */
const threadCpuMs = (): number => {
  const u = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.() ?? process.cpuUsage();
  return (u.user + u.system) / 1000;
};

type Rule = { selector: string; value: string };

function notinRules(n: number, values = 800): Rule[] {
  const common = Array.from({ length: values }, (_, i) => `p${i}`).join(',');
  return Array.from({ length: n }, (_, i) => ({ selector: `project notin (${common},z${i})`, value: `sa-${i % 900}` }));
}

function mixedRules(n: number): Rule[] {
  const rules: Rule[] = [];
  const users = (i: number, k: number) => Array.from({ length: k }, (_, j) => `u${(i * 7 + j) % 5000}@example.com`).join(',');
  for (let i = 0; rules.length < n; i++) {
    const v = `sa-${i % 1000}`;
    switch (i % 10) {
      case 0:
        rules.push({ selector: `workload-type in (job,service),user=u${i}@example.com`, value: v });
        break;
      case 1:
        rules.push({ selector: `project in (${Array.from({ length: 8 }, (_, j) => `proj-${i}-${j}`).join(',')})`, value: v });
        break;
      case 2:
        rules.push({ selector: `user in (${users(i, 8)}),workload-type!=workspace`, value: v });
        break;
      case 3:
        rules.push({ selector: `project notin (${Array.from({ length: 40 }, (_, j) => `x${(i + j) % 300}`).join(',')}),workload-type=job`, value: v });
        break;
      case 4:
        rules.push({ selector: `user!=u${i}@example.com,project=proj-${i % 777}`, value: v });
        break;
      case 5:
        rules.push({ selector: `project,user in (${users(i, 5)})`, value: v });
        break;
      case 6:
        rules.push({ selector: `workload-type=service,project=proj-${i % 333}`, value: v });
        break;
      case 7:
        rules.push({ selector: `user=u${i % 4000}@example.com`, value: v });
        break; // some duplicate/shadow earlier ones
      case 8:
        rules.push({ selector: `project notin (${Array.from({ length: 60 }, (_, j) => `y${j}`).join(',')},w${i})`, value: v });
        break;
      default:
        rules.push({ selector: `workload-type in (job),project in (proj-${i % 50},proj-${(i + 1) % 50}),user=u${i % 6000}@example.com`, value: v });
    }
  }
  return rules;
}

function doc(cloud: string, rules: Rule[]) {
  return {
    cloud_deployment_id: cloud,
    cloud_provider: 'AWS',
    compute_stack: 'K8S',
    dataplane_iam_mapping: { rules, fallback_rule: 'CLOUD_DEFAULT' },
  };
}

const ONLY = process.env.BENCH_LINT_ONLY;

/** PUT `body`; the answer's status, its byte count and its first 4 KB (the rest is only counted). */
function put(url: string, token: string, body: string): Promise<{ status: number; bytes: number; head: string }> {
  return new Promise((resolve, reject) => {
    // Accepting gzip, as the CLI and the console do: an answer with ~19,000 warnings is over the
    // 6 MB a function may return uncompressed (406 otherwise). Decoded as a stream (zlib's thread pool).
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'accept-encoding': 'gzip' };
    const req = request(url, { method: 'PUT', headers }, (res) => {
      let bytes = 0;
      let head = '';
      const decoded = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
      decoded.on('data', (chunk: Buffer) => {
        if (head.length < 4096) head += chunk.subarray(0, 4096 - head.length).toString('latin1');
        bytes += chunk.length;
      });
      decoded.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, head }));
      decoded.on('error', reject);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
const allCases: Array<{ name: string; rules: Rule[] }> = [
  { name: 'notin-1200', rules: notinRules(1200) },
  { name: 'notin-1800', rules: notinRules(1800, 500) },
  { name: 'mixed-25000', rules: mixedRules(25_000) },
];
const cases = ONLY ? allCases.filter((c) => c.name === ONLY) : allCases;

const results: Record<string, unknown> = {};
const dataDir = mkdtempSync(join(tmpdir(), 'iam-mapping-bench-lint-'));
process.env.MAX_IDENTITIES = '5000';
const server = await startLocalServer({ dataDir, port: 0, driftIntervalSeconds: 0 });
const owner = await mintToken(loadOrCreateSecret(dataDir), 'owner', 'bench@example.com');
let allMet = true;
// The client's first fetch loads undici (~0.1–0.3 s of synchronous module loading in this same
// process): done once before measuring, so the stall measured is the server's.
await (await fetch(`${server.url}/v1/healthz`)).text();
try {
  for (const c of cases) {
    const body = JSON.stringify(doc(`cldrsrc_lint${c.name.replace(/\W/g, '')}`, c.rules));
    const selectors = c.rules.map((r) => parseSelector(r.selector));
    let lintMs = Number.POSITIVE_INFINITY;
    let validateMs = Number.POSITIVE_INFINITY;
    let warnings: ReturnType<typeof lintRules> = [];
    for (let k = 0; k < REPEAT; k++) {
      let t0 = performance.now();
      warnings = lintRules(c.rules.map((r, i) => ({ selector: selectors[i]!, value: r.value })));
      lintMs = Math.min(lintMs, performance.now() - t0);
      t0 = performance.now();
      const v = validateConfig(JSON.parse(body), { cloudId: `cldrsrc_lint${c.name.replace(/\W/g, '')}`, maxIdentities: 5000 });
      validateMs = Math.min(validateMs, performance.now() - t0);
      if (!v.ok) throw new Error(`${c.name} is not valid: ${JSON.stringify(v.errors.slice(0, 2))}`);
    }
    const byCode: Record<string, number> = {};
    for (const w of warnings) byCode[w.code] = (byCode[w.code] ?? 0) + 1;

    // Through the local server: the longest stall of the event loop while the PUT runs.
    const h = monitorEventLoopDelay({ resolution: 10 });
    let maxGap = 0;
    let maxGapCpuMs = 0;
    let maxCpuInGap = 0;
    let last = performance.now();
    let lastCpu = threadCpuMs();
    // Stalls over 50 ms, on process.hrtime's clock in µs (the CPU profile's clock).
    const gaps: Array<{ fromUs: number; toUs: number }> = [];
    const ticker = setInterval(() => {
      const now = performance.now();
      if (now - last > 50) {
        const toUs = Number(process.hrtime.bigint() / 1000n);
        gaps.push({ fromUs: toUs - (now - last) * 1000, toUs });
      }
      const cpu = threadCpuMs();
      if (now - last > maxGap) {
        maxGap = now - last;
        maxGapCpuMs = cpu - lastCpu;
      }
      maxCpuInGap = Math.max(maxCpuInGap, cpu - lastCpu);
      last = now;
      lastCpu = cpu;
    }, 5);
    const session = PROFILE ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 500 });
      await session.post('Profiler.start');
    }
    h.enable();
    last = performance.now();
    lastCpu = threadCpuMs();
    const t0 = performance.now();
    // node:http, the answer counted chunk by chunk: the client runs in the server's process here, and
    // fetch's whole-body decode of a multi-MB answer (~19,000 warnings) would be counted as the server's stall.
    const res = await put(`${server.url}/v1/clouds/cldrsrc_lint${c.name.replace(/\W/g, '')}/iam-mapping`, owner, body);
    const text = res.head;
    const putMs = performance.now() - t0;
    const putStallMs = Math.max(h.max / 1e6, maxGap);
    // The PUT starts the version's provisioning run in this process (the local runner): its Plan
    // step (the plan of every identity, digests) runs on the same event loop, so keep watching.
    await new Promise((r) => setTimeout(r, AFTER_PUT_MS));
    h.disable();
    clearInterval(ticker);
    if (session) {
      const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
      session.disconnect();
      for (const g of gaps.sort((a, b) => b.toUs - b.fromUs - (a.toUs - a.fromUs)).slice(0, 4)) {
        console.log(`${c.name}: stall of ${round((g.toUs - g.fromUs) / 1000, 1)} ms at +${round((g.fromUs - profile.startTime) / 1000, 0)} ms; inclusive:`);
        for (const [name, ms] of windowSummary(profile, g.fromUs, g.toUs)) console.log(`  ${String(ms).padStart(7)} ms  ${name}`);
      }
    }
    await server.workflow.close().catch(() => undefined);
    if (res.status !== 200) throw new Error(`${c.name}: PUT ${res.status} ${text.slice(0, 300)}`);
    const stallMs = Math.max(h.max / 1e6, maxGap);
    const met = lintMs <= 1000 && stallMs <= 100;
    allMet &&= met;
    const r = {
      rules: c.rules.length,
      body_bytes: Buffer.byteLength(body),
      lint_ms: round(lintMs, 1),
      validate_ms: round(validateMs, 1),
      warnings: byCode,
      put_ms: round(putMs, 1),
      max_event_loop_stall_ms: round(stallMs, 1),
      put_stall_ms: round(putStallMs, 1),
      reply_bytes: res.bytes,
      watched_after_put_ms: AFTER_PUT_MS,
      // Main-thread CPU inside the longest stall, and the most CPU inside any one stall: the rest of a stall is the OS not running us.
      longest_stall_cpu_ms: round(maxGapCpuMs, 1),
      max_stall_cpu_ms: round(maxCpuInGap, 1),
      event_loop_delay_p99_ms: round(h.percentile(99) / 1e6, 1),
      goal_met: met,
    };
    results[c.name] = r;
    console.log(
      `${c.name}: ${r.rules} rules, ${(r.body_bytes / 1e6).toFixed(2)} MB: lint ${r.lint_ms} ms, validate ${r.validate_ms} ms, warnings ${JSON.stringify(byCode)}; PUT ${r.put_ms} ms, longest event-loop stall ${r.max_event_loop_stall_ms} ms over the PUT and the next ${AFTER_PUT_MS / 1000} s of its provisioning run (${r.put_stall_ms} ms during the PUT; main-thread CPU in it ${r.longest_stall_cpu_ms} ms; most CPU in any stall ${r.max_stall_cpu_ms} ms)${met ? '' : ' (goal MISSED)'}`,
    );
  }
} finally {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
emit({ bench: 'lint', cases: results, goal: { met: allMet, lint_ms_max: 1000, stall_ms_max: 100 } });
process.exit(0);
