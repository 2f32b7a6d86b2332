/**
 * Lint warnings returned with a successful PUT (the config is still stored):
 * - DUPLICATE_RULE: same selector (canonically) and value as an earlier rule;
 * - SHADOWED_RULE: an earlier rule matches every launch this one matches, so it never applies
 *   (decided from equality / set requirements; gt/lt are not decided);
 * - UNSATISFIABLE_SELECTOR: the selector matches no launch (e.g. `user=a,user=b`, `!project`,
 *   `workload-type notin (job,service,workspace)`).
 * Candidate earlier rules are found through indexes (see lintRules), so 25,000 rules lint in tens
 * of milliseconds; a pathological config stops after MAX_LINT_WORK steps and says so.
 */
import type { Selector } from '../selector/index.js';
import { constraintsOf, indexKeyOf, unsatisfiable, allowedFor, type Constraints } from './constraints.js';
import type { LabelKey } from './schema.js';
import { runSteps, runStepsSliced } from '../steps.js';

export type LintCode = 'DUPLICATE_RULE' | 'SHADOWED_RULE' | 'UNSATISFIABLE_SELECTOR' | 'LINT_INCOMPLETE' | 'UNINDENTED_YAML' | 'EMAIL_CASE';

export interface LintWarning {
  code: LintCode;
  path: string;
  message: string;
  rule_index?: number;
  shadowed_by?: number;
}

export interface LintRule {
  selector: Selector;
  value: string;
}

/**
 * Work budget of the shadowing analysis, in set-element checks (one `Set.has` or one candidate
 * visited). 20 M is ~0.2 s on these machines; a pathological config stops there with
 * LINT_INCOMPLETE instead of running for minutes. The configs the bench/lint.ts worst cases
 * describe finish far below it.
 */
export const MAX_LINT_WORK = 20_000_000;
/** @deprecated the budget counts work, not comparisons; kept as the same order of magnitude. */
export const MAX_COMPARISONS = MAX_LINT_WORK;
const INDEX_KEYS: readonly LabelKey[] = ['user', 'project', 'workload-type'];
/** Keys with an infinite domain: a `notin` there is a co-finite set. */
const OPEN_KEYS: readonly LabelKey[] = ['user', 'project'];

export function rulePath(index: number, field?: 'selector' | 'value'): string {
  return `dataplane_iam_mapping.rules[${index}]${field ? `.${field}` : ''}`;
}

/**
 * Warnings for `rules`, in rule order. Near-linear: for each rule only earlier rules that could
 * cover it are compared, found through indexes —
 * - rules restricting a key to a finite set are indexed under it (the resolution index): an
 *   earlier rule indexed under key K covers this one only if its K-set holds all of this rule's
 *   K-values, so one value's bucket is enough;
 * - rules restricting `user` or `project` by `notin (A)` are indexed under their *signature*,
 *   the value of A that fewest rules exclude: an earlier `notin (A)` covers a later `notin (B)`
 *   only if A ⊆ B, so only signatures among B are candidates (1,200 rules
 *   `project notin (<800 values>, z<i>)` make ~1 M lookups, not 720 k pairwise set checks);
 * - the rest (no finite set, no `notin` on user/project: e.g. an empty selector) are always
 *   candidates.
 * A rule that duplicates or is shadowed by an earlier one is not indexed: whatever it would
 * cover, the earlier rule covers too and comes first, so the first covering rule found is the
 * same. Work is bounded by MAX_LINT_WORK (then LINT_INCOMPLETE).
 */
export function lintRules(rules: readonly LintRule[]): LintWarning[] {
  return runSteps(lintSteps(rules));
}

/** The same analysis, yielding to the event loop every `sliceMs` (default 10 ms): for servers. */
export async function lintRulesAsync(rules: readonly LintRule[], sliceMs = 10): Promise<LintWarning[]> {
  return runStepsSliced(lintSteps(rules), sliceMs);
}

/** Yields every 16 rules (a point where the caller may give the event loop a turn; a rule may list 800 values). */
export function* lintSteps(rules: readonly LintRule[]): Generator<void, LintWarning[], void> {
  const warnings: LintWarning[] = [];
  const firstByCanonical = new Map<string, number>();
  const buckets = new Map<LabelKey, Map<string, number[]>>(INDEX_KEYS.map((k) => [k, new Map()]));
  const signed = new Map<LabelKey, Map<string, number[]>>(OPEN_KEYS.map((k) => [k, new Map()]));
  /** Signed rules per key, in order (candidates for a later rule with a finite set on that key). */
  const signedAll = new Map<LabelKey, number[]>(OPEN_KEYS.map((k) => [k, []]));
  const free: number[] = [];
  const constraints: Constraints[] = [];
  const work = { left: MAX_LINT_WORK };
  let incomplete = false;

  // Pass 1: constraints, and how many rules exclude each user/project value (for signatures).
  const excludedBy = new Map<LabelKey, Map<string, number>>(OPEN_KEYS.map((k) => [k, new Map()]));
  for (let j = 0; j < rules.length; j++) {
    const c = constraintsOf(rules[j]!.selector);
    constraints.push(c);
    for (const key of OPEN_KEYS) {
      const a = c.get(key);
      if (a?.kind !== 'notin') continue;
      const counts = excludedBy.get(key)!;
      for (const v of a.values) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    if ((j & 15) === 15) yield;
  }

  for (let j = 0; j < rules.length; j++) {
    if ((j & 15) === 15) yield;
    const rule = rules[j]!;
    const c = constraints[j]!;
    const canonical = rule.selector.toString();
    const shown = canonical === '' ? '(empty: matches every launch)' : `\`${canonical}\``;

    if (unsatisfiable(c)) {
      warnings.push({
        code: 'UNSATISFIABLE_SELECTOR',
        path: rulePath(j, 'selector'),
        rule_index: j,
        message: `rule ${j} can never match: selector ${shown} matches no launch`,
      });
      continue; // never indexed: it cannot shadow anything
    }

    const twin = firstByCanonical.get(canonical);
    if (twin !== undefined) {
      const same = rules[twin]!.value === rule.value;
      warnings.push({
        code: same ? 'DUPLICATE_RULE' : 'SHADOWED_RULE',
        path: rulePath(j),
        rule_index: j,
        shadowed_by: twin,
        message: same
          ? `rule ${j} duplicates rule ${twin} (same selector ${shown} and value)`
          : `rule ${j} can never match: rule ${twin} has the same selector ${shown} and comes first, so value ${JSON.stringify(rule.value)} is never used`,
      });
      continue; // its twin covers whatever it would
    }
    firstByCanonical.set(canonical, j);

    if (!incomplete) {
      let shadowedBy: number | undefined;
      const lists = candidatesFor(c, buckets, signed, signedAll, free, work);
      for (const i of ascending(lists)) {
        work.left -= lists.length; // one merge step over every list
        if (work.left < 0) break;
        if (coversWithin(constraints[i]!, c, work) === true) {
          shadowedBy = i;
          break;
        }
        if (work.left < 0) break;
      }
      if (work.left < 0) incomplete = true;
      else if (shadowedBy !== undefined) {
        const earlier = rules[shadowedBy]!.selector.toString();
        warnings.push({
          code: 'SHADOWED_RULE',
          path: rulePath(j),
          rule_index: j,
          shadowed_by: shadowedBy,
          message: `rule ${j} can never match: rule ${shadowedBy} (${earlier === '' ? 'empty selector' : `\`${earlier}\``}) comes first and matches every launch that ${shown} matches`,
        });
        continue; // its shadow covers whatever it would
      }
    }

    const indexKey = indexKeyOf(c);
    if (indexKey !== null) {
      const byValue = buckets.get(indexKey.key)!;
      for (const v of indexKey.values) {
        const list = byValue.get(v);
        if (list) list.push(j);
        else byValue.set(v, [j]);
      }
      continue;
    }
    const signKey = OPEN_KEYS.find((k) => {
      const a = c.get(k);
      return a?.kind === 'notin' && a.values.size > 0;
    });
    if (signKey === undefined) {
      free.push(j);
      continue;
    }
    const counts = excludedBy.get(signKey)!;
    let signature = '';
    let best = Number.POSITIVE_INFINITY;
    for (const v of (c.get(signKey) as { values: ReadonlySet<string> }).values) {
      const n = counts.get(v) ?? 0;
      if (n < best) {
        best = n;
        signature = v;
      }
    }
    const bySig = signed.get(signKey)!;
    const list = bySig.get(signature);
    if (list) list.push(j);
    else bySig.set(signature, [j]);
    signedAll.get(signKey)!.push(j);
  }

  if (incomplete) {
    warnings.push({
      code: 'LINT_INCOMPLETE',
      path: 'dataplane_iam_mapping.rules',
      message: `shadowing analysis stopped after ${MAX_LINT_WORK.toLocaleString('en-US')} steps; later rules were not checked`,
    });
  }
  return warnings;
}

/**
 * Earlier rules that could cover a rule with constraints `c`, ascending and without repeats:
 * the free rules; for each key `c` restricts to a finite set, the rules indexed under one of its
 * values; for user/project, the signed rules whose signature `c` also excludes (when `c` has a
 * `notin` there) or every signed rule of that key (when `c` has a finite set there, which a
 * `notin` covers when disjoint).
 */
function candidatesFor(
  c: Constraints,
  buckets: Map<LabelKey, Map<string, number[]>>,
  signed: Map<LabelKey, Map<string, number[]>>,
  signedAll: Map<LabelKey, number[]>,
  free: number[],
  work: { left: number },
): number[][] {
  const lists: number[][] = [free];
  for (const key of INDEX_KEYS) {
    const a = allowedFor(c, key);
    if (a.kind !== 'in') continue;
    const first = a.values.values().next();
    if (first.done) continue;
    const list = buckets.get(key)!.get(first.value);
    if (list) lists.push(list);
  }
  for (const key of OPEN_KEYS) {
    const a = c.get(key);
    if (a === undefined || a.kind === 'unknown') continue; // unrestricted here: no notin covers it
    if (a.kind === 'in') {
      const all = signedAll.get(key)!;
      if (all.length) lists.push(all);
      continue;
    }
    const bySig = signed.get(key)!;
    if (bySig.size === 0) continue;
    // Whichever is smaller: this rule's excluded values, or the signatures seen so far.
    if (a.values.size <= bySig.size) {
      work.left -= a.values.size;
      for (const v of a.values) {
        const list = bySig.get(v);
        if (list) lists.push(list);
      }
    } else {
      work.left -= bySig.size;
      for (const [sig, list] of bySig) if (a.values.has(sig)) lists.push(list);
    }
  }
  return lists.filter((l) => l.length > 0);
}

/**
 * The union of ascending lists, ascending and without repeats, produced lazily (a k-way merge):
 * the caller stops at the first covering rule, so long lists are rarely walked to their end.
 */
function* ascending(lists: number[][]): Generator<number, void, void> {
  if (lists.length === 1) {
    yield* lists[0]!;
    return;
  }
  const at = new Array<number>(lists.length).fill(0);
  let last = -1;
  for (;;) {
    let best = -1;
    let min = Number.POSITIVE_INFINITY;
    for (let k = 0; k < lists.length; k++) {
      const list = lists[k]!;
      while (at[k]! < list.length && list[at[k]!]! <= last) at[k]!++;
      const v = at[k]! < list.length ? list[at[k]!]! : Number.POSITIVE_INFINITY;
      if (v < min) {
        min = v;
        best = k;
      }
    }
    if (best < 0) return;
    last = min;
    at[best]!++;
    yield min;
  }
}

/** `covers` (constraints.ts) with each set-element check charged to `work`. */
function coversWithin(earlier: Constraints, later: Constraints, work: { left: number }): boolean | undefined {
  let decided = true;
  for (const key of INDEX_KEYS) {
    const b = allowedFor(later, key);
    const a = allowedFor(earlier, key);
    let s: boolean | undefined;
    if (a.kind === 'unknown' || b.kind === 'unknown') s = undefined;
    else if (b.kind === 'in' && a.kind === 'in') s = everyIn(b.values, (v) => a.values.has(v), work);
    else if (b.kind === 'in' && a.kind === 'notin') s = everyIn(b.values, (v) => !a.values.has(v), work);
    else if (b.kind === 'notin' && a.kind === 'notin') s = a.values.size <= b.values.size && everyIn(a.values, (v) => b.values.has(v), work);
    else s = false; // co-finite ⊄ finite over an infinite domain
    if (s === false) return false;
    if (s === undefined) decided = false;
  }
  return decided ? true : undefined;
}

function everyIn(values: ReadonlySet<string>, test: (v: string) => boolean, work: { left: number }): boolean {
  for (const v of values) {
    work.left -= 1;
    if (!test(v)) return false;
  }
  return true;
}
