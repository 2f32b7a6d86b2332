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
      push(path, plainMessage(issue, path, input));
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

const typeName = (v: unknown) => (v === null ? 'null (an empty value)' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `a ${typeof v}`);
const wanted: Record<string, string> = {
  object: 'a mapping (an object with fields)',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
};

/** zod's message in plain words: the valid values, the limit and what was given. */
function plainMessage(issue: $ZodIssue, path: Path, input: unknown): string {
  // A schema's own message (e.g. the resolve request's) is already plain: keep it.
  if (!/^(Invalid|Too (big|small))\b/.test(issue.message)) return issue.message;
  const name = formatPath(path.map(shortKey)) || 'the document';
  const given = valueAt(input, path);
  switch (issue.code) {
    case 'invalid_value': {
      const shown = typeof given === 'string' ? JSON.stringify(given.length > 60 ? `${given.slice(0, 60)}…` : given) : typeName(given);
      return `${name} must be one of ${issue.values.map((v) => String(v)).join(', ')}; got ${shown}`;
    }
    case 'invalid_type': {
      const base = `${name} must be ${wanted[issue.expected] ?? issue.expected}, not ${typeName(given)}`;
      if (given === null && issue.expected === 'object' && path.length === 1 && path[0] === 'dataplane_iam_mapping') {
        return `${base}: its fields (rules, fallback_rule) were probably not indented under it — indent them by two spaces below dataplane_iam_mapping:`;
      }
      return base;
    }
    case 'too_big': {
      const size = Array.isArray(given) ? given.length : typeof given === 'string' ? given.length : undefined;
      const unit = issue.origin === 'array' ? (path.at(-1) === 'rules' ? 'rules' : 'items') : issue.origin === 'string' ? 'characters' : '';
      return `${name} may have at most ${String(issue.maximum)} ${unit}${size !== undefined ? `; it has ${size}` : ''}`.replace(/ +;/, ';');
    }
    case 'too_small': {
      const unit = issue.origin === 'array' ? 'items' : issue.origin === 'string' ? 'characters' : '';
      return Number(issue.minimum) === 1 && issue.origin === 'string' ? `${name} must not be empty` : `${name} needs at least ${String(issue.minimum)} ${unit}`;
    }
    default:
      return `${name}: ${issue.message}`;
  }
}

function valueAt(root: unknown, path: Path): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}
