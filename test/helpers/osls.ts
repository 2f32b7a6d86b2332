/**
 * `osls package`, offline, for the deploy tests: the CloudFormation template serverless.yml makes.
 * One package at a time per checkout, across vitest's worker processes: serverless-esbuild builds
 * in the project's own `.esbuild/` folder, and two packages at once (the cfn-lint, IAM-policy and
 * serverless tests, run by parallel workers) overwrite each other's build there.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './npm-start.js';

const LOCK = join(tmpdir(), `iam-mapping-osls-package-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`);
/** A package takes ~15 s; a lock older than this was left by a killed run. */
const STALE_MS = 300_000;
const WAIT_MS = 600_000;

async function exclusively<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      await mkdir(LOCK); // atomic: one process creates it
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const since = await stat(LOCK).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (since > STALE_MS) await rmdir(LOCK).catch(() => undefined);
      else if (Date.now() > deadline) throw new Error(`waited ${WAIT_MS / 1000} s for another osls package (lock ${LOCK})`);
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    await rmdir(LOCK).catch(() => undefined);
  }
}

/** `osls package` into `out` (its `cloudformation-template-update-stack.json` and the zips); `env` adds deploy parameters. */
export async function oslsPackage(out: string, options: { stage?: string; env?: Record<string, string> } = {}): Promise<void> {
  await exclusively(() =>
    promisify(execFile)('npx', ['osls', 'package', '--stage', options.stage ?? 'ci', '--package', out], {
      cwd: ROOT,
      env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', SLS_TELEMETRY_DISABLED: '1', ...options.env },
      timeout: 240_000,
    }),
  );
}

/** The packaged template, parsed. */
export async function packagedTemplate<T = unknown>(options: { stage?: string; env?: Record<string, string> } = {}): Promise<T> {
  const out = mkdtempSync(join(tmpdir(), 'osls-package-'));
  try {
    await oslsPackage(out, options);
    return JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as T;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
