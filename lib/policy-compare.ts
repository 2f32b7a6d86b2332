/**
 * Semantic comparison of IAM policy documents: statement order, a single value vs a one-element
 * list, duplicate list entries, key order and whitespace do not matter; anything that changes who
 * may do what does. Used by the workflow (write only what differs) and by drift checks.
 */
import type { Json } from './json.js';
import type { ObservedPolicy } from './ports.js';

/** Keys whose values IAM treats as sets (a string equals a one-element list). */
const SET_KEYS = new Set(['Action', 'NotAction', 'Resource', 'NotResource', 'AWS', 'Federated', 'Service', 'CanonicalUser']);

function normaliseValue(value: Json, key: string | undefined, inCondition: boolean): Json {
  if (Array.isArray(value)) {
    const items = value.map((v) => normaliseValue(v, undefined, inCondition));
    if (key === 'Statement') return sortUnique(items);
    if (inCondition || (key !== undefined && SET_KEYS.has(key))) {
      const unique = sortUnique(items);
      return unique.length === 1 ? unique[0]! : unique;
    }
    return items;
  }
  if (value !== null && typeof value === 'object') {
    const out: { [k: string]: Json } = {};
    for (const k of Object.keys(value).sort()) {
      if (k === 'Sid') continue; // statement ids name statements; they grant nothing
      out[k] = normaliseValue(value[k]!, k, inCondition || k === 'Condition');
    }
    return out;
  }
  return value;
}

function sortUnique(items: Json[]): Json[] {
  const byKey = new Map<string, Json>();
  for (const item of items) byKey.set(JSON.stringify(item), item);
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

/** A canonical form of a policy document: equal for documents that grant the same. */
export function normalisePolicy(doc: ObservedPolicy): Json {
  const statement = (doc as { Statement?: unknown }).Statement;
  const statements = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
  return normaliseValue({ ...(doc as Record<string, Json>), Statement: statements as Json[] }, undefined, false);
}

export function canonicalPolicy(doc: ObservedPolicy): string {
  return JSON.stringify(normalisePolicy(doc));
}

export function policiesEqual(a: ObservedPolicy | null | undefined, b: ObservedPolicy | null | undefined): boolean {
  if (!a || !b) return a === b;
  return canonicalPolicy(a) === canonicalPolicy(b);
}

/** Statements of `actual` that `expected` does not have, and the reverse (canonical JSON each). */
export function statementDiff(expected: ObservedPolicy, actual: ObservedPolicy): { added: Json[]; removed: Json[] } {
  const list = (doc: ObservedPolicy) => (normalisePolicy(doc) as { Statement: Json[] }).Statement;
  const e = new Map(list(expected).map((s) => [JSON.stringify(s), s]));
  const a = new Map(list(actual).map((s) => [JSON.stringify(s), s]));
  return {
    added: [...a].filter(([k]) => !e.has(k)).map(([, s]) => s),
    removed: [...e].filter(([k]) => !a.has(k)).map(([, s]) => s),
  };
}
