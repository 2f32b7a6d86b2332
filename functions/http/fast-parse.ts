/**
 * A fast path in front of zod for the request schemas of the route table: for a schema made only
 * of (strict or stripping) objects, strings with length and regex checks, string enums and
 * optional fields, a plain function that returns what zod would return for a valid input, and
 * MISS for anything else — then zod parses the input and names every problem. Schemas with any
 * other part (transforms, defaults, refinements, other checks) get no fast path.
 *
 * Why: zod's interpreter walks the schema per field and builds result and issue objects on the
 * way; on the resolve route (a 4-field body, every request) that was several µs of the request's
 * CPU. The answer for valid input is the same object zod builds (same keys in the same order, the
 * same values); test/api/fast-parse.test.ts checks that against zod on generated inputs.
 */
import * as z from 'zod/mini';
import type { Schema } from './route.js';

export const MISS: unique symbol = Symbol('fast-parse miss');
export type FastParser = (raw: unknown) => unknown;

interface Def {
  type: string;
  checks?: Array<{ _zod: { def: Record<string, unknown> } }>;
  coerce?: boolean;
  entries?: Record<string, unknown>;
  innerType?: Schema;
  shape?: Record<string, Schema>;
  catchall?: Schema;
}

const defOf = (schema: Schema) => (schema as unknown as { _zod: { def: Def } })._zod.def;

const cache = new WeakMap<Schema, FastParser | null>();

/** The fast parser of `schema` (built once), or null when the schema has parts it does not know. */
export function fastParser(schema: Schema): FastParser | null {
  let parser = cache.get(schema);
  if (parser === undefined) {
    parser = build(schema);
    cache.set(schema, parser);
  }
  return parser;
}

function build(schema: Schema): FastParser | null {
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return def.coerce ? null : stringParser(def);
    case 'enum': {
      if (def.checks?.length) return null;
      const values = Object.values(def.entries ?? {});
      if (!values.every((v) => typeof v === 'string')) return null;
      const allowed = new Set<unknown>(values);
      return (raw) => (allowed.has(raw) ? raw : MISS);
    }
    case 'object':
      return objectParser(def);
    default:
      return null;
  }
}

/** zod's default condition of length checks (run on values with a length): a check with another one gets no fast path. */
const LENGTH_WHEN = (z.minLength(1) as unknown as { _zod: { def: { when?: unknown } } })._zod.def.when;

function stringParser(def: Def): FastParser | null {
  let min = 0;
  let max = Infinity;
  const patterns: RegExp[] = [];
  for (const check of def.checks ?? []) {
    const c = check._zod.def;
    const length = c.check === 'min_length' || c.check === 'max_length';
    if (c.when !== undefined && !(length && c.when === LENGTH_WHEN)) return null;
    if (c.check === 'min_length' && typeof c.minimum === 'number') min = Math.max(min, c.minimum);
    else if (c.check === 'max_length' && typeof c.maximum === 'number') max = Math.min(max, c.maximum);
    else if (c.check === 'string_format' && c.format === 'regex' && c.pattern instanceof RegExp) patterns.push(c.pattern);
    else return null;
  }
  // zod counts code points. A string of n UTF-16 units has between ⌈n/2⌉ and n of them, so n ≤ max
  // passes the maximum and n ≥ 2·min − 1 the minimum; other lengths are left to zod.
  const least = Math.max(0, 2 * min - 1);
  if (patterns.length === 0) return (raw) => (typeof raw === 'string' && raw.length >= least && raw.length <= max ? raw : MISS);
  return (raw) => {
    if (typeof raw !== 'string' || raw.length < least || raw.length > max) return MISS;
    for (const p of patterns) {
      p.lastIndex = 0; // as zod does (a /g or /y pattern keeps state)
      if (!p.test(raw)) return MISS;
    }
    return raw;
  };
}

function objectParser(def: Def): FastParser | null {
  if (def.checks?.length || !def.shape) return null;
  const catchall = def.catchall === undefined ? undefined : defOf(def.catchall).type;
  if (catchall !== undefined && catchall !== 'never') return null;
  const strict = catchall === 'never';
  const keys: string[] = [];
  const fields: FastParser[] = [];
  const optional: boolean[] = [];
  for (const [key, field] of Object.entries(def.shape)) {
    if (key === '__proto__') return null;
    const fdef = defOf(field);
    const isOptional = fdef.type === 'optional';
    const parser = isOptional ? (fdef.checks?.length ? null : fastParser(fdef.innerType!)) : fastParser(field);
    if (!parser) return null;
    keys.push(key);
    fields.push(parser);
    optional.push(isOptional);
  }
  const known = new Set(keys);
  return (raw) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return MISS;
    const input = raw as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const value = input[key];
      if (value === undefined) {
        if (!optional[i] || key in input) return MISS; // missing, or present as undefined: zod says what it makes of it
        continue;
      }
      const parsed = fields[i]!(value);
      if (parsed === MISS) return MISS;
      out[key] = parsed;
    }
    if (strict) for (const key in input) if (!known.has(key)) return MISS;
    return out;
  };
}
