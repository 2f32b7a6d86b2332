/**
 * The sandbox's state kept in DATA_DIR (so `npm start` after a restart shows what was
 * provisioned). Writes are batched: at most one file write per interval, and one on close. The
 * interval grows with the cost of a write (at least 20× the last one took), so a large state
 * (5,000 roles and ServiceAccounts: several MB of JSON) costs the event loop ≤ ~5% of its time
 * instead of a synchronous stringify-and-write four times a second.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Sandbox, SandboxOptions } from './sandbox/index.js';

export function persistedSandboxState(file: string, intervalMs = 250) {
  let timer: NodeJS.Timeout | undefined;
  let take: (() => unknown) | undefined;
  let lastWriteMs = 0;
  const write = () => {
    timer = undefined;
    if (take === undefined) return;
    const started = performance.now();
    writeFileSync(`${file}.tmp`, JSON.stringify(take()));
    renameSync(`${file}.tmp`, file);
    take = undefined;
    lastWriteMs = performance.now() - started;
  };
  const hooks: NonNullable<SandboxOptions['state']> = {
    load: () => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return null;
      }
    },
    save: (snapshot) => {
      take = snapshot;
      timer ??= setTimeout(write, Math.max(intervalMs, 20 * lastWriteMs));
      timer.unref();
    },
  };
  return {
    hooks,
    flush(sandbox: Sandbox | undefined) {
      if (timer) clearTimeout(timer);
      if (sandbox) take = () => sandbox.snapshot();
      write();
    },
  };
}
