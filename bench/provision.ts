/**
 * Provisioning throughput: the whole local system (API, dynalite, the ASL run by
 * aws-local-stepfunctions, the sandbox IAM/EKS/Kubernetes with an injected per-call latency)
 * provisions a config whose rules name 1,000 distinct service accounts (AWS, K8S, no
 * `provisioning` section: the sandbox cluster and the SANDBOX_DEFAULTS bucket apply).
 *
 *   run 1 (cold):  PUT → wait until the workflow is idle → SUCCEEDED? wall time, sandbox calls per
 *                  SA (total / mutating), calls by action, peak in-flight sandbox calls (bounded by
 *                  the Map's MaxConcurrency × the per-step parallelism, which is 1: every step makes
 *                  its calls one after another).
 *   run 2 (warm):  PUT the same rules again (a new version) → wall time and mutating calls (goal 0).
 *
 * Goals: both runs SUCCEEDED, run 2 makes 0 mutating calls, peak in-flight ≤ MaxConcurrency,
 * total time within BENCH_BUDGET_S (default 180 s).
 *
 * Knobs (env): BENCH_SAS (default 1000), BENCH_LATENCY_MS (sandbox latency per call, default 5),
 * BENCH_RETRY_MS / BENCH_WAIT_MS (local retry interval / Wait-state time, defaults 50 / 100: the
 * runner's defaults), BENCH_PROFILE=1 (or 2) writes a CPU profile of run 1 (or 2)
 * (bench/results/provision.cpuprofile) and prints its top.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateSecret, mintToken } from '../local/auth.js';
import { startLocalServer } from '../local/server.js';
import { loadDefinition } from '../local/workflow-runner.js';
import { emit, round } from './common.js';
import { summarize, type CpuProfile } from './cpuprofile.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const SAS = Number(process.env.BENCH_SAS ?? 1000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 5);
const RETRY_MS = Number(process.env.BENCH_RETRY_MS ?? 50);
const WAIT_MS = Number(process.env.BENCH_WAIT_MS ?? 100);
const BUDGET_S = Number(process.env.BENCH_BUDGET_S ?? 180);
/** BENCH_PROFILE=1: profile run 1; =2: run 2. */
const PROFILE = process.env.BENCH_PROFILE ?? '';
const CLOUD = 'cldrsrc_benchprov';
const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** MaxConcurrency of the Map state (ProvisionItems) in the one ASL definition. */
function mapConcurrency(): number {
  const states = (loadDefinition() as { States: Record<string, { Type?: string; MaxConcurrency?: number }> }).States;
  const map = Object.values(states).find((s) => s.Type === 'Map');
  return map?.MaxConcurrency ?? Number.POSITIVE_INFINITY;
}

function config(n: number) {
  const pad = String(n - 1).length;
  return {
    cloud_deployment_id: CLOUD,
    cloud_provider: 'AWS',
    compute_stack: 'K8S',
    dataplane_iam_mapping: {
      rules: Array.from({ length: n }, (_, i) => ({ selector: `project=proj-${String(i).padStart(pad, '0')}`, value: `bench-sa-${String(i).padStart(pad, '0')}` })),
      fallback_rule: 'FAIL',
    },
  };
}

const started = Date.now();
const dataDir = mkdtempSync(join(tmpdir(), 'iam-mapping-bench-provision-'));
const server = await startLocalServer({ dataDir, port: 0, sandbox: { latencyMs: LATENCY_MS }, workflow: { retryIntervalMs: RETRY_MS, waitMs: WAIT_MS } });
const sandbox = server.sandbox!;
let exitCode = 0;

try {
  const owner = await mintToken(loadOrCreateSecret(dataDir), 'owner', 'bench@example.com');
  const body = JSON.stringify(config(SAS));
  const maxConcurrency = mapConcurrency();
  console.log(`provision: ${SAS} service accounts, sandbox latency ${LATENCY_MS} ms/call, Map MaxConcurrency ${maxConcurrency}, retry ${RETRY_MS} ms, wait ${WAIT_MS} ms`);

  async function provision(label: string, profile = false) {
    const mark = sandbox.calls.mark();
    sandbox.calls.resetPeak();
    const cpu0 = process.cpuUsage();
    const session = profile ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const t0 = performance.now();
    const res = await fetch(`${server.url}/v1/clouds/${CLOUD}/iam-mapping`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
      body,
    });
    const put = (await res.json()) as { version?: number; error?: unknown };
    if (res.status !== 200 || put.version === undefined) throw new Error(`PUT failed: ${res.status} ${JSON.stringify(put).slice(0, 500)}`);
    const putMs = performance.now() - t0;
    await server.workflow.idle();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    let top: ReturnType<typeof summarize> | undefined;
    if (session) {
      const { profile: p } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
      session.disconnect();
      mkdirSync(resultsDir, { recursive: true });
      writeFileSync(join(resultsDir, 'provision.cpuprofile'), JSON.stringify(p));
      top = summarize(p, 12);
    }
    const status = await fetch(`${server.url}/v1/clouds/${CLOUD}/iam-mapping/provisioning?version=${put.version}`, { headers: { authorization: `Bearer ${owner}` } });
    const run = (await status.json()) as { status: string; items: Array<{ status: string; error?: { message: string } }>; error?: { message: string } };
    const calls = sandbox.calls.count({ sinceSeq: mark });
    const mutating = sandbox.calls.mutatingCount(mark);
    // Expected on a first run: the reads that find nothing (NoSuchEntity, 404) before each create.
    const errorCalls: Record<string, number> = {};
    for (const c of sandbox.calls.filter({ sinceSeq: mark, failed: true })) {
      const k = `${c.service}:${c.action}:${c.errorCode ?? c.status}`;
      errorCalls[k] = (errorCalls[k] ?? 0) + 1;
    }
    const failedCalls = Object.values(errorCalls).reduce((a, b) => a + b, 0);
    const byAction = sandbox.calls.countsByAction({ sinceSeq: mark });
    const failedItems = run.items.filter((i) => i.status !== 'SUCCEEDED');
    const out = {
      version: put.version,
      status: run.status,
      items: run.items.length,
      failed_items: failedItems.length,
      wall_s: round(wallMs / 1000, 2),
      put_ms: round(putMs, 1),
      per_sa_ms: round(wallMs / SAS, 2),
      cpu_s: round((cpu.user + cpu.system) / 1e6, 2),
      calls,
      mutating_calls: mutating,
      error_answers: failedCalls,
      error_answers_by_code: errorCalls,
      calls_per_sa: round(calls / SAS, 2),
      mutating_per_sa: round(mutating / SAS, 2),
      peak_in_flight: sandbox.calls.peakInFlight,
      calls_by_action: byAction,
    };
    console.log(
      `${label}: v${out.version} ${out.status} (${out.items} items, ${out.failed_items} failed) in ${out.wall_s} s (PUT ${out.put_ms} ms, ${out.per_sa_ms} ms/SA, CPU ${out.cpu_s} s); ` +
        `sandbox calls ${calls} (${out.calls_per_sa}/SA), mutating ${mutating} (${out.mutating_per_sa}/SA), error answers ${failedCalls} ${JSON.stringify(errorCalls)}; peak in-flight ${out.peak_in_flight}`,
    );
    console.log(`${label}: calls by action ${JSON.stringify(byAction)}`);
    if (failedItems.length) console.log(`${label}: first failure: ${failedItems[0]?.error?.message ?? '?'}`);
    if (run.error) console.log(`${label}: run error: ${run.error.message}`);
    if (top) {
      console.log(`${label}: CPU profile (${round(top.total_ms / 1000, 1)} s sampled) → bench/results/provision.cpuprofile; top self time by origin:`);
      for (const [name, ms] of top.origins) console.log(`  ${String(round(ms, 0)).padStart(7)} ms  ${name}`);
      console.log('  top functions:');
      for (const [name, ms] of top.functions) console.log(`  ${String(round(ms, 0)).padStart(7)} ms  ${name}`);
    }
    return out;
  }

  const cold = await provision('run 1 (create)', PROFILE === '1');
  const warm = await provision('run 2 (converged)', PROFILE === '2');
  const totalS = round((Date.now() - started) / 1000, 1);
  const goal = {
    both_succeeded: cold.status === 'SUCCEEDED' && warm.status === 'SUCCEEDED',
    rerun_mutating_calls_zero: warm.mutating_calls === 0,
    peak_in_flight_within_map_concurrency: cold.peak_in_flight <= maxConcurrency && warm.peak_in_flight <= maxConcurrency,
    within_budget: totalS <= BUDGET_S,
  };
  const met = Object.values(goal).every(Boolean);
  console.log(`total ${totalS} s; goal ${met ? 'met' : 'MISSED'} ${JSON.stringify(goal)}`);
  emit({
    bench: 'provision',
    service_accounts: SAS,
    sandbox_latency_ms: LATENCY_MS,
    map_max_concurrency: maxConcurrency,
    retry_interval_ms: RETRY_MS,
    wait_ms: WAIT_MS,
    run1: cold,
    run2: { ...warm },
    total_s: totalS,
    goal: { met, ...goal, budget_s: BUDGET_S },
  });
} catch (e) {
  console.error(e);
  exitCode = 1;
} finally {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
