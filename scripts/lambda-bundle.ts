/**
 * How serverless-esbuild builds each function: serverless.yml's `custom.esbuild` passed on to
 * esbuild (plugin-only keys dropped, `exclude` as externals, `outputFileExtension` as the output
 * extension). Shared by the bundle benchmark and the bundle-budget test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { parse } from 'yaml';

export interface LambdaBundleConfig {
  options: BuildOptions;
  /** The output file extension (serverless.yml: `.mjs`). */
  ext: string;
  /** Every handler file serverless.yml deploys, relative to functions/ without extension (several functions share one). */
  handlers: string[];
}

export function lambdaBundleConfig(root: string): LambdaBundleConfig {
  const sls = parse(readFileSync(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
    custom: { esbuild: Record<string, unknown> & { exclude?: string[]; external?: string[]; outputFileExtension?: string } };
    functions: Record<string, { handler: string }>;
  };
  const { exclude = [], outputFileExtension = '.js', ...esbuildConfig } = sls.custom.esbuild;
  return {
    options: {
      ...(esbuildConfig as BuildOptions),
      external: [...(esbuildConfig.external ?? []), ...(exclude.includes('*') ? [] : exclude)],
      ...(outputFileExtension !== '.js' ? { outExtension: { '.js': outputFileExtension } } : {}),
    },
    ext: outputFileExtension,
    handlers: [...new Set(Object.values(sls.functions).map((f) => f.handler.replace(/^functions\//, '').replace(/\.[^.]+$/, '')))],
  };
}
