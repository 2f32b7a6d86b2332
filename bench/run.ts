/**
 * `npm run bench` runs every benchmark; `npm run bench -- http-resolve [bundle …]` runs the named
 * ones. Each runs as its own child process (fresh heap, JIT and module cache), prints
 * human-readable lines and, as its LAST stdout line, one JSON object {"bench", …figures, "goal",
 * "machine"}, which is saved to bench/results/<name>.json (gitignored). Exit status: non-zero
 * when a benchmark fails (crash, resolution mismatch, non-2xx responses); a missed goal is
 * reported, not a failure.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Run by default, in this order. */
const BENCHES = ['resolve-inprocess', 'http-resolve', 'bundle', 'load', 'lint', 'provision', 'drift', 'plan', 'console'];
/** Diagnosis only; run when named. */
const EXTRA = ['handler-overhead'];

const requested = process.argv.slice(2).filter((a) => a !== '--');
const unknown = requested.filter((n) => !BENCHES.includes(n) && !EXTRA.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${[...BENCHES, ...EXTRA].join(', ')}`);
  process.exit(2);
}
const names = requested.length ? requested : BENCHES;
const resultsDir = join(here, 'results');
mkdirSync(resultsDir, { recursive: true });

interface Outcome {
  name: string;
  code: number | null;
  seconds: number;
  result?: { goal?: { met?: boolean } } & Record<string, unknown>;
}

function runOne(name: string): Promise<Outcome> {
  const started = Date.now();
  console.log(`\n=== ${name} ===`);
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, `${name}.ts`)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      // The AWS SDK's notice that its 2027 releases need Node 22: noise in benchmark output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  let buffer = '';
  let last = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      console.log(line);
      if (line.trim() !== '') last = line;
    }
  });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      if (buffer.trim() !== '') {
        console.log(buffer);
        last = buffer;
      }
      const outcome: Outcome = { name, code, seconds: Math.round((Date.now() - started) / 100) / 10 };
      try {
        const parsed = JSON.parse(last) as Outcome['result'] & { bench?: string };
        if (parsed && parsed.bench === name) {
          outcome.result = parsed;
          writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(parsed, null, 2)}\n`);
        }
      } catch {
        // no JSON result line: reported below
      }
      resolve(outcome);
    });
  });
}

const outcomes: Outcome[] = [];
for (const name of names) outcomes.push(await runOne(name));

console.log('\n=== summary ===');
let failed = false;
for (const o of outcomes) {
  const goal = o.result?.goal?.met;
  const status = o.code !== 0 || !o.result ? 'FAILED' : goal === true ? 'goal met' : goal === false ? 'goal MISSED' : 'done';
  if (o.code !== 0 || !o.result) failed = true;
  console.log(`${o.name.padEnd(18)} ${status.padEnd(12)} ${o.seconds} s${o.result ? `  → bench/results/${o.name}.json` : ''}`);
}
process.exit(failed ? 1 : 0);
