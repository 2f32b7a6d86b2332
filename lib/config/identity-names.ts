/**
 * Names IAM treats as one. IAM compares role and instance-profile names ignoring case, so two
 * values of one config that differ only in case (`Prof` and `prof`) would share one instance
 * profile: the rule meant for one gets the other's identity: a 400 at PUT naming both rules.
 * (Two explicit `role_name`s equal ignoring case are refused by the settings schema.) Also a
 * `role_name_prefix` that could produce another cloud's role names.
 */
import { rolePrefixProblem } from '../provisioning/naming.js';
import type { Path } from './parse.js';

export type AddError = (path: Path, message: string, extra?: Record<string, unknown>) => void;

/**
 * Works on the raw document, so it also runs when the shape check failed (one answer lists every
 * problem): only the fields that have the right type are looked at; the shape check reports the rest.
 */
export function identityNameProblems(document: Record<string, unknown>, add: AddError): void {
  const mapping = isObject(document.dataplane_iam_mapping) ? document.dataplane_iam_mapping : {};
  if (document.cloud_provider === 'AWS' && document.compute_stack === 'VM') {
    // First place each lowercased value appears: a rule index, or the default value.
    const first = new Map<string, { value: string; where: string }>();
    const check = (value: unknown, where: string, path: Path, extra: Record<string, unknown>) => {
      if (typeof value !== 'string' || value === '') return;
      const key = value.toLowerCase();
      const seen = first.get(key);
      if (!seen) first.set(key, { value, where });
      else if (seen.value !== value) {
        add(
          path,
          `${where} value ${JSON.stringify(value)} and ${seen.where} value ${JSON.stringify(seen.value)} differ only in case; IAM instance-profile names ignore case, so they would be one instance profile. Use one spelling`,
          extra,
        );
      }
    };
    const rules: unknown[] = Array.isArray(mapping.rules) ? mapping.rules : [];
    rules.forEach((r, i) => check(isObject(r) ? r.value : undefined, `rule ${i}`, ['dataplane_iam_mapping', 'rules', i, 'value'], { rule_index: i }));
    check(mapping.default_value, 'default_value', ['dataplane_iam_mapping', 'default_value'], {});
  }
  const p = document.provisioning;
  if (isObject(p) && typeof p.role_name_prefix === 'string') {
    const problem = rolePrefixProblem(p.role_name_prefix);
    if (problem) add(['provisioning', 'role_name_prefix'], `role_name_prefix ${problem}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
