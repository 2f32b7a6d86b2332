/**
 * moto_server (the Python AWS emulator) on a loopback port it picks itself (`-p 0`), for tests that
 * compare the sandbox with it or run the local server against it. The port is read from its own
 * "Running on" line, so parallel test files never race for a port. `hasMoto` is false where moto is
 * not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { onPath } from '../helpers/cli-env.js';

export const hasMoto = onPath('moto_server');

export interface Moto {
  url: string;
  close(): Promise<void>;
}

/** Starts moto_server and waits until it answers (up to 20 s). */
export async function startMoto(): Promise<Moto> {
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const deadline = Date.now() + 20_000;
  const fail = (why: string) => {
    child.kill();
    return new Error(`moto_server ${why}: ${output}`);
  };
  let url: string | undefined;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${output}`);
    url ??= /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    if (url) {
      try {
        const res = await fetch(`${url}/moto-api/`);
        await res.arrayBuffer();
        break;
      } catch {
        // not answering yet
      }
    }
    if (Date.now() > deadline) throw fail(url ? `did not answer on ${url}` : 'printed no address');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
