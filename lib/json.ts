/**
 * JSON values, and their canonical text: one definition for the whole code base (policy
 * comparison, drift descriptions, plan digests, config content hashes).
 */
import { createHash } from 'node:crypto';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Lowercase hex sha256 of bytes or of a string's UTF-8. */
export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/**
 * JSON with object keys sorted (UTF-16 code unit order) at every depth, no whitespace.
 * Same value semantics as JSON.stringify (toJSON honoured, undefined/functions dropped from
 * objects and `null` in arrays, non-finite numbers → null). Built by hand because JS objects
 * always enumerate integer-like keys first, so "sort then JSON.stringify" is not canonical.
 * `known`: canonical texts already computed for some objects of `value` (used as they are).
 */
/** Canonical texts already computed, by object. */
type Known = Pick<WeakMap<object, string>, 'get'>;

export function canonicalJson(value: unknown, known?: Known): string {
  return canonical(value, false, new Set<object>(), known) ?? '';
}

/** One value's canonical text; undefined for a value an object member drops. Strings are concatenated (ropes), not joined. */
function canonical(v: unknown, inArray: boolean, stack: Set<object>, known: Known | undefined): string | undefined {
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('Cannot serialize a BigInt to JSON');
    case 'undefined':
    case 'function':
    case 'symbol':
      return inArray ? 'null' : undefined;
  }
  if (v === null) return 'null';
  const obj = v as object;
  const text = known?.get(obj);
  if (text !== undefined) return text;
  if (stack.has(obj)) throw new TypeError('Cannot serialize a circular structure to JSON');
  stack.add(obj);
  let s: string;
  if (Array.isArray(obj)) {
    s = '[';
    for (let i = 0; i < obj.length; i++) s += (i > 0 ? ',' : '') + (canonical(obj[i], true, stack, known) as string);
    s += ']';
  } else {
    s = '{';
    const rec = obj as Record<string, unknown>;
    for (const key of Object.keys(rec).sort()) {
      const member = canonical(rec[key], false, stack, known);
      if (member !== undefined) s += (s.length > 1 ? ',' : '') + JSON.stringify(key) + ':' + member; // a dropped value drops its member
    }
    s += '}';
  }
  stack.delete(obj);
  return s;
}
