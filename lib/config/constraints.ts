/**
 * What a selector allows for each label key, as a set algebra over the three keys every launch
 * carries (`workload-type`, `project`, `user` are always present at resolution). Used by the lint
 * (shadowed / duplicate / unsatisfiable rules).
 */
import type { Requirement, Selector } from '../selector/index.js';
import { LABEL_KEYS, WORKLOAD_TYPES, type LabelKey } from './constants.js';

/** `in`: exactly these values; `notin`: anything but these; `unknown`: not decidable (gt/lt). */
export type Allowed = { kind: 'in'; values: ReadonlySet<string> } | { kind: 'notin'; values: ReadonlySet<string> } | { kind: 'unknown' };

const ANY: Allowed = { kind: 'notin', values: new Set() };
const NONE: Allowed = { kind: 'in', values: new Set() };
const WORKLOADS: ReadonlySet<string> = new Set(WORKLOAD_TYPES);

function ofRequirement(r: Requirement): Allowed {
  switch (r.operator) {
    case '=':
    case '==':
    case 'in':
      return { kind: 'in', values: new Set(r.values) };
    case '!=':
    case 'notin':
      return { kind: 'notin', values: new Set(r.values) };
    case 'exists':
      return ANY;
    case '!':
      return NONE; // the key is always present at resolution
    default:
      return { kind: 'unknown' };
  }
}

/** Finite universe for workload-type: complements become explicit sets. */
function normalise(key: LabelKey, a: Allowed): Allowed {
  if (key !== 'workload-type') return a;
  if (a.kind === 'notin') return { kind: 'in', values: new Set([...WORKLOADS].filter((v) => !a.values.has(v))) };
  if (a.kind === 'in') return { kind: 'in', values: new Set([...a.values].filter((v) => WORKLOADS.has(v))) };
  return a;
}

export function isEmpty(a: Allowed): boolean {
  return a.kind === 'in' && a.values.size === 0;
}

export type Constraints = ReadonlyMap<LabelKey, Allowed>;

/**
 * Per-key allowed sets of a selector (keys it does not mention allow anything). Linear in the
 * selector: per key, the `in` values are intersected, the `notin` values collected into one set
 * (the same result as intersecting requirement by requirement, without copying a set each time).
 */
export function constraintsOf(selector: Selector): Constraints {
  const acc = new Map<LabelKey, { ins?: Set<string>; notin: Set<string>; unknown: boolean }>();
  for (const r of selector.requirements) {
    const key = r.key as LabelKey;
    let a = acc.get(key);
    if (!a) acc.set(key, (a = { notin: new Set(), unknown: false }));
    if (r.operator === '!=' || r.operator === 'notin') {
      for (const v of r.values) a.notin.add(v);
      continue;
    }
    const allowed = ofRequirement(r);
    if (allowed.kind === 'unknown') a.unknown = true;
    else if (allowed.kind === 'notin') for (const v of allowed.values) a.notin.add(v);
    else if (a.ins === undefined) a.ins = new Set(allowed.values);
    else for (const v of a.ins) if (!allowed.values.has(v)) a.ins.delete(v);
  }
  const out = new Map<LabelKey, Allowed>();
  for (const [key, a] of acc) {
    let finite: Allowed;
    if (a.ins !== undefined) {
      for (const v of a.notin) a.ins.delete(v);
      finite = { kind: 'in', values: a.ins };
    } else finite = { kind: 'notin', values: a.notin };
    const allowed: Allowed = a.unknown ? (isEmpty(finite) ? NONE : { kind: 'unknown' }) : finite;
    out.set(key, normalise(key, allowed));
  }
  return out;
}

export function allowedFor(c: Constraints, key: LabelKey): Allowed {
  return c.get(key) ?? (key === 'workload-type' ? { kind: 'in', values: WORKLOADS } : ANY);
}

/** True when the selector can match no launch at all. */
export function unsatisfiable(c: Constraints): boolean {
  for (const a of c.values()) if (isEmpty(a)) return true;
  return false;
}

/** b ⊆ a for one key; undefined when undecidable. */
function subset(b: Allowed, a: Allowed): boolean | undefined {
  if (a.kind === 'unknown' || b.kind === 'unknown') return undefined;
  if (b.kind === 'in' && a.kind === 'in') return [...b.values].every((v) => a.values.has(v));
  if (b.kind === 'in' && a.kind === 'notin') return [...b.values].every((v) => !a.values.has(v));
  if (b.kind === 'notin' && a.kind === 'notin') return [...a.values].every((v) => b.values.has(v));
  return false; // co-finite ⊄ finite over an infinite domain
}

/** Does every launch that `later` matches also match `earlier`? undefined when undecidable. */
export function covers(earlier: Constraints, later: Constraints): boolean | undefined {
  let decided = true;
  for (const key of LABEL_KEYS) {
    const s = subset(allowedFor(later, key), allowedFor(earlier, key));
    if (s === false) return false;
    if (s === undefined) decided = false;
  }
  return decided ? true : undefined;
}

/**
 * The key and finite value set the lint buckets a rule under: the most selective key (user, then
 * project, then workload-type) that the rule restricts to a finite set of values.
 */
export function indexKeyOf(c: Constraints): { key: LabelKey; values: ReadonlySet<string> } | null {
  for (const key of ['user', 'project', 'workload-type'] as const) {
    const a = c.get(key);
    if (a && a.kind === 'in' && (key !== 'workload-type' || a.values.size < WORKLOADS.size)) return { key, values: a.values };
  }
  return null;
}
