/**
 * CONTRACT §1: Ctrl-C / SIGTERM stops `npm start` cleanly. A supervisor (or `kill`) signals the
 * process it started, which is npm's: the server under it must stop too, not live on as an orphan
 * still holding the port (as it did while the script ran through a shell and tsx's launcher).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startNpmStart, type NpmStart } from '../helpers/npm-start.js';

const reachable = (url: string) =>
  fetch(`${url}/v1/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
    () => true,
    () => false,
  );

describe('npm start and signals', () => {
  let dataDir: string | undefined;
  let child: NpmStart | undefined;
  afterEach(() => {
    child?.proc.kill('SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to npm's own process stops the server under it`, async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'iam-mapping-signals-'));
      child = await startNpmStart({ ...process.env, DATA_DIR: dataDir }, { viaNpm: true });
      expect(await reachable(child.url)).toBe(true);
      child.proc.kill(signal);
      await child.exited;
      // The server's sockets close before its process exits; poll briefly for the port to refuse.
      const deadline = Date.now() + 10_000;
      while ((await reachable(child.url)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await reachable(child.url), child.output()).toBe(false);
      expect(child.output()).toContain(`${signal}: stopping`);
    }, 60_000);
  }
});
