/**
 * HTTP latency of resolve vs. the healthz floor, through the local server (API, dynalite, sandbox) with a
 * 10,000-rule config: wrk (Debian's package; autocannon when wrk is missing), 8 connections, 2 s
 * warm-up + ~10 s measured each (as ten interleaved 1 s rounds: healthz, resolve, healthz, …).
 * Goal: resolve/healthz ≤ 1.25 for p50 and for p99, resolve throughput ≥ 0.8 × healthz's; no
 * non-2xx responses. Every run also interleaves the same two requests answered by plain `node:http`
 * (bench/diag-server.ts: healthz's reply to the GET; the POST's body read and a constant reply),
 * none of our code: `node_floor` is what Node itself charges the authenticated POST over the GET.
 * Two more split that charge: `bare_get_body` (plain node:http: the GET carrying the POST's headers
 * and body, answered as the GET) and `healthz_body` (our healthz carrying resolve's request bytes,
 * which its handler ignores): `body_floor` is what the request's bytes cost before any resolve work,
 * and `resolve_vs_healthz_body` is resolve against healthz with the same request bytes.
 *
 * Process layout: the server (and dynalite) run in THIS process, as `startLocalServer` does under
 * `npm start`; autocannon runs in a child (bench/load-worker.ts). autocannon in the same process
 * would share the event loop with the handlers: its own work (request building, response parsing,
 * histogram updates) would be queued between requests and counted as server latency, and the load
 * it can generate would be capped by the very CPU it is measuring. With the child, the 2 cores
 * are split one-to-one between load generator and server. This process also samples its own CPU
 * time and event-loop delay per phase (the child announces phases on stderr), and counts the
 * store round trips the resolve path makes (freshness re-checks).
 *
 * Diagnosis switches (not used by `npm run bench`): BENCH_ROUNDS=<n> the interleaved rounds (10),
 * BENCH_PIN=0 no CPU pinning, BENCH_FRESHNESS_MS=<ms> sets the resolve freshness, BENCH_SWR=1 simulates stale-while-revalidate re-checks, BENCH_PROFILE=1 writes a CPU
 * profile of each scenario (bench/results/http-resolve-<scenario>.cpuprofile) and prints its top,
 * BENCH_RULES=<n> another config size (10,000), BENCH_HANDLER=lean adds two interleaved
 * scenarios served by bench/diag-server.ts (same parts as local/server.ts, same app):
 * `resolve_lean` (resolve without middy) and `post_floor` (the resolve request answered with a
 * constant after JWT check, body read and event adaptation).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadOrCreateSecret, mintToken } from '../local/auth.js';
import { startLocalServer } from '../local/server.js';
import { emit, round } from './common.js';
import { startBareServer, startDiagServer } from './diag-server.js';
import { summarize, type CpuProfile } from './cpuprofile.js';
import { CLOUD_ID, generateConfig, sampleLaunches } from './rules.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const RULES = Number(process.env.BENCH_RULES ?? 10_000);
/** wrk (Debian's `wrk` package) when installed, else autocannon; BENCH_LOADGEN=autocannon forces the latter. */
const LOADGEN: 'wrk' | 'autocannon' = process.env.BENCH_LOADGEN === 'autocannon' || spawnSync('wrk', ['--version']).error ? 'autocannon' : 'wrk';
const CONNECTIONS = 8;
const WARMUP_S = 2;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const GOAL_RATIO = 1.25;
const GOAL_RPS_RATIO = 0.8;
const BODIES = 64;
const PROVISIONING_WAIT_MS = Number(process.env.BENCH_PROVISIONING_WAIT_MS ?? 60_000);
let provisioning: { finished: boolean; waited_ms: number; cpu_ms: number } | undefined;
/**
 * healthz, resolve, healthz, resolve, …: DURATION_S / ROUNDS each. Ten 1 s rounds rather than four
 * of 2.5 s, so that the host's slow spells (on a VM: steal, reported below, 8–17% in one session)
 * are spread over the routes more evenly. It narrows the spread little: the CPU ratio of the same
 * code moved ×1.38–1.48 over three runs of ten rounds, ×1.30–1.50 over five of four.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');
const loadStart = loadavg()[0]!;
const freshness = process.env.BENCH_FRESHNESS_MS ? Number(process.env.BENCH_FRESHNESS_MS) : undefined; // diagnosis only
const here = dirname(fileURLToPath(import.meta.url));

/**
 * Server (this process, every thread) on CPU 0, load generator on CPU 1, where `taskset` exists
 * and there are 2+ CPUs (BENCH_PIN=0: leave it to the scheduler). Unpinned, the scheduler moves
 * wrk and the server between the two CPUs and now and then puts both on one: tails that have
 * nothing to do with the route (the constant-answer POST of BENCH_HANDLER=lean, as cheap as
 * healthz, measured p99 ×1.16–2.16 of healthz unpinned, ×0.97–1.20 over four pinned runs).
 */
const PINNED = process.env.BENCH_PIN !== '0' && availableParallelism() >= 2 && spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)]).status === 0;

/** The machine's CPU ticks so far and, of them, `steal` (time the hypervisor ran others while ours were runnable), or null. */
function cpuTicks(): { steal: number; total: number } | null {
  try {
    const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return ticks.length > 7 ? { steal: ticks[7]!, total: ticks.reduce((a, b) => a + b, 0) } : null;
  } catch {
    return null;
  }
}

/**
 * The machine's function-call IPIs so far (the CAL row of /proc/interrupts, all CPUs): how Linux
 * wakes a thread on an idle CPU, here wrk's. On a VM each one is a costly exit, paid inside the
 * server's socket write; per request it explains much of the resolve − healthz CPU gap (README).
 */
function wakeupIpis(): number | null {
  try {
    const row = readFileSync('/proc/interrupts', 'utf8')
      .split('\n')
      .find((l) => l.trimStart().startsWith('CAL:'));
    if (!row) return null;
    return row
      .trim()
      .split(/\s+/)
      .slice(1)
      .filter((f) => /^\d+$/.test(f))
      .reduce((n, f) => n + Number(f), 0);
  } catch {
    return null;
  }
}

/** CPU time of the main thread (Node ≥ 23.9); the whole process's where Node lacks threadCpuUsage. */
function threadCpu(since?: NodeJS.CpuUsage): NodeJS.CpuUsage {
  const p = process as { threadCpuUsage?: (prev?: NodeJS.CpuUsage) => NodeJS.CpuUsage };
  return p.threadCpuUsage ? p.threadCpuUsage(since) : process.cpuUsage(since);
}

const dataDir = mkdtempSync(join(tmpdir(), 'iam-mapping-bench-'));
const server = await startLocalServer({ port: 0, dataDir, ...(freshness !== undefined ? { resolveFreshnessMs: freshness } : {}) });
let exitCode = 0;
const diagClosers: Array<() => Promise<void>> = [];
try {
  const secret = loadOrCreateSecret(dataDir);
  const owner = await mintToken(secret, 'owner', 'owner@example.com');
  const controlPlane = await mintToken(secret, 'control-plane', 'control-plane@example.com');
  const configPath = `/v1/clouds/${CLOUD_ID}/iam-mapping`;
  const resolvePath = `${configPath}/resolve`;

  // Store the 10,000-rule config.
  const gen = generateConfig(RULES);
  const t0 = performance.now();
  const put = await fetch(`${server.url}${configPath}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
    body: JSON.stringify(gen.config),
  });
  const putBody = (await put.json()) as { version?: number; warnings?: unknown[] };
  const putMs = performance.now() - t0;
  if (put.status !== 200) throw new Error(`PUT config: ${put.status} ${JSON.stringify(putBody).slice(0, 500)}`);
  console.log(`PUT ${RULES} rules: ${put.status} version ${putBody.version} in ${putMs.toFixed(0)} ms (${putBody.warnings?.length ?? 0} lint warnings)`);

  // The PUT starts a provisioning run (the local workflow runner against the sandbox, in this
  // process: a role and a service account per distinct value, ~10 s for the 200 of this config).
  // It is not what this bench measures and would compete for the server's CPU, so wait for it
  // (at most PROVISIONING_WAIT_MS; then it is aborted, and the JSON says so: `finished: false`).
  const w0 = performance.now();
  const cpu0 = process.cpuUsage();
  const finished = await Promise.race([
    server.workflow.idle().then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), PROVISIONING_WAIT_MS).unref()),
  ]);
  if (!finished) await server.workflow.close();
  const provisioningCpu = process.cpuUsage(cpu0);
  provisioning = {
    finished,
    waited_ms: round(performance.now() - w0, 0),
    cpu_ms: round((provisioningCpu.user + provisioningCpu.system) / 1000, 0),
  };
  console.log(
    `provisioning run started by the PUT: ${finished ? `finished after ${provisioning.waited_ms} ms` : `still running after ${PROVISIONING_WAIT_MS} ms (${provisioning.cpu_ms} ms CPU): aborted`}`,
  );

  // Request bodies the connections rotate through (each connection loops over the list).
  const headers = { authorization: `Bearer ${controlPlane}`, 'content-type': 'application/json' };
  const bodies = sampleLaunches(gen, BODIES, 99).map((s) => JSON.stringify(s.launch));
  const check = await fetch(`${server.url}${resolvePath}`, { method: 'POST', headers, body: bodies[0] });
  const first = await check.text();
  if (check.status !== 200) throw new Error(`resolve: ${check.status} ${first}`);
  console.log(`resolve ${bodies[0]} → ${first}`);

  // Instrument the store round trips the resolve path makes (freshness re-checks), for diagnosis.
  const store = server.app.stores.configs;
  const original = store.getLatestMeta.bind(store);
  const storeCalls: number[] = [];
  store.getLatestMeta = async (cloudId) => {
    const s = performance.now();
    try {
      return await original(cloudId);
    } finally {
      storeCalls.push(performance.now() - s);
    }
  };

  // Diagnosis only (BENCH_HANDLER=lean): two more interleaved scenarios served by
  // bench/diag-server.ts from the same app: `resolve_lean` (resolve without middy) and
  // `post_floor` (the resolve route answering a constant after auth + body read + adaptation).
  const diagnose = process.env.BENCH_HANDLER;
  if (diagnose !== undefined && diagnose !== 'lean') throw new Error('BENCH_HANDLER must be lean');
  const diagScenarios: Array<{
    name: string;
    url: string;
    requests: Array<{ method: string; path: string; headers?: Record<string, string>; body?: string }>;
  }> = [];
  if (diagnose) {
    for (const [name, variant] of [
      ['resolve_lean', 'lean'],
      ['post_floor', 'floor'],
    ] as const) {
      const diag = await startDiagServer(server.app, secret, variant);
      diagClosers.push(() => diag.close());
      const probe = await fetch(`${diag.url}${resolvePath}`, { method: 'POST', headers, body: bodies[0] });
      const text = await probe.text();
      if (probe.status !== 200 || (variant === 'lean' && text !== first)) throw new Error(`diag server ${variant} answered ${probe.status} ${text}`);
      diagScenarios.push({ name, url: diag.url, requests: bodies.map((body) => ({ method: 'POST', path: resolvePath, headers, body })) });
    }
  }
  // The floor under both routes, in every run: plain node:http answering the same two requests
  // (bench/diag-server.ts), none of our code — what Node itself charges the POST over the GET.
  const bare = await startBareServer();
  diagClosers.push(() => bare.close());
  diagScenarios.push(
    { name: 'bare_get', url: bare.url, requests: [{ method: 'GET', path: '/v1/healthz' }] },
    { name: 'bare_post', url: bare.url, requests: bodies.map((body) => ({ method: 'POST', path: resolvePath, headers, body })) },
    // The GET with the POST's headers and body (answered as the GET, its body left to Node): what the body alone costs in Node.
    { name: 'bare_get_body', url: bare.url, requests: bodies.map((body) => ({ method: 'GET', path: '/v1/healthz', headers, body })) },
    // Our healthz carrying resolve's request bytes (its handler ignores them): our stack's cost of those bytes, without resolve's work.
    { name: 'healthz_body', url: server.url, requests: bodies.map((body) => ({ method: 'GET', path: '/v1/healthz', headers, body })) },
  );

  const job = {
    loadgen: LOADGEN,
    url: server.url,
    connections: CONNECTIONS,
    pipelining: 1,
    warmupSeconds: WARMUP_S,
    durationSeconds: DURATION_S,
    rounds: ROUNDS,
    scenarios: [
      { name: 'healthz', requests: [{ method: 'GET', path: '/v1/healthz' }] },
      { name: 'resolve', requests: bodies.map((body) => ({ method: 'POST', path: resolvePath, headers, body })) },
      ...diagScenarios,
    ],
  };

  // Diagnosis only (BENCH_SWR=1): serve the compiled config while its freshness re-check runs in
  // the background (stale-while-revalidate) instead of making requests wait for it.
  if (process.env.BENCH_SWR === '1') {
    const svc = server.app.resolution as unknown as { compiled(cloudId: string): Promise<unknown> };
    const compiled = svc.compiled.bind(svc);
    const last = new Map<string, { value: unknown; at: number }>();
    const refreshing = new Set<string>();
    const fresh = freshness ?? 1000;
    svc.compiled = async (cloudId) => {
      const hit = last.get(cloudId);
      if (hit) {
        if (performance.now() - hit.at >= fresh && !refreshing.has(cloudId)) {
          refreshing.add(cloudId);
          void compiled(cloudId)
            .then((value) => last.set(cloudId, { value, at: performance.now() }))
            .catch(() => undefined)
            .finally(() => refreshing.delete(cloudId));
        }
        return hit.value;
      }
      const value = await compiled(cloudId);
      last.set(cloudId, { value, at: performance.now() });
      return value;
    };
  }

  // Per-scenario CPU time (summed) and event-loop delay (worst round) of this (server) process;
  // with BENCH_PROFILE=1 also a CPU profile of each scenario's first measured round.
  type ServerSide = {
    cpu_ms: number;
    /** Of cpu_ms, in the kernel (system time: the socket calls and the network path). */
    system_ms: number;
    /** Of cpu_ms, on the main thread (the rest: V8's GC helpers, libuv's pool). */
    main_thread_ms: number;
    /** V8 collections in the measured rounds: young-generation (scavenge) and full (mark-compact) pauses. */
    gc: { scavenges: number; scavenge_ms: number; full: number; full_ms: number; full_max_ms: number };
    loop_delay_p99_ms: number;
    loop_delay_max_ms: number;
    store_rechecks: number;
    store_recheck_max_ms: number;
    /** Function-call IPIs on the machine (Linux's remote wake-ups of an idle CPU), or null where /proc/interrupts is unreadable. */
    wakeup_ipis: number | null;
  };
  const serverSide: Record<string, ServerSide> = {};
  const gcNow = { scavenges: 0, scavenge_ms: 0, full: 0, full_ms: 0, full_max_ms: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) {
        gcNow.scavenges++;
        gcNow.scavenge_ms += e.duration;
      } else if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) {
        gcNow.full++;
        gcNow.full_ms += e.duration;
        gcNow.full_max_ms = Math.max(gcNow.full_max_ms, e.duration);
      }
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  let loop = monitorEventLoopDelay({ resolution: 1 });
  const profile = process.env.BENCH_PROFILE === '1';
  const session = profile ? new Session() : undefined;
  session?.connect();
  const profiles: Record<string, ReturnType<typeof summarize>> = {};
  let profiling: Promise<unknown> = Promise.resolve();
  let phaseStart: { name: string; cpu: NodeJS.CpuUsage; thread: NodeJS.CpuUsage; calls: number; ipis: number | null } | undefined;
  const onPhase = (line: string) => {
    const [kind, name] = line.replace(/^phase /, '').split(':') as [string, string];
    if (kind === 'measure') {
      loop = monitorEventLoopDelay({ resolution: 1 }); // one per round: a re-enabled one counts the pause
      loop.enable();
      if (session && !profiles[name]) profiling = profiling.then(() => session.post('Profiler.enable')).then(() => session.post('Profiler.start'));
      Object.assign(gcNow, { scavenges: 0, scavenge_ms: 0, full: 0, full_ms: 0, full_max_ms: 0 });
      phaseStart = { name, cpu: process.cpuUsage(), thread: threadCpu(), calls: storeCalls.length, ipis: wakeupIpis() };
    } else if (kind === 'done' && phaseStart) {
      loop.disable();
      const cpu = process.cpuUsage(phaseStart.cpu);
      const thread = threadCpu(phaseStart.thread);
      const calls = storeCalls.slice(phaseStart.calls);
      const ipisNow = wakeupIpis();
      const ipis = ipisNow === null || phaseStart.ipis === null ? null : ipisNow - phaseStart.ipis;
      const prev = serverSide[name];
      serverSide[name] = {
        cpu_ms: round((prev?.cpu_ms ?? 0) + (cpu.user + cpu.system) / 1000, 0),
        system_ms: round((prev?.system_ms ?? 0) + cpu.system / 1000, 0),
        main_thread_ms: round((prev?.main_thread_ms ?? 0) + (thread.user + thread.system) / 1000, 0),
        loop_delay_p99_ms: round(Math.max(prev?.loop_delay_p99_ms ?? 0, loop.percentile(99) / 1e6), 2),
        loop_delay_max_ms: round(Math.max(prev?.loop_delay_max_ms ?? 0, loop.max / 1e6), 2),
        store_rechecks: (prev?.store_rechecks ?? 0) + calls.length,
        store_recheck_max_ms: round(Math.max(prev?.store_recheck_max_ms ?? 0, ...calls), 2),
        gc: {
          scavenges: (prev?.gc.scavenges ?? 0) + gcNow.scavenges,
          scavenge_ms: round((prev?.gc.scavenge_ms ?? 0) + gcNow.scavenge_ms, 1),
          full: (prev?.gc.full ?? 0) + gcNow.full,
          full_ms: round((prev?.gc.full_ms ?? 0) + gcNow.full_ms, 1),
          full_max_ms: round(Math.max(prev?.gc.full_max_ms ?? 0, gcNow.full_max_ms), 1),
        },
        wakeup_ipis: ipis === null || prev?.wakeup_ipis === null ? null : (prev?.wakeup_ipis ?? 0) + ipis,
      };
      if (session && !profiles[name]) {
        profiles[name] = { total_ms: 0, functions: [], origins: [] };
        profiling = profiling
          .then(() => session.post('Profiler.stop'))
          .then((r) => {
            const cpuProfile = (r as { profile: CpuProfile }).profile;
            mkdirSync(resultsDir, { recursive: true });
            writeFileSync(join(resultsDir, `http-resolve-${name}.cpuprofile`), JSON.stringify(cpuProfile));
            profiles[name] = summarize(cpuProfile, 25);
          });
      }
      phaseStart = undefined;
    }
  };

  console.log(
    `load: ${CONNECTIONS} connections, pipelining 1, ${WARMUP_S} s warm-up + ${DURATION_S} s per scenario in ${ROUNDS} interleaved rounds (${LOADGEN} in a child process${PINNED ? '; server on CPU 0, load generator on CPU 1' : ''}); load average ${loadStart.toFixed(2)}`,
  );
  const worker = [process.execPath, '--import', 'tsx', join(here, 'load-worker.ts')];
  const child = PINNED
    ? spawn('taskset', ['-c', '1', ...worker], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(worker[0]!, worker.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const ticksStart = cpuTicks();
  let out = '';
  let errBuf = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => {
    errBuf += d.toString('utf8');
    let nl: number;
    while ((nl = errBuf.indexOf('\n')) >= 0) {
      const line = errBuf.slice(0, nl);
      errBuf = errBuf.slice(nl + 1);
      if (line.startsWith('phase ')) onPhase(line);
      else process.stderr.write(`[load-worker] ${line}\n`);
    }
  });
  child.stdin.end(JSON.stringify(job));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`load worker exited with ${code}`);
  const ticksEnd = cpuTicks();
  const stealPct = ticksStart && ticksEnd ? round((100 * (ticksEnd.steal - ticksStart.steal)) / Math.max(1, ticksEnd.total - ticksStart.total), 1) : null;
  await profiling;
  type Figures = {
    scenario: string;
    rounds: Array<{ requests: number }>;
    rps: number;
    p50_ms: number;
    p90_ms: number;
    p99_ms: number;
    max_ms: number;
    /** wrk's own CPU per request (null with autocannon or without /usr/bin/time). */
    loadgen_cpu_us_per_req?: number | null;
    requests: number;
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  const results = new Map<string, Figures>();
  for (const line of out.split('\n').filter((l) => l.trim() !== '')) {
    const r = JSON.parse(line) as Figures;
    results.set(r.scenario, r);
  }
  gcObserver.disconnect();
  const h = results.get('healthz');
  const r = results.get('resolve');
  if (!h || !r) throw new Error(`load worker output incomplete: ${out}`);
  for (const [name, p] of Object.entries(profiles)) {
    // Self time per request of the profiled (first) round.
    const n = results.get(name)?.rounds[0]?.requests ?? Number.NaN;
    const perReq = (ms: number) => round((ms * 1000) / n, 1);
    console.log(`CPU profile, ${name}: first round, ${n} requests, ${p.total_ms} ms sampled (bench/results/http-resolve-${name}.cpuprofile); self µs/request:`);
    console.log(`  by origin: ${p.origins.map(([k, v]) => `${k} ${perReq(v)}`).join(', ')}`);
    for (const [k, v] of p.functions) console.log(`  ${String(perReq(v)).padStart(6)}  ${k}`);
  }
  const cpuPerReq = (name: string, f: Figures) => round(((serverSide[name]?.cpu_ms ?? Number.NaN) * 1000) / f.requests, 1);
  const sysPerReq = (name: string, f: Figures) => round(((serverSide[name]?.system_ms ?? Number.NaN) * 1000) / f.requests, 1);
  const mainPerReq = (name: string, f: Figures) => round(((serverSide[name]?.main_thread_ms ?? Number.NaN) * 1000) / f.requests, 1);
  const ipisPerReq = (name: string, f: Figures) => {
    const n = serverSide[name]?.wakeup_ipis;
    return n === null || n === undefined ? null : round(n / f.requests, 3);
  };
  const extra = diagScenarios.map((d) => results.get(d.name)!);
  for (const f of [h, r, ...extra]) {
    console.log(
      `${f.scenario.padEnd(8)} ${f.rps} req/s  p50 ${f.p50_ms} ms  p90 ${f.p90_ms} ms  p99 ${f.p99_ms} ms  max ${f.max_ms} ms  non-2xx ${f.non2xx}  errors ${f.errors}  ` +
        `server CPU ${cpuPerReq(f.scenario, f)} µs/req (kernel ${sysPerReq(f.scenario, f)}, main thread ${mainPerReq(f.scenario, f)}; wrk ${f.loadgen_cpu_us_per_req ?? 'n/a'})  wake-up IPIs ${ipisPerReq(f.scenario, f) ?? 'n/a'}/req  ${JSON.stringify(serverSide[f.scenario])}`,
    );
  }
  const ratioP50 = round(r.p50_ms / h.p50_ms, 2);
  const ratioP99 = round(r.p99_ms / h.p99_ms, 2);
  const non2xx = h.non2xx + r.non2xx + h.errors + r.errors + h.timeouts + r.timeouts;
  const ratioRps = round(r.rps / h.rps, 2);
  const met = ratioP50 <= GOAL_RATIO && ratioP99 <= GOAL_RATIO && ratioRps >= GOAL_RPS_RATIO && non2xx === 0;
  for (const f of extra)
    console.log(
      `${f.scenario.startsWith('bare_') ? 'floor' : 'diagnosis'}: ${f.scenario}/healthz p50 ×${round(f.p50_ms / h.p50_ms, 2)}, p99 ×${round(f.p99_ms / h.p99_ms, 2)}`,
    );
  /** Scenario `a` against scenario `b` of the same run: server CPU per request, p50, p99, throughput. */
  const ratios = (a: Figures, b: Figures) => ({
    ratio_cpu: round(cpuPerReq(a.scenario, a) / cpuPerReq(b.scenario, b), 2),
    ratio_p50: round(a.p50_ms / b.p50_ms, 2),
    ratio_p99: round(a.p99_ms / b.p99_ms, 2),
    ratio_rps: round(a.rps / b.rps, 2),
  });
  // Node's own floor: the authenticated POST over the GET through plain node:http.
  const bareGet = results.get('bare_get');
  const barePost = results.get('bare_post');
  const nodeFloor = bareGet && barePost ? ratios(barePost, bareGet) : undefined;
  // The request's bytes alone (headers + body on healthz's GET): in Node, and through our stack.
  const bareGetBody = results.get('bare_get_body');
  const healthzBody = results.get('healthz_body');
  const bodyFloor =
    bareGet && bareGetBody && healthzBody
      ? (() => {
          const ours = ratios(healthzBody, h);
          return {
            node_ratio_cpu: ratios(bareGetBody, bareGet).ratio_cpu,
            ours_ratio_cpu: ours.ratio_cpu,
            ours_ratio_p50: ours.ratio_p50,
            ours_ratio_rps: ours.ratio_rps,
          };
        })()
      : undefined;
  const vsBody = healthzBody ? ratios(r, healthzBody) : undefined;
  if (bodyFloor && vsBody) {
    console.log(
      `the request's bytes alone (healthz's GET carrying resolve's headers and body): plain node:http CPU ×${bodyFloor.node_ratio_cpu}; our healthz CPU ×${bodyFloor.ours_ratio_cpu}, p50 ×${bodyFloor.ours_ratio_p50}, throughput ×${bodyFloor.ours_ratio_rps}`,
    );
    console.log(
      `resolve/healthz with the same request bytes: CPU ×${vsBody.ratio_cpu}, p50 ×${vsBody.ratio_p50}, p99 ×${vsBody.ratio_p99}, throughput ×${vsBody.ratio_rps}`,
    );
  }
  if (nodeFloor) {
    console.log(
      `floor: plain node:http, POST/GET: CPU ×${nodeFloor.ratio_cpu}, p50 ×${nodeFloor.ratio_p50}, p99 ×${nodeFloor.ratio_p99}, throughput ×${nodeFloor.ratio_rps}`,
    );
  }
  console.log(
    `resolve/healthz: p50 ×${ratioP50}, p99 ×${ratioP99} (goal ≤ ${GOAL_RATIO}), throughput ×${ratioRps} (goal ≥ ${GOAL_RPS_RATIO}): ${met ? 'MET' : 'MISSED'}${stealPct === null ? '' : `; hypervisor steal ${stealPct}% of the machine's CPU during the load`}`,
  );
  if (non2xx !== 0) exitCode = 1;

  emit({
    bench: 'http-resolve',
    loadgen: LOADGEN,
    rules: RULES,
    connections: CONNECTIONS,
    pipelining: 1,
    warmup_s: WARMUP_S,
    duration_s: DURATION_S,
    rounds: ROUNDS,
    resolve_freshness_ms: freshness ?? 'default',
    ...(nodeFloor ? { node_floor: nodeFloor } : {}),
    ...(bodyFloor ? { body_floor: bodyFloor } : {}),
    ...(vsBody ? { resolve_vs_healthz_body: vsBody } : {}),
    ...(process.env.BENCH_SWR === '1' ? { diagnosis_swr: 'stale-while-revalidate simulated' } : {}),
    ...Object.fromEntries(
      extra.map((f) => [
        `${f.scenario.startsWith('bare_') ? 'floor' : 'diagnosis'}_${f.scenario}`,
        {
          ...f,
          server_cpu_us_per_req: cpuPerReq(f.scenario, f),
          server_kernel_us_per_req: sysPerReq(f.scenario, f),
          wakeup_ipis_per_req: ipisPerReq(f.scenario, f),
          server: serverSide[f.scenario],
          ratio_p50: round(f.p50_ms / h.p50_ms, 2),
          ratio_p99: round(f.p99_ms / h.p99_ms, 2),
        },
      ]),
    ),
    ...(profile ? { diagnosis_profiled: true } : {}),
    loadavg_1m: { start: round(loadStart, 2), end: round(loadavg()[0]!, 2) },
    pinned: PINNED,
    /** Of the machine's CPU time during the load, the share the hypervisor gave to other guests. */
    steal_pct: stealPct,
    put_ms: round(putMs, 0),
    provisioning_run: provisioning,
    healthz: {
      ...h,
      server_cpu_us_per_req: cpuPerReq('healthz', h),
      server_kernel_us_per_req: sysPerReq('healthz', h),
      wakeup_ipis_per_req: ipisPerReq('healthz', h),
      server: serverSide.healthz,
    },
    resolve: {
      ...r,
      server_cpu_us_per_req: cpuPerReq('resolve', r),
      server_kernel_us_per_req: sysPerReq('resolve', r),
      wakeup_ipis_per_req: ipisPerReq('resolve', r),
      server: serverSide.resolve,
    },
    ratio_p50: ratioP50,
    ratio_p99: ratioP99,
    ratio_rps: ratioRps,
    ratio_cpu: round(cpuPerReq(r.scenario, r) / cpuPerReq(h.scenario, h), 2),
    non2xx_total: non2xx,
    goal: { ratio_max: GOAL_RATIO, rps_ratio_min: GOAL_RPS_RATIO, non2xx: 0, met },
  });
} catch (e) {
  console.error(e);
  exitCode = 1;
} finally {
  for (const close of diagClosers) await close();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
