/**
 * Spec files as the CLI reads them, and where in them a problem is: no service library needed,
 * so commands that only talk to the server start fast.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { CliError, EXIT } from './client.js';

export interface Spec {
  file: string;
  text: string;
  /** What to send as Content-Type (the server sniffs text/plain). */
  contentType: string;
}

export function readTextFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(EXIT.USAGE, `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function readSpec(file: string): Spec {
  const text = readTextFile(file, 'spec file');
  const ext = extname(file).toLowerCase();
  const contentType = ext === '.json' ? 'application/json' : ext === '.yaml' || ext === '.yml' ? 'application/yaml' : 'text/plain';
  return { file, text, contentType };
}

const TOP_LEVEL_VERSION = /^version:[ \t]*\d+[ \t]*(?:#.*)?$/m;

/**
 * `config get` prints the stored document plus its read-only `version`; a spec file made from
 * that output can be sent back as it is. The `version` line is blanked (not removed), so line
 * numbers in the server's errors still match the file.
 */
export function withoutVersion(spec: Spec): Spec {
  const looksJson = spec.contentType === 'application/json' || (spec.contentType === 'text/plain' && /^\s*[[{]/.test(spec.text));
  if (looksJson) {
    try {
      const doc = JSON.parse(spec.text) as unknown;
      if (doc && typeof doc === 'object' && !Array.isArray(doc) && 'version' in doc) {
        const { version: _v, ...rest } = doc as Record<string, unknown>;
        return { ...spec, text: `${JSON.stringify(rest, null, 2)}\n` };
      }
    } catch {
      // the server reports the syntax error
    }
    return spec;
  }
  return { ...spec, text: spec.text.replace(TOP_LEVEL_VERSION, '') };
}

/** `dataplane_iam_mapping.rules[3].selector` → ['dataplane_iam_mapping', 'rules', 3, 'selector']. */
export function pathParts(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/** `FILE:LINE:COL` of a problem; for selectors the exact character (`position` inside the selector). */
export function locationOf(file: string, text: string, detail: { line?: unknown; column?: unknown; position?: unknown; [k: string]: unknown }): string {
  if (typeof detail.line !== 'number') return file;
  let column = typeof detail.column === 'number' ? detail.column : 1;
  if (typeof detail.position === 'number') {
    const lineText = text.split(/\r?\n/)[detail.line - 1] ?? '';
    const quoted = lineText[column - 1] === '"' || lineText[column - 1] === "'";
    column += detail.position + (quoted ? 1 : 0);
  }
  return `${file}:${detail.line}:${column}`;
}
