/**
 * Lint warnings returned with a successful PUT (the config is still stored):
 * - DUPLICATE_RULE: same selector (canonically) and value as an earlier rule;
 * - SHADOWED_RULE: an earlier rule matches every launch this one matches, so it never applies
 *   (decided from equality / set requirements; gt/lt are not decided);
 * - UNSATISFIABLE_SELECTOR: the selector matches no launch (e.g. `user=a,user=b`, `!project`,
 *   `workload-type notin (job,service,workspace)`).
 * Candidate earlier rules are found through the same index resolution uses, so 10,000 rules lint
 * in milliseconds; a pathological config stops after MAX_COMPARISONS and says so.
 */
import type { Selector } from '../selector/index.js';
import { constraintsOf, covers, indexKeyOf, unsatisfiable, allowedFor, type Constraints } from './constraints.js';
import type { LabelKey } from './schema.js';

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

export const MAX_COMPARISONS = 2_000_000;
const INDEX_KEYS: readonly LabelKey[] = ['user', 'project', 'workload-type'];

export function rulePath(index: number, field?: 'selector' | 'value'): string {
  return `dataplane_iam_mapping.rules[${index}]${field ? `.${field}` : ''}`;
}

export function lintRules(rules: readonly LintRule[]): LintWarning[] {
  const warnings: LintWarning[] = [];
  const firstByCanonical = new Map<string, number>();
  const buckets = new Map<LabelKey, Map<string, number[]>>(INDEX_KEYS.map((k) => [k, new Map()]));
  const unindexed: number[] = [];
  const constraints: Constraints[] = [];
  let comparisons = 0;
  let incomplete = false;

  rules.forEach((rule, j) => {
    const c = constraintsOf(rule.selector);
    constraints.push(c);
    const canonical = rule.selector.toString();
    const shown = canonical === '' ? '(empty: matches every launch)' : `\`${canonical}\``;

    if (unsatisfiable(c)) {
      warnings.push({
        code: 'UNSATISFIABLE_SELECTOR',
        path: rulePath(j, 'selector'),
        rule_index: j,
        message: `rule ${j} can never match: selector ${shown} matches no launch`,
      });
      return; // never indexed: it cannot shadow anything
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
    } else {
      firstByCanonical.set(canonical, j);
      if (!incomplete) {
        const candidates = candidatesFor(c, buckets, unindexed);
        for (const i of candidates) {
          if (++comparisons > MAX_COMPARISONS) {
            incomplete = true;
            break;
          }
          if (covers(constraints[i]!, c) === true) {
            const earlier = rules[i]!.selector.toString();
            warnings.push({
              code: 'SHADOWED_RULE',
              path: rulePath(j),
              rule_index: j,
              shadowed_by: i,
              message: `rule ${j} can never match: rule ${i} (${earlier === '' ? 'empty selector' : `\`${earlier}\``}) comes first and matches every launch that ${shown} matches`,
            });
            break;
          }
        }
      }
    }

    const indexKey = indexKeyOf(c);
    if (indexKey === null) unindexed.push(j);
    else {
      const byValue = buckets.get(indexKey.key)!;
      for (const v of indexKey.values) {
        const list = byValue.get(v);
        if (list) list.push(j);
        else byValue.set(v, [j]);
      }
    }
  });

  if (incomplete) {
    warnings.push({
      code: 'LINT_INCOMPLETE',
      path: 'dataplane_iam_mapping.rules',
      message: `shadowing analysis stopped after ${MAX_COMPARISONS.toLocaleString('en-US')} comparisons; later rules were not checked`,
    });
  }
  return warnings;
}

/**
 * Earlier rules that could cover a rule with constraints `c`: every unindexed rule, plus, for each
 * key `c` restricts to a finite set, the rules indexed under one of its values (an earlier rule
 * indexed under key K covers `c` only if its K-set contains all of c's K-values). Ascending order.
 */
function candidatesFor(c: Constraints, buckets: Map<LabelKey, Map<string, number[]>>, unindexed: number[]): number[] {
  const lists: number[][] = [unindexed];
  for (const key of INDEX_KEYS) {
    const a = allowedFor(c, key);
    if (a.kind !== 'in') continue;
    const first = a.values.values().next();
    if (first.done) continue;
    const list = buckets.get(key)!.get(first.value);
    if (list) lists.push(list);
  }
  if (lists.length === 1) return unindexed;
  return lists.flat().sort((x, y) => x - y);
}
