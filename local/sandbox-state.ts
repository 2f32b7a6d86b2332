/**
 * The sandbox's state kept in DATA_DIR (so `npm start` after a restart shows what was
 * provisioned). Writes are batched: at most one file write per interval, and one on close.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Sandbox, SandboxOptions } from './sandbox/index.js';

export function persistedSandboxState(file: string, intervalMs = 250) {
  let timer: NodeJS.Timeout | undefined;
  let take: (() => unknown) | undefined;
  const write = () => {
    timer = undefined;
    if (take === undefined) return;
    writeFileSync(`${file}.tmp`, JSON.stringify(take()));
    renameSync(`${file}.tmp`, file);
    take = undefined;
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
      timer ??= setTimeout(write, intervalMs);
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
