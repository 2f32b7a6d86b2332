/**
 * The resolve function's bundle stays within its budget (≤ 200 KB minified, built as
 * serverless.yml builds it): the hot path's cold start. The bundle benchmark measures it too, but
 * only when run; this fails in `npm test` the moment an import drags a heavy module in — as when a
 * deployment limit parsed at start pulled lib/provisioning/settings.ts, and with it zod's full
 * build (~450 KB), into every HTTP function.
 */
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { lambdaBundleConfig } from '../../scripts/lambda-bundle.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BUDGET_KB = 200;

describe('the resolve bundle', () => {
  it(`is at most ${BUDGET_KB} KB and carries neither zod's full build nor the config schema`, async () => {
    const { options } = lambdaBundleConfig(ROOT);
    const result = await build({
      ...options,
      absWorkingDir: ROOT,
      entryPoints: ['functions/resolve.ts'],
      outdir: '/bundle-budget',
      write: false,
      sourcemap: false,
      metafile: true,
      logLevel: 'silent',
    });
    const code = result.outputFiles.find((f) => /\.m?js$/.test(f.path))!;
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((i) => i.includes('node_modules/zod/v4/classic/'))).toEqual([]);
    expect(inputs).not.toContain('lib/provisioning/settings.ts');
    expect(inputs).not.toContain('lib/config/schema.ts');
    expect(code.contents.byteLength / 1024).toBeLessThanOrEqual(BUDGET_KB);
  });
});
