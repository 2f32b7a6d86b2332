/**
 * `npm start` (scripts/start.ts) as a child process, for tests that SIGKILL and restart it. It binds
 * port 0 for the API and for dynalite and the test reads the API's address from the "ready on" line,
 * so parallel test files never race for a port (a port picked before the child starts could be
 * taken by another file's server in between). The data directory carries the state across restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface NpmStart {
  proc: ChildProcess;
  /** The API's base URL, e.g. http://127.0.0.1:40123 (a new port after every start). */
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts `npm start` with `env` (PORT and DYNAMODB_PORT are set to 0) and waits for "ready" (45 s):
 * the script's own command line, or with `viaNpm` npm itself running the `start` script (as a person
 * or a supervisor does: then npm's process is the one signalled).
 */
export async function startNpmStart(env: NodeJS.ProcessEnv, opts: { viaNpm?: boolean } = {}): Promise<NpmStart> {
  const [command, args] = opts.viaNpm ? ['npm', ['start', '--silent']] : [process.execPath, ['--import', 'tsx', 'scripts/start.ts']];
  const proc = spawn(command, args, {
    cwd: ROOT,
    env: { ...env, PORT: '0', DYNAMODB_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const deadline = Date.now() + 45_000;
  let url: string | undefined;
  while (!(url = /ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1])) {
    if (proc.exitCode !== null) throw new Error(`npm start exited early:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`npm start did not print ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { proc, url, output: () => out, exited };
}
