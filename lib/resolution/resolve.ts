/**
 * Resolution: which identity a launch gets. First matching rule wins; otherwise the fallback
 * (CLOUD_DEFAULT → the cloud's default identity, FAIL → NO_MATCHING_RULE). `resolve` answers from
 * the bitset index of rule-index.ts; `explain` (not the hot path) walks the rules in order and
 * says, for each rule before the winner, the first requirement that failed — the same winner.
 */
import { AppError, type ErrorDetail } from '../errors.js';
import type { Requirement } from '../selector/index.js';
import type { CompiledConfig } from './compile.js';
import { firstMatchLabels, firstMatchLaunch } from './rule-index.js';

export interface Launch {
  workload_type: string;
  project: string;
  user: string;
}

export interface Resolution {
  value: string | null;
  source: 'RULE' | 'CLOUD_DEFAULT';
  rule_index: number | null;
  config_version: number;
}

export interface TraceEntry {
  rule_index: number;
  selector: string;
  matched: boolean;
  /** The first requirement that failed, canonical (absent when matched). */
  failed_requirement?: string;
  reason?: string;
}

export function labelsOf(launch: Launch): Record<string, string> {
  return { 'workload-type': launch.workload_type, project: launch.project, user: launch.user };
}

/** Index of the first rule matching the labels, or -1 (the same answer as a linear scan). */
export function firstMatch(compiled: CompiledConfig, labels: Record<string, string>): number {
  return firstMatchLabels(compiled.index, labels);
}

export function resolve(compiled: CompiledConfig, launch: Launch): Resolution {
  const i = firstMatchLaunch(compiled.index, launch.workload_type, launch.project, launch.user);
  if (i >= 0) return { value: compiled.rules[i]!.value, source: 'RULE', rule_index: i, config_version: compiled.version };
  return fallback(compiled, launch);
}

function fallback(compiled: CompiledConfig, launch: Launch, details: ErrorDetail[] = []): Resolution {
  if (compiled.fallback === 'FAIL') {
    throw new AppError(
      'NO_MATCHING_RULE',
      `no rule matches workload-type=${launch.workload_type}, project=${launch.project}, user=${launch.user} and fallback_rule is FAIL (config version ${compiled.version})`,
      details,
    );
  }
  return { value: compiled.defaultValue, source: 'CLOUD_DEFAULT', rule_index: null, config_version: compiled.version };
}

/** Resolution plus a trace of every rule evaluated (all rules before the winner, and the winner). */
export function explain(compiled: CompiledConfig, launch: Launch): Resolution & { trace: TraceEntry[] } {
  const labels = labelsOf(launch);
  const trace: TraceEntry[] = [];
  for (const rule of compiled.rules) {
    const failed = rule.selector.requirements.find((r) => !r.matches(labels));
    if (!failed) {
      trace.push({ rule_index: rule.index, selector: rule.selector.toString(), matched: true });
      return { value: rule.value, source: 'RULE', rule_index: rule.index, config_version: compiled.version, trace };
    }
    trace.push({
      rule_index: rule.index,
      selector: rule.selector.toString(),
      matched: false,
      failed_requirement: failed.toString(),
      reason: describeFailure(failed, labels),
    });
  }
  const details = trace.map((t) => ({
    path: `dataplane_iam_mapping.rules[${t.rule_index}].selector`,
    message: `rule ${t.rule_index}: ${t.reason}`,
    rule_index: t.rule_index,
  }));
  return { ...fallback(compiled, launch, details), trace };
}

export function describeFailure(r: Requirement, labels: Record<string, string>): string {
  const actual = labels[r.key];
  const shown = actual === undefined ? `${r.key} is not set` : `${r.key} is ${JSON.stringify(actual)}`;
  const list = r.values.join(', ');
  switch (r.operator) {
    case '=':
    case '==':
      return `${shown}, not ${JSON.stringify(r.values[0])}`;
    case 'in':
      return r.values.length === 0 ? `${r.key} in () matches nothing` : `${shown}, not one of (${list})`;
    case '!=':
      return `${shown}, which the rule excludes`;
    case 'notin':
      return `${shown}, which is in the excluded (${list})`;
    case 'exists':
      return `${r.key} is not set`;
    case '!':
      return `${shown}; the rule requires it to be absent`;
    case 'gt':
      return `${shown}, not an integer greater than ${r.values[0]}`;
    case 'lt':
      return `${shown}, not an integer less than ${r.values[0]}`;
    default:
      return `${r.toString()} does not hold`;
  }
}
