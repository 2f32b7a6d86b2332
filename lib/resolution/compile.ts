/**
 * A mapping config compiled for resolution: selectors parsed once per config version, and rules
 * indexed by the most selective key they restrict to a finite set (user, then project, then
 * workload-type). A launch only visits the rules indexed under its own values plus the
 * unindexed ones, in rule order, so first-match-wins stays exact while 10,000 rules resolve in
 * microseconds.
 */
import { constraintsOf, indexKeyOf } from '../config/constraints.js';
import type { FallbackRule, LabelKey, MappingConfig } from '../config/schema.js';
import { parseSelector, type Selector } from '../selector/index.js';

export interface CompiledRule {
  index: number;
  selector: Selector;
  value: string;
}

export interface CompiledConfig {
  cloudId: string;
  version: number;
  etag: string;
  fallback: FallbackRule;
  defaultValue: string | null;
  rules: readonly CompiledRule[];
  /** Rule indices by key → value, ascending. */
  index: Readonly<Record<LabelKey, ReadonlyMap<string, readonly number[]>>>;
  /** Rules restricting no key to a finite set, ascending. */
  unindexed: readonly number[];
}

export interface VersionRef {
  version: number;
  etag: string;
}

export function compileConfig(config: Pick<MappingConfig, 'cloud_deployment_id' | 'dataplane_iam_mapping'>, ref: VersionRef, selectors?: readonly Selector[]): CompiledConfig {
  const index: Record<LabelKey, Map<string, number[]>> = { user: new Map(), project: new Map(), 'workload-type': new Map() };
  const unindexed: number[] = [];
  const rules = config.dataplane_iam_mapping.rules.map((rule, i): CompiledRule => {
    const selector = selectors?.[i] ?? parseSelector(rule.selector);
    const key = indexKeyOf(constraintsOf(selector));
    if (key === null) unindexed.push(i);
    else {
      const byValue = index[key.key];
      for (const v of key.values) {
        const list = byValue.get(v);
        if (list) list.push(i);
        else byValue.set(v, [i]);
      }
    }
    return { index: i, selector, value: rule.value };
  });
  return {
    cloudId: config.cloud_deployment_id,
    version: ref.version,
    etag: ref.etag,
    fallback: config.dataplane_iam_mapping.fallback_rule,
    defaultValue: config.dataplane_iam_mapping.default_value ?? null,
    rules,
    index,
    unindexed,
  };
}
