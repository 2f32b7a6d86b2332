/**
 * Validation of a mapping config document: shape (zod), then meaning — every selector parses
 * (errors carry rule index and character position), uses only `workload-type`, `project`, `user`,
 * `workload-type` only `job`/`service`/`workspace`, and every value has the format its provider
 * and compute stack require. Never throws: returns all errors (bounded), each naming its path.
 */
import type { ErrorDetail } from '../errors.js';
import { parseSelector, SelectorSyntaxError, type Selector } from '../selector/index.js';
import { lintRules, rulePath, type LintWarning } from './lint.js';
import { formatPath, issuesToDetails } from './issues.js';
import type { Path } from './parse.js';
import { LABEL_KEYS, WORKLOAD_TYPES, mappingConfigSchema, type MappingConfig } from './schema.js';
import { checkValue } from './values.js';
import { identityNameProblems } from './identity-names.js';

export const MAX_ERRORS = 100;

export type Locate = (path: Path) => { line: number; column: number } | undefined;

export type ValidationResult =
  | { ok: true; config: MappingConfig; selectors: Selector[]; warnings: LintWarning[] }
  | { ok: false; errors: ErrorDetail[] };

export interface ValidateOptions {
  /** The `{cloud}` of the request path: `cloud_deployment_id` must equal it. */
  cloudId?: string;
  /** Maps a document path to its YAML line/column, so errors can point at lines. */
  locate?: Locate;
}

const LABEL_KEY_SET: ReadonlySet<string> = new Set(LABEL_KEYS);
const WORKLOAD_SET: ReadonlySet<string> = new Set(WORKLOAD_TYPES);
const VALUE_OPERATORS = new Set(['=', '==', '!=', 'in', 'notin']);

export function validateConfig(document: unknown, options: ValidateOptions = {}): ValidationResult {
  try {
    return validate(document, options);
  } catch (e) {
    // Defensive: validation must never throw; an unexpected failure is still a client-facing 400.
    return { ok: false, errors: [{ path: '', message: `config could not be validated: ${(e as Error).message}` }] };
  }
}

function validate(document: unknown, options: ValidateOptions): ValidationResult {
  const errors: ErrorDetail[] = [];
  const add = (path: Path, message: string, extra: Record<string, unknown> = {}) => {
    if (errors.length >= MAX_ERRORS) return;
    const at = options.locate?.(path);
    errors.push({ path: formatPath(path), message, ...extra, ...(at ? { line: at.line, column: at.column } : {}) });
  };

  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    add([], 'the mapping config must be an object with cloud_deployment_id, cloud_provider, compute_stack and dataplane_iam_mapping');
    return { ok: false, errors };
  }

  const shape = mappingConfigSchema.safeParse(document);
  if (!shape.success) {
    for (const detail of issuesToDetails(shape.error.issues, document)) add(detail.pathParts, detail.message);
    return { ok: false, errors: finish(errors) };
  }
  const config = shape.data;

  if (options.cloudId !== undefined && config.cloud_deployment_id !== options.cloudId) {
    add(['cloud_deployment_id'], `must equal the cloud in the request path (${options.cloudId}), got ${config.cloud_deployment_id}`);
  }

  const { cloud_provider: provider, compute_stack: stack } = config;
  const selectors: Selector[] = [];
  config.dataplane_iam_mapping.rules.forEach((rule, i) => {
    const selectorPath = ['dataplane_iam_mapping', 'rules', i, 'selector'];
    try {
      const selector = parseSelector(rule.selector);
      selectors.push(selector);
      for (const problem of selectorProblems(selector, rule.selector)) {
        add(selectorPath, `rule ${i}: ${problem.message} (at character ${problem.position})`, { rule_index: i, position: problem.position });
      }
    } catch (e) {
      if (!(e instanceof SelectorSyntaxError)) throw e;
      add(selectorPath, `rule ${i}: invalid selector: ${e.message}`, { rule_index: i, position: e.position });
    }
    const valueProblem = checkValue(provider, stack, rule.value);
    if (valueProblem) add(['dataplane_iam_mapping', 'rules', i, 'value'], `rule ${i}: value ${valueProblem}`, { rule_index: i });
  });

  const defaultValue = config.dataplane_iam_mapping.default_value;
  if (defaultValue !== undefined) {
    const problem = checkValue(provider, stack, defaultValue);
    if (problem) add(['dataplane_iam_mapping', 'default_value'], `default_value ${problem}`);
  }
  if (config.provisioning !== undefined && provider !== 'AWS') {
    add(['provisioning'], 'provisioning settings apply to AWS clouds only (EKS or VM); remove them for GCP');
  }

  if (errors.length === 0) identityNameProblems(config, add);

  if (errors.length > 0) return { ok: false, errors: finish(errors) };
  const warnings = lintRules(config.dataplane_iam_mapping.rules.map((r, i) => ({ selector: selectors[i]!, value: r.value })));
  return { ok: true, config, selectors, warnings };
}

interface SelectorProblem {
  message: string;
  position: number;
}

/** Keys and workload types a mapping selector may use, with the character position of each offence. */
function selectorProblems(selector: Selector, text: string): SelectorProblem[] {
  const problems: SelectorProblem[] = [];
  for (const r of selector.requirements) {
    const position = r.position ?? 0;
    if (!LABEL_KEY_SET.has(r.key)) {
      problems.push({ message: `selector key ${JSON.stringify(r.key)} is not supported; use workload-type, project or user`, position });
      continue;
    }
    if (r.key !== 'workload-type') continue;
    if (!VALUE_OPERATORS.has(r.operator) && r.operator !== 'exists' && r.operator !== '!') {
      problems.push({ message: `workload-type cannot be compared with ${r.operator}; use =, !=, in or notin`, position });
      continue;
    }
    for (const v of r.values) {
      if (!WORKLOAD_SET.has(v)) {
        const at = text.indexOf(v, position);
        problems.push({
          message: `workload-type ${JSON.stringify(v)} is not one of job, service, workspace`,
          position: at >= 0 ? at : position,
        });
      }
    }
  }
  return problems;
}

function finish(errors: ErrorDetail[]): ErrorDetail[] {
  if (errors.length >= MAX_ERRORS) {
    errors.push({ path: '', message: `more than ${MAX_ERRORS} errors; fix these first` });
  }
  return errors;
}

export { rulePath };
