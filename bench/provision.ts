/**
 * Provisioning at account scale: the whole local system (API, dynalite, the ASL run by the local
 * runner with Step Functions' quotas on — payload, history per execution, Inline Map concurrency —
 * the sandbox IAM/EKS/Kubernetes with 20 ms per call and IAM's mutating calls throttled to 20 per
 * second) provisions a config whose rules name 5,000 distinct service accounts (IAM's ceiling of
 * roles per account; AWS, K8S, no `provisioning` section: the sandbox cluster and bucket apply).
 *
 * The floor: the throttle lets at most 20 mutating IAM calls through per second, so a run needs
 * at least (mutating IAM calls that succeeded) ÷ 20 seconds. Goal: ≤ 1.3 × that floor.
 *
 *   run 1 (cold):  PUT → wait until the workflow is idle → SUCCEEDED? wall time, sandbox calls per
 *                  SA (total / mutating), calls by action, peak in-flight sandbox calls (bounded by
 *                  the Map's MaxConcurrency × the per-step parallelism, which is 1: every step makes
 *                  its calls one after another).
 *   run 2 (warm):  PUT a new version naming the same identities (one extra rule) → wall time and
 *                  mutating calls (goal 0).
 * Also reported: peak history events of any one execution (parent or Distributed Map child) and
 * the largest state payload, from the runner.
 *
 * Goals: both runs SUCCEEDED, run 1 within 1.3 × the throttle's floor, run 2 makes 0 mutating
 * calls, peak in-flight ≤ the items the state machine runs at once, no quota exceeded.
 *
 * Knobs (env): BENCH_SAS (default 5000), BENCH_LATENCY_MS (sandbox latency per call, default 20),
 * BENCH_IAM_RPS (mutating IAM calls per second, default 20; 0 = unthrottled),
 * BENCH_PAGE_SIZE (plan page size, default the service's 100),
 * BENCH_RETRY_MS / BENCH_WAIT_MS (local retry interval / Wait-state time, defaults 50 / 100: the
 * runner's defaults), BENCH_PROFILE=1 (or 2) writes a CPU profile of run 1 (or 2)
 * (bench/results/provision.cpuprofile) and prints its top.
 * BENCH_WRITE_RATE: the service's own pace of mutating IAM calls (IAM_WRITE_RATE), default
 * BENCH_IAM_RPS (the deployment told its quota); 0 = none (the SDK's adaptive limiter learns it).
 *
 * Where the time goes (printed, and in the JSON): a timeline in 10 s windows of IAM writes and
 * throttled answers per second, items (Inline Map iterations) and Task invocations in flight;
 * the time items spent waiting for a write token (the pace) and the Task retries by state.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateSecret, mintToken } from '../local/auth.js';
import { startLocalServer } from '../local/server.js';
import { allStates, loadDefinition } from '../local/workflow-runner.js';
import type { AwsIam } from '../adapters/aws/iam.js';
import { emit, round, runThenExit } from './common.js';
import { summarize, type CpuProfile } from './cpuprofile.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const SAS = Number(process.env.BENCH_SAS ?? 5000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const IAM_RPS = Number(process.env.BENCH_IAM_RPS ?? 20);
const PAGE_SIZE = process.env.BENCH_PAGE_SIZE ? Number(process.env.BENCH_PAGE_SIZE) : undefined;
const RETRY_MS = Number(process.env.BENCH_RETRY_MS ?? 50);
const WAIT_MS = Number(process.env.BENCH_WAIT_MS ?? 100);
const BUDGET_S = Number(process.env.BENCH_BUDGET_S ?? 1800);
const WRITE_RATE = Number(process.env.BENCH_WRITE_RATE ?? IAM_RPS);
process.env.IAM_WRITE_RATE = WRITE_RATE > 0 ? String(WRITE_RATE) : '';
process.env.MAX_IDENTITIES ??= String(Math.max(SAS, 1000));
/** BENCH_PROFILE=1: profile run 1; =2: run 2. */
const PROFILE = process.env.BENCH_PROFILE ?? '';
const CLOUD = 'cldrsrc_benchprov';
const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Items the state machine runs at once: the product of the nested Maps' MaxConcurrency. */
function mapConcurrency(): number {
  return allStates(loadDefinition())
    .filter((s) => s.state.Type === 'Map')
    .reduce((n, s) => n * ((s.state.MaxConcurrency as number | undefined) ?? Number.POSITIVE_INFINITY), 1);
}

function config(n: number, extraRule = false) {
  const pad = String(n - 1).length;
  const rules = Array.from({ length: n }, (_, i) => ({
    selector: `project=proj-${String(i).padStart(pad, '0')}`,
    value: `bench-sa-${String(i).padStart(pad, '0')}`,
  }));
  // A new version naming the same identities (an identical document would be answered "unchanged").
  if (extraRule) rules.push({ selector: 'project=proj-extra', value: rules[0]!.value });
  return { cloud_deployment_id: CLOUD, cloud_provider: 'AWS', compute_stack: 'K8S', dataplane_iam_mapping: { rules, fallback_rule: 'FAIL' } };
}

const started = Date.now();
const dataDir = mkdtempSync(join(tmpdir(), 'iam-mapping-bench-provision-'));
const server = await startLocalServer({
  dataDir,
  port: 0,
  driftIntervalSeconds: 0,
  sandbox: { latencyMs: LATENCY_MS, ...(IAM_RPS > 0 ? { iamMutatingRatePerSecond: IAM_RPS } : {}) },
  workflow: { retryIntervalMs: RETRY_MS, waitMs: WAIT_MS, ...(PAGE_SIZE ? { planPageSize: PAGE_SIZE } : {}) },
});
const sandbox = server.sandbox!;
await runThenExit(server, dataDir, async () => {
  const owner = await mintToken(loadOrCreateSecret(dataDir), 'owner', 'bench@example.com');
  const maxConcurrency = mapConcurrency();
  console.log(
    `provision: ${SAS} service accounts, sandbox latency ${LATENCY_MS} ms/call, IAM mutating calls ≤ ${IAM_RPS || '∞'}/s, service's write pace ${WRITE_RATE || 'adaptive'}/s, items at once ≤ ${maxConcurrency}, retry ${RETRY_MS} ms, wait ${WAIT_MS} ms`,
  );

  async function provision(label: string, body: string, profile = false) {
    const mark = sandbox.calls.mark();
    sandbox.calls.resetPeak();
    const cpu0 = process.cpuUsage();
    const session = profile ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const iam = server.app.targets.iam as AwsIam;
    const pace0 = iam.writePacing?.();
    const retries0 = { ...server.workflow.stats().retriesByState };
    const samples: Array<{ t: number; items: number; tasks: number; calls: number }> = [];
    const t0 = performance.now();
    const wall0 = Date.now();
    const sampler = setInterval(() => {
      const st = server.workflow.stats();
      samples.push({ t: (performance.now() - t0) / 1000, items: st.iterationsInFlight, tasks: st.tasksInFlight, calls: sandbox.calls.inFlight });
    }, 250);
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
    clearInterval(sampler);
    const cpu = process.cpuUsage(cpu0);
    let top: ReturnType<typeof summarize> | undefined;
    if (session) {
      const { profile: p } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
      session.disconnect();
      mkdirSync(resultsDir, { recursive: true });
      writeFileSync(join(resultsDir, 'provision.cpuprofile'), JSON.stringify(p));
      top = summarize(p, 12);
    }
    const status = await fetch(`${server.url}/v1/clouds/${CLOUD}/iam-mapping/provisioning?version=${put.version}`, {
      headers: { authorization: `Bearer ${owner}` },
    });
    const run = (await status.json()) as { status: string; items: Array<{ status: string; error?: { message: string } }>; error?: { message: string } };
    if (status.status !== 200) throw new Error(`status ${status.status}: ${JSON.stringify(run).slice(0, 300)}`);
    const calls = sandbox.calls.count({ sinceSeq: mark });
    const mutating = sandbox.calls.mutatingCount(mark);
    // What the throttle's floor counts: mutating IAM calls that got through (throttled answers are retried).
    const iamWrites = sandbox.calls.filter({ sinceSeq: mark, service: 'iam', mutating: true, failed: false }).length;
    const throttled = sandbox.calls.filter({ sinceSeq: mark, service: 'iam', mutating: true }).filter((c) => c.errorCode === 'Throttling').length;
    const floorS = IAM_RPS > 0 ? iamWrites / IAM_RPS : 0;
    const quota = server.workflow.stats();
    // Expected on a first run: the reads that find nothing (NoSuchEntity, 404) before each create.
    const errorCalls: Record<string, number> = {};
    for (const c of sandbox.calls.filter({ sinceSeq: mark, failed: true })) {
      const k = `${c.service}:${c.action}:${c.errorCode ?? c.status}`;
      errorCalls[k] = (errorCalls[k] ?? 0) + 1;
    }
    const failedCalls = Object.values(errorCalls).reduce((a, b) => a + b, 0);
    const byAction = sandbox.calls.countsByAction({ sinceSeq: mark });
    // Timeline in 10 s windows: IAM writes / throttled answers per second (by answer time), items and Tasks in flight (mean).
    const WINDOW_S = 10;
    const windows = Math.max(1, Math.ceil(wallMs / 1000 / WINDOW_S));
    const timeline = Array.from({ length: windows }, (_, w) => ({
      t: w * WINDOW_S,
      writes_per_s: 0,
      throttled_per_s: 0,
      items_in_flight: 0,
      tasks_in_flight: 0,
    }));
    for (const c of sandbox.calls.filter({ sinceSeq: mark, service: 'iam', mutating: true })) {
      const w = Math.min(windows - 1, Math.max(0, Math.floor((c.at + (c.durationMs ?? 0) - wall0) / 1000 / WINDOW_S)));
      if (c.errorCode === 'Throttling') timeline[w]!.throttled_per_s += 1 / WINDOW_S;
      else if ((c.status ?? 0) < 400) timeline[w]!.writes_per_s += 1 / WINDOW_S;
    }
    const perWindow = new Array<number>(windows).fill(0);
    for (const smp of samples) {
      const w = Math.min(windows - 1, Math.floor(smp.t / WINDOW_S));
      timeline[w]!.items_in_flight += smp.items;
      timeline[w]!.tasks_in_flight += smp.tasks;
      perWindow[w]! += 1;
    }
    for (const [w, row] of timeline.entries()) {
      row.writes_per_s = round(row.writes_per_s, 1);
      row.throttled_per_s = round(row.throttled_per_s, 1);
      row.items_in_flight = round(row.items_in_flight / Math.max(1, perWindow[w]!), 1);
      row.tasks_in_flight = round(row.tasks_in_flight / Math.max(1, perWindow[w]!), 1);
    }
    const meanItems = samples.length ? samples.reduce((a, b) => a + b.items, 0) / samples.length : 0;
    const itemSeconds = meanItems * (wallMs / 1000);
    const pace1 = iam.writePacing?.();
    const paceWaitS = pace0 && pace1 ? (pace1.waitedMs - pace0.waitedMs) / 1000 : 0;
    const retriesNow = server.workflow.stats().retriesByState;
    const retries = Object.fromEntries(
      Object.entries(retriesNow)
        .map(([k, v]) => [k, v - (retries0[k] ?? 0)] as const)
        .filter(([, v]) => v > 0),
    );
    const retryCount = Object.values(retries).reduce((a, b) => a + b, 0);
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
      iam_mutating_ok: iamWrites,
      iam_throttled_answers: throttled,
      floor_s: round(floorS, 1),
      vs_floor: floorS > 0 ? round(wallMs / 1000 / floorS, 3) : null,
      peak_history_events: quota.peakHistoryEvents,
      peak_payload_bytes: quota.peakPayloadBytes,
      peak_payload_state: quota.peakPayloadState,
      child_executions: quota.childExecutions,
      error_answers: failedCalls,
      error_answers_by_code: errorCalls,
      calls_per_sa: round(calls / SAS, 2),
      mutating_per_sa: round(mutating / SAS, 2),
      peak_in_flight: sandbox.calls.peakInFlight,
      calls_by_action: byAction,
      mean_items_in_flight: round(meanItems, 1),
      // Where the items' time went: item-seconds in flight, of which waiting for a write token (the pace) and in Task retry waits.
      item_seconds: round(itemSeconds, 0),
      write_pace_wait_item_s: round(paceWaitS, 0),
      write_pace: pace1
        ? { rate_per_s: round(pace1.ratePerSecond, 2), tokens: pace1.tokens - (pace0?.tokens ?? 0), throttled: pace1.throttled - (pace0?.throttled ?? 0) }
        : null,
      task_retries: retryCount,
      task_retry_wait_item_s: round((retryCount * RETRY_MS) / 1000, 1),
      task_retries_by_state: retries,
      timeline,
    };
    console.log(
      `${label}: v${out.version} ${out.status} (${out.items} items, ${out.failed_items} failed) in ${out.wall_s} s (PUT ${out.put_ms} ms, ${out.per_sa_ms} ms/SA, CPU ${out.cpu_s} s); ` +
        `sandbox calls ${calls} (${out.calls_per_sa}/SA), mutating ${mutating} (${out.mutating_per_sa}/SA), error answers ${failedCalls} ${JSON.stringify(errorCalls)}; peak in-flight ${out.peak_in_flight}`,
    );
    console.log(
      `${label}: IAM writes ${iamWrites} (+${throttled} throttled) → floor ${out.floor_s} s, ${out.vs_floor ?? '-'}× the floor; ` +
        `peak history ${out.peak_history_events} events/execution, peak payload ${out.peak_payload_bytes} bytes (${out.peak_payload_state}), child executions so far ${out.child_executions}`,
    );
    console.log(`${label}: calls by action ${JSON.stringify(byAction)}`);
    console.log(
      `${label}: items in flight mean ${out.mean_items_in_flight} (peak ${server.workflow.stats().peakIterationsInFlight}); ${out.item_seconds} item-s in flight, ${out.write_pace_wait_item_s} waiting for a write token, ` +
        `${out.task_retry_wait_item_s} in ${retryCount} Task retry waits ${JSON.stringify(retries)}; pace ${JSON.stringify(out.write_pace)}`,
    );
    console.log(`${label}: timeline (10 s windows: writes/s, throttled/s, items in flight, Tasks in flight):`);
    console.log(`  ${timeline.map((r) => `${r.t}s ${r.writes_per_s}/${r.throttled_per_s}/${r.items_in_flight}/${r.tasks_in_flight}`).join('  ')}`);
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

  const cold = await provision('run 1 (create)', JSON.stringify(config(SAS)), PROFILE === '1');
  const warm = await provision('run 2 (converged)', JSON.stringify(config(SAS, true)), PROFILE === '2');
  const totalS = round((Date.now() - started) / 1000, 1);
  const goal = {
    both_succeeded: cold.status === 'SUCCEEDED' && warm.status === 'SUCCEEDED',
    within_1_3x_floor: cold.vs_floor === null || cold.vs_floor <= 1.3,
    history_within_quota: warm.peak_history_events <= 25_000,
    payload_within_quota: warm.peak_payload_bytes <= 262_144,
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
    iam_mutating_rps: IAM_RPS,
    map_max_concurrency: maxConcurrency,
    retry_interval_ms: RETRY_MS,
    service_write_rate: WRITE_RATE || 'adaptive',
    wait_ms: WAIT_MS,
    run1: cold,
    run2: { ...warm },
    total_s: totalS,
    goal: { met, ...goal, budget_s: BUDGET_S },
  });
  return 0;
});
