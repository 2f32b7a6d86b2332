/**
 * Sustained load: 60 s of resolves (autocannon in a child process, bench/load-worker.ts) against
 * the local server (API, dynalite, sandbox in this process, as under `npm start`) holding a
 * 10,000-rule config, with one PUT of a new version every 10 s so the run includes cache
 * refreshes and recompiles. Reports throughput, latency percentiles, non-2xx and the server's
 * memory (RSS and heap): before the load and after it (both after a full GC when node runs with
 * --expose-gc, as `npm run bench` does) and the peak, sampled every 100 ms.
 * Goal: no non-2xx, no errors; p99 and peak RSS are reported, not judged.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateSecret, mintToken } from '../local/auth.js';
import { startLocalServer } from '../local/server.js';
import { emit, round, runThenExit } from './common.js';
import { CLOUD_ID, generateConfig, sampleLaunches } from './rules.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const RULES = 10_000;
const CONNECTIONS = 10;
const DURATION_S = Number(process.env.BENCH_LOAD_DURATION_S ?? 60);
const PUT_EVERY_MS = 10_000;
const here = dirname(fileURLToPath(import.meta.url));
const mb = (bytes: number) => round(bytes / 2 ** 20, 1);

const dataDir = mkdtempSync(join(tmpdir(), 'iam-mapping-load-'));
const server = await startLocalServer({ port: 0, dataDir, driftIntervalSeconds: 0 });
await runThenExit(server, dataDir, async () => {
  let exitCode = 0;
  const secret = loadOrCreateSecret(dataDir);
  const owner = await mintToken(secret, 'owner', 'owner@example.com');
  const controlPlane = await mintToken(secret, 'control-plane', 'control-plane@example.com');
  const configPath = `/v1/clouds/${CLOUD_ID}/iam-mapping`;
  const gen = generateConfig(RULES);
  const put = async () => {
    const res = await fetch(`${server.url}${configPath}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
      body: JSON.stringify(gen.config),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`PUT config: ${res.status} ${text.slice(0, 300)}`);
    return (JSON.parse(text) as { version: number }).version;
  };
  await put();
  // The provisioning run the PUT starts is not what this measures: let it finish first. Later
  // PUTs store the same rules, so their runs converge with reads only.
  await server.workflow.idle();

  const headers = { authorization: `Bearer ${controlPlane}`, 'content-type': 'application/json' };
  const requests = sampleLaunches(gen, 64, 7).map((s) => ({ method: 'POST', path: `${configPath}/resolve`, headers, body: JSON.stringify(s.launch) }));

  global.gc?.();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 100);
  const versions: number[] = [];
  const putErrors: string[] = [];
  const putter = setInterval(() => {
    put().then(
      (v) => versions.push(v),
      (e: Error) => putErrors.push(e.message),
    );
  }, PUT_EVERY_MS);

  console.log(`load: ${CONNECTIONS} connections, ${DURATION_S} s of resolves against ${RULES} rules, a PUT every ${PUT_EVERY_MS / 1000} s`);
  const cpu0 = process.cpuUsage();
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'load-worker.ts')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  // The worker announces its phases on stderr (used by http-resolve.ts); pass on anything else.
  child.stderr.on('data', (d: Buffer) => {
    const text = d
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('phase '))
      .join('\n');
    if (text) process.stderr.write(`[load-worker] ${text}\n`);
  });
  child.stdin.end(
    JSON.stringify({
      url: server.url,
      connections: CONNECTIONS,
      pipelining: 1,
      warmupSeconds: 2,
      durationSeconds: DURATION_S,
      rounds: 1,
      scenarios: [{ name: 'resolve', requests }],
    }),
  );
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearInterval(putter);
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpu0);
  if (code !== 0) throw new Error(`load worker exited with ${code}`);
  await server.workflow.idle();
  global.gc?.();
  await new Promise((r) => setTimeout(r, 100));
  global.gc?.();
  const after = process.memoryUsage();
  const r = JSON.parse(out.trim().split('\n').pop()!) as {
    requests: number;
    rps: number;
    p50_ms: number;
    p99_ms: number;
    max_ms: number;
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  const met = r.non2xx === 0 && r.errors === 0 && r.timeouts === 0 && putErrors.length === 0;
  console.log(
    `${r.requests} resolves, ${r.rps} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, max ${r.max_ms} ms, non-2xx ${r.non2xx}; ` +
      `RSS ${mb(before.rss)} → peak ${mb(peakRss)} → ${mb(after.rss)} MiB; ${versions.length} PUTs during the load`,
  );
  if (!met) exitCode = 1;
  emit({
    bench: 'load',
    rules: RULES,
    connections: CONNECTIONS,
    duration_s: DURATION_S,
    requests: r.requests,
    rps: r.rps,
    p50_ms: r.p50_ms,
    p99_ms: r.p99_ms,
    max_ms: r.max_ms,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    puts_during_load: versions.length,
    put_errors: putErrors,
    server_cpu_s: round((cpu.user + cpu.system) / 1e6, 1),
    memory_mib: {
      rss_before: mb(before.rss),
      rss_peak: mb(peakRss),
      rss_after: mb(after.rss),
      heap_before: mb(before.heapUsed),
      heap_peak: mb(peakHeap),
      heap_after: mb(after.heapUsed),
    },
    goal: { non2xx: 0, met },
  });
  return exitCode;
});
