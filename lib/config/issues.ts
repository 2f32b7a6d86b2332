/** zod issues (classic or mini schemas) as the contract's error details, each naming its path. */
import type { $ZodIssue } from 'zod/v4/core';
import { formatPath, type ErrorDetail } from '../errors.js';
import type { Path } from './parse.js';

/**
 * zod issues as error details naming their paths (unknown keys each get their own detail).
 * `input` is the value that was parsed: a field absent from it is reported as required, one of
 * the wrong type with zod's message. (zod attaches the offending input to an issue only when
 * parsing with `reportInput`, which makes every parse slower; the hot path parses without.)
 */
export function issuesToDetails(issues: readonly $ZodIssue[], input: unknown): Array<ErrorDetail & { pathParts: Path }> {
  const out: Array<ErrorDetail & { pathParts: Path }> = [];
  // Keys are the client's text: a 1 MB key must not come back several times over in the answer.
  const push = (pathParts: Path, message: string) => out.push({ path: formatPath(pathParts.map(shortKey)), message, pathParts });
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const where = formatPath(path.map(shortKey));
      for (const key of issue.keys) push([...path, key], `unknown field ${JSON.stringify(shortKey(key))}${where ? ` in ${where}` : ''}`);
    } else if ((issue.code === 'invalid_type' || issue.code === 'invalid_value') && path.length > 0 && absent(input, path)) {
      push(path, `${formatPath(path) || 'field'} is required`);
    } else {
      push(path, issue.message);
    }
  }
  return out;
}

/** Whether the last key of `path` is missing (or undefined) in `root`. */
function absent(root: unknown, path: Path): boolean {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return true;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node === undefined;
}

const MAX_KEY_SHOWN = 100;
function shortKey<T extends string | number>(key: T): T | string {
  return typeof key === 'string' && key.length > MAX_KEY_SHOWN ? `${key.slice(0, MAX_KEY_SHOWN)}…` : key;
}

