/**
 * One Node major everywhere: the Lambda runtime and esbuild target in serverless.yml, the pinned
 * `node` devDependency that tests, `npm start` and benchmarks run on, and the Node typings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';

const root = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const serverless = parseDocument(readFileSync(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }).toJS({ maxAliasCount: -1 }) as {
  provider: { runtime: string };
  custom: { esbuild: { target: string } };
};
const pinned = pkg.devDependencies.node!;
const major = pinned.split('.')[0]!;

describe('Node runtime', () => {
  it('pins an exact Node version as a devDependency', () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('deploys the same major as the pinned Node, and bundles for it', () => {
    expect(serverless.provider.runtime).toBe(`nodejs${major}.x`);
    expect(serverless.custom.esbuild.target).toBe(`node${major}`);
  });

  it('types and engines name the same major', () => {
    expect(pkg.devDependencies['@types/node']!.split('.')[0]).toBe(major);
    expect(pkg.engines.node).toBe(`>=${major}`);
  });

  it('runs the tests on the pinned Node (npm scripts and npx put node_modules/.bin first on PATH)', () => {
    expect(process.versions.node, 'run the tests through npm test / npx vitest, not a global vitest').toBe(pinned);
  });
});
