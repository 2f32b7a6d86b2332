/**
 * Names IAM treats as one. IAM compares role and instance-profile names ignoring case, so two
 * values of one config that differ only in case (`Prof` and `prof`) would share one instance
 * profile: the rule meant for one gets the other's identity: a 400 at PUT naming both rules.
 * (Two explicit `role_name`s equal ignoring case are refused by the settings schema.) Also a
 * `role_name_prefix` that could produce another cloud's role names.
 */
import { rolePrefixProblem } from '../provisioning/naming.js';
import type { Path } from './parse.js';
import type { MappingConfig } from './schema.js';

export type AddError = (path: Path, message: string, extra?: Record<string, unknown>) => void;

export function identityNameProblems(config: MappingConfig, add: AddError): void {
  if (config.cloud_provider !== 'AWS') return;
  if (config.compute_stack === 'VM') {
    // First place each lowercased value appears: a rule index, or the default value.
    const first = new Map<string, { value: string; where: string }>();
    const check = (value: string, where: string, path: Path, extra: Record<string, unknown>) => {
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
    config.dataplane_iam_mapping.rules.forEach((r, i) => check(r.value, `rule ${i}`, ['dataplane_iam_mapping', 'rules', i, 'value'], { rule_index: i }));
    const dv = config.dataplane_iam_mapping.default_value;
    if (dv !== undefined) check(dv, 'default_value', ['dataplane_iam_mapping', 'default_value'], {});
  }
  const p = config.provisioning;
  if (!p) return;
  if (p.role_name_prefix !== undefined) {
    const problem = rolePrefixProblem(p.role_name_prefix);
    if (problem) add(['provisioning', 'role_name_prefix'], `role_name_prefix ${problem}`);
  }
}
