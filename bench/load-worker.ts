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
import autocannon, { type Request, type Result } from 'autocannon';
import { percentile, round } from './common.js';

interface Job {
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
