/**
 * A mapping config compiled for resolution: selectors parsed once per config version, and the
 * bitset index of rule-index.ts built over them, so that any 10,000-rule config — whatever its
 * selectors look like — resolves in microseconds with exact first-match-wins semantics.
 */
import type { FallbackRule, MappingConfig } from '../config/schema.js';
import { parseSelector, type Selector } from '../selector/index.js';
import { buildRuleIndex, type RuleIndex } from './rule-index.js';

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
  /** Per label key, the bitsets of the rules each value lets through. */
  index: RuleIndex;
}

export interface VersionRef {
  version: number;
  etag: string;
}

export function compileConfig(
  config: Pick<MappingConfig, 'cloud_deployment_id' | 'dataplane_iam_mapping'>,
  ref: VersionRef,
  selectors?: readonly Selector[],
): CompiledConfig {
  const rules = config.dataplane_iam_mapping.rules.map((rule, i): CompiledRule => ({
    index: i,
    selector: selectors?.[i] ?? parseSelector(rule.selector),
    value: rule.value,
  }));
  return {
    cloudId: config.cloud_deployment_id,
    version: ref.version,
    etag: ref.etag,
    fallback: config.dataplane_iam_mapping.fallback_rule,
    defaultValue: config.dataplane_iam_mapping.default_value ?? null,
    rules,
    index: buildRuleIndex(rules.map((r) => r.selector)),
  };
}
