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
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack = new Set<object>();
  const write = (v: unknown, inArray: boolean): boolean => {
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: () => unknown }).toJSON();
    }
    switch (typeof v) {
      case 'string':
        out.push(JSON.stringify(v));
        return true;
      case 'number':
        out.push(Number.isFinite(v) ? JSON.stringify(v) : 'null');
        return true;
      case 'boolean':
        out.push(v ? 'true' : 'false');
        return true;
      case 'bigint':
        throw new TypeError('Cannot serialize a BigInt to JSON');
      case 'undefined':
      case 'function':
      case 'symbol':
        if (inArray) out.push('null');
        return inArray;
    }
    if (v === null) {
      out.push('null');
      return true;
    }
    const obj = v as object;
    if (stack.has(obj)) throw new TypeError('Cannot serialize a circular structure to JSON');
    stack.add(obj);
    if (Array.isArray(obj)) {
      out.push('[');
      for (let i = 0; i < obj.length; i++) {
        if (i > 0) out.push(',');
        write(obj[i], true);
      }
      out.push(']');
    } else {
      out.push('{');
      let first = true;
      const rec = obj as Record<string, unknown>;
      for (const key of Object.keys(rec).sort()) {
        const mark = out.length;
        out.push(first ? '' : ',', JSON.stringify(key), ':');
        if (write(rec[key], false)) first = false;
        else out.length = mark; // value not serialisable in an object: drop the member
      }
      out.push('}');
    }
    stack.delete(obj);
    return true;
  };
  write(value, false);
  return out.join('');
}
