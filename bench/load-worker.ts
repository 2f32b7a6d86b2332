/**
 * Load generator for bench/http-resolve.ts, run as a child process so autocannon does not share
 * the server's event loop (see the note there). Reads a JSON job from stdin:
 *   { url, connections, pipelining, warmupSeconds, durationSeconds, rounds,
 *     scenarios: [{ name, requests: [{ method, path, headers?, body? }] }] }
 * runs a discarded warm-up per scenario, then `rounds` rounds in which every scenario runs for
 * durationSeconds / rounds (interleaving the scenarios, so slow drift in background load on the
 * machine hits them alike), and prints one JSON line per scenario: {"scenario", ...figures}. Latency percentiles are computed from every response's own
 * timing (µs resolution); autocannon's histogram rounds to whole milliseconds (also reported).
 * Between runs it writes `phase <name>` to stderr so the parent can sample its own CPU per phase.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon, { type Request, type Result } from 'autocannon';
import { percentile, round } from './common.js';

/** /usr/bin/time where installed: wrk runs under it, for the load generator's own CPU time. */
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

interface Job {
  /** `wrk` (Debian's C load generator, when installed) or autocannon. */
  loadgen?: 'wrk' | 'autocannon';
  url: string;
  connections: number;
  pipelining: number;
  warmupSeconds: number;
  durationSeconds: number;
  rounds: number;
  /** `url` overrides the job's (a scenario may target another server). */
  scenarios: Array<{ name: string; url?: string; requests: Request[] }>;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function run(job: Job, scenario: Job['scenarios'][number], duration: number, latencies?: number[]): Promise<Result> {
  const requests = scenario.requests;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: scenario.url ?? job.url, connections: job.connections, pipelining: job.pipelining, duration, requests, timeout: 10 },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    if (latencies) {
      instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      });
    }
  });
}

const job = JSON.parse(await readStdin()) as Job;
if (job.loadgen === 'wrk') {
  await runWrkJob(job);
  process.exit(0);
}
for (const scenario of job.scenarios) {
  process.stderr.write(`phase warmup:${scenario.name}\n`);
  await run(job, scenario, job.warmupSeconds);
}
const rounds = Math.max(1, job.rounds);
const measured = new Map<string, { latencies: number[]; results: Result[] }>(job.scenarios.map((s) => [s.name, { latencies: [], results: [] }]));
for (let round = 0; round < rounds; round++) {
  for (const scenario of job.scenarios) {
    const m = measured.get(scenario.name)!;
    process.stderr.write(`phase measure:${scenario.name}\n`);
    m.results.push(await run(job, scenario, job.durationSeconds / rounds, m.latencies));
    process.stderr.write(`phase done:${scenario.name}\n`);
  }
}
const sum = (results: Result[], f: (r: Result) => number) => results.reduce((a, r) => a + f(r), 0);
for (const [scenario, { latencies, results }] of measured) {
  latencies.sort((a, b) => a - b);
  const ok = sum(results, (r) => r['2xx']);
  const non2xx = sum(results, (r) => r.non2xx);
  const duration = sum(results, (r) => r.duration);
  const codes: Record<string, number> = {};
  for (const r of results) for (const [code, s] of Object.entries(r.statusCodeStats)) codes[code] = (codes[code] ?? 0) + s.count;
  process.stdout.write(
    `${JSON.stringify({
      scenario,
      requests: ok + non2xx,
      duration_s: round(duration, 2),
      rps: round((ok + non2xx) / duration, 0),
      p50_ms: round(percentile(latencies, 50), 3),
      p90_ms: round(percentile(latencies, 90), 3),
      p99_ms: round(percentile(latencies, 99), 3),
      max_ms: round(latencies[latencies.length - 1] ?? Number.NaN, 3),
      rounds: results.map((r) => ({ requests: r['2xx'] + r.non2xx, autocannon_p50_ms: r.latency.p50, autocannon_p99_ms: r.latency.p99 })),
      non2xx,
      errors: sum(results, (r) => r.errors),
      timeouts: sum(results, (r) => r.timeouts),
      status_codes: codes,
    })}\n`,
  );
}

// ------------------------------------------------------------------------------------------ wrk

interface WrkRound {
  /** wrk's own CPU time (user + system), or null without /usr/bin/time. */
  loadgen_cpu_s: number | null;
  requests: number;
  duration_s: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** A JSON string is a valid Lua string literal for these (ASCII) values. */
function lua(s: string): string {
  return JSON.stringify(s);
}

/** A wrk script rotating through the scenario's requests and printing the round's figures as JSON. */
function wrkScript(requests: Request[]): string {
  const reqs = requests.map((r) => {
    const headers = Object.entries(r.headers ?? {})
      .map(([k, v]) => `[${lua(k)}]=${lua(String(v))}`)
      .join(',');
    return `wrk.format(${lua(r.method ?? 'GET')}, ${lua(r.path ?? '/')}, {${headers}}, ${r.body === undefined ? 'nil' : lua(String(r.body))})`;
  });
  return `
local reqs = {}
init = function(args)
  ${reqs.map((r, i) => `reqs[${i + 1}] = ${r}`).join('\n  ')}
end
local i = 0
request = function()
  i = i + 1
  return reqs[(i % #reqs) + 1]
end
done = function(summary, latency, requests)
  io.write(string.format('{"requests":%d,"duration_us":%d,"non2xx":%d,"errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;
}

function wrk(url: string, connections: number, seconds: number, script: string): Promise<WrkRound> {
  return new Promise((resolve, reject) => {
    const args = ['-t1', `-c${connections}`, `-d${Math.max(1, Math.round(seconds))}s`, '--timeout', '10s', '-s', script, url];
    // Under /usr/bin/time where installed, for the load generator's own CPU time (its share of the machine).
    const child = TIME
      ? spawn(TIME, ['-f', 'wrk-cpu %U %S', 'wrk', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
      if (code !== 0 || !line) return reject(new Error(`wrk exited ${code}: ${err || out}`));
      const r = JSON.parse(line) as Record<string, number>;
      const cpu = /wrk-cpu ([\d.]+) ([\d.]+)/.exec(err);
      resolve({
        loadgen_cpu_s: cpu ? Number(cpu[1]) + Number(cpu[2]) : null,
        requests: r.requests!,
        duration_s: r.duration_us! / 1e6,
        non2xx: r.non2xx!,
        errors: r.errors!,
        timeouts: r.timeouts!,
        p50_ms: r.p50_us! / 1000,
        p90_ms: r.p90_us! / 1000,
        p99_ms: r.p99_us! / 1000,
        max_ms: r.max_us! / 1000,
      });
    });
  });
}

/** The same job with wrk: warm-up, interleaved rounds; percentiles are the request-weighted mean of the rounds'. */
async function runWrkJob(job: Job): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wrk-'));
  try {
    const scripts = new Map(job.scenarios.map((s) => [s.name, join(dir, `${s.name}.lua`)]));
    for (const s of job.scenarios) writeFileSync(scripts.get(s.name)!, wrkScript(s.requests));
    for (const s of job.scenarios) {
      process.stderr.write(`phase warmup:${s.name}\n`);
      await wrk(s.url ?? job.url, job.connections, job.warmupSeconds, scripts.get(s.name)!);
    }
    const rounds = Math.max(1, job.rounds);
    const measured = new Map<string, WrkRound[]>(job.scenarios.map((s) => [s.name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const s of job.scenarios) {
        process.stderr.write(`phase measure:${s.name}\n`);
        measured.get(s.name)!.push(await wrk(s.url ?? job.url, job.connections, job.durationSeconds / rounds, scripts.get(s.name)!));
        process.stderr.write(`phase done:${s.name}\n`);
      }
    }
    for (const [scenario, results] of measured) {
      const total = results.reduce((a, r) => a + r.requests, 0);
      const duration = results.reduce((a, r) => a + r.duration_s, 0);
      const weighted = (f: (r: WrkRound) => number) => round(results.reduce((a, r) => a + f(r) * r.requests, 0) / total, 3);
      process.stdout.write(
        `${JSON.stringify({
          scenario,
          loadgen: 'wrk',
          requests: total,
          duration_s: round(duration, 2),
          rps: round(total / duration, 0),
          p50_ms: weighted((r) => r.p50_ms),
          p90_ms: weighted((r) => r.p90_ms),
          p99_ms: weighted((r) => r.p99_ms),
          max_ms: round(Math.max(...results.map((r) => r.max_ms)), 3),
          loadgen_cpu_us_per_req: results.every((r) => r.loadgen_cpu_s !== null)
            ? round((results.reduce((a, r) => a + r.loadgen_cpu_s!, 0) * 1e6) / total, 1)
            : null,
          rounds: results.map((r) => ({ requests: r.requests, p50_ms: r.p50_ms, p99_ms: r.p99_ms })),
          non2xx: results.reduce((a, r) => a + r.non2xx, 0),
          errors: results.reduce((a, r) => a + r.errors, 0),
          timeouts: results.reduce((a, r) => a + r.timeouts, 0),
        })}\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
