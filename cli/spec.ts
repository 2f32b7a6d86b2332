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
