/**
 * Builds the web console into console/dist/ — the static files that are served (`npm start`
 * serves them under /console/; deployed, they are uploaded to S3 as they are): index.html,
 * style.css, favicon.svg, app.js (the console's modules with CodeMirror, bundled by esbuild) and
 * worker.js (the server's validation code from lib/config for the browser, run in a Web Worker).
 *
 * `ensureConsoleBuilt()` rebuilds only when a source is newer than the last build (the local
 * server calls it at start, so `npm install` + `npm start` stay the whole set-up);
 * `npm run console:build` (this file run directly) always builds. Each file is written to a
 * temporary name and renamed, so a concurrent reader (another test's server) never sees half a file.
 */
import { build, type BuildOptions } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CONSOLE_SRC = join(root, 'console');
export const CONSOLE_DIST = join(CONSOLE_SRC, 'dist');
const STAMP = join(CONSOLE_DIST, '.built');
const STATIC_FILES = ['index.html', 'style.css', 'favicon.svg'];

/** Newest modification time (ms) under the console's sources, the shared lib/ code and the lockfile. */
function newestSource(): number {
  let newest = statSync(join(root, 'package-lock.json')).mtimeMs;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (path !== CONSOLE_DIST) walk(path);
      } else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(CONSOLE_SRC);
  walk(join(root, 'lib'));
  walk(join(root, 'scripts'));
  return newest;
}

function isStale(): boolean {
  try {
    return statSync(STAMP).mtimeMs < newestSource();
  } catch {
    return true;
  }
}

function writeAtomically(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export async function buildConsole(): Promise<{ files: string[]; ms: number }> {
  const started = performance.now();
  const common: BuildOptions = {
    bundle: true,
    write: false,
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    outdir: CONSOLE_DIST,
    logLevel: 'silent',
    // The shared validation code's one Node import (sha256 for hashed identity names).
    alias: { 'node:crypto': join(CONSOLE_SRC, 'shims/crypto.ts') },
  };
  const [app, worker] = await Promise.all([
    build({ ...common, entryPoints: { app: join(CONSOLE_SRC, 'app.js') }, format: 'esm' }),
    build({ ...common, entryPoints: { worker: join(CONSOLE_SRC, 'worker/validate.ts') }, format: 'iife' }),
  ]);
  const files: string[] = [];
  for (const out of [...(app.outputFiles ?? []), ...(worker.outputFiles ?? [])]) {
    writeAtomically(out.path, out.contents);
    files.push(relative(CONSOLE_DIST, out.path));
  }
  for (const name of STATIC_FILES) {
    writeAtomically(join(CONSOLE_DIST, name), readFileSync(join(CONSOLE_SRC, name)));
    files.push(name);
  }
  writeAtomically(STAMP, new Date().toISOString());
  return { files, ms: Math.round(performance.now() - started) };
}

let pending: Promise<unknown> | undefined;
/** Builds console/dist/ when it is missing or older than its sources; once per process. */
export function ensureConsoleBuilt(): Promise<unknown> {
  pending ??= isStale() ? buildConsole() : Promise.resolve();
  return pending;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { files, ms } = await buildConsole();
  console.log(`console built in ${ms} ms → ${relative(root, CONSOLE_DIST)}/: ${files.join(', ')}`);
}
