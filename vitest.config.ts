import { existsSync, globSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Two projects, `unit` and `integration` (`npm test` runs both). A test file is an integration
 * test when it is named `*.int.test.ts`, or when it — or a test helper it imports, transitively —
 * imports something that starts a real process or server: the local server (test/helpers/local),
 * dynalite, the sandbox emulators' server, a subprocess (`node:child_process`) or a browser
 * (playwright). Everything else (pure code, in-memory fakes, aws-sdk-client-mock, a loopback stub
 * in the same process) is a unit test. New tests land in the right project by what they import.
 */
const INTEGRATION_IMPORTS = [
  /(^|\/)local\/server\.js$/,
  /(^|\/)local\/dynalite\.js$/,
  /(^|\/)local\/sandbox\/index\.js$/,
  /^(node:)?child_process$/,
  /^playwright(-core)?$/,
  /^dynalite$/,
];

const root = import.meta.dirname;
const testFiles = globSync('test/**/*.test.ts', { cwd: root }).sort();
const integration = testFiles.filter((file) => file.endsWith('.int.test.ts') || startsSomething(join(root, file)));
const unit = testFiles.filter((file) => !integration.includes(file));

function startsSomething(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file) || !existsSync(file)) return false;
  seen.add(file);
  // Value imports only (`import type` never runs anything), static, re-exports and dynamic.
  const sources = [
    ...readFileSync(file, 'utf8').matchAll(
      /(?:^|\n)\s*(?:import(?!\s+type\b)|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g,
    ),
  ].map((m) => m[1] ?? m[2] ?? m[3]!);
  return sources.some((source) => {
    if (INTEGRATION_IMPORTS.some((re) => re.test(source))) return true;
    if (!source.startsWith('.')) return false;
    const target = resolve(dirname(file), source.replace(/\.js$/, '.ts'));
    // Follow the test tree's own helpers; code under test is judged by the markers above.
    return !relative(join(root, 'test'), target).startsWith('..') && startsSomething(target, seen);
  });
}

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time even on a 2-CPU machine (vitest's default there is one): most
    // integration files wait on servers, subprocesses (osls, cfn-lint, moto, chromium) and timers,
    // so a second worker shortens the run without starving the first.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      { extends: true, test: { name: 'unit', include: unit } },
      { extends: true, test: { name: 'integration', include: integration } },
    ],
  },
});
