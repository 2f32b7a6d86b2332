/**
 * Validation of a mapping config document: shape (zod), then meaning — every selector parses
 * (errors carry rule index and character position), uses only `workload-type`, `project`, `user`,
 * `workload-type` only `job`/`service`/`workspace`, and every value has the format its provider
 * and compute stack require. Never throws: returns all errors (bounded), each naming its path.
 */
import { formatPath, type ErrorDetail } from '../errors.js';
import { parseSelector, SelectorSyntaxError, type Selector } from '../selector/index.js';
import { lintSteps, rulePath, type LintWarning } from './lint.js';
import { issuesToDetails } from './issues.js';
import type { Path } from './parse.js';
import { LABEL_KEYS, WORKLOAD_TYPES, mappingConfigSchema, type MappingConfig } from './schema.js';
import { checkValue } from './values.js';
import { deploymentIssues, type DeploymentRules } from '../provisioning/settings.js';
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
  /**
   * The deployment's ceiling on distinct identities (rule values plus `default_value`): more is a
   * 400 naming the count and the limit. Unset: no ceiling (offline lint). See `identityCeiling`.
   */
  maxIdentities?: number;
  /** What the deployment allows (role path, allow-listed policies, protected namespaces); defaults when absent. */
  deployment?: DeploymentRules;
}

/** IAM's hard ceiling of roles per account: no deployment may allow more identities. */
export const IDENTITY_CEILING_MAX = 5_000;
/** IAM's default quota of roles per account: the ceiling unless the deployment raises it. */
export const IDENTITY_CEILING_DEFAULT = 1_000;

/**
 * The ceiling a deployment allows, from its setting (`MAX_IDENTITIES`): default 1,000, never above
 * 5,000; an unparsable or non-positive setting is refused at start rather than silently ignored.
 */
export function identityCeiling(setting: string | number | undefined): number {
  if (setting === undefined || setting === '') return IDENTITY_CEILING_DEFAULT;
  const n = typeof setting === 'number' ? setting : Number(setting);
  if (!Number.isInteger(n) || n < 1) throw new Error(`MAX_IDENTITIES must be a positive integer, got ${JSON.stringify(setting)}`);
  return Math.min(n, IDENTITY_CEILING_MAX);
}

/** Distinct identities a config needs: its rule values and default value (case-insensitively for AWS VM, as IAM names are). */
export function distinctIdentities(config: Pick<MappingConfig, 'cloud_provider' | 'compute_stack' | 'dataplane_iam_mapping'>): number {
  const fold = config.cloud_provider === 'AWS' && config.compute_stack === 'VM' ? (v: string) => v.toLowerCase() : (v: string) => v;
  const values = new Set(config.dataplane_iam_mapping.rules.map((r) => fold(r.value)));
  if (config.dataplane_iam_mapping.default_value) values.add(fold(config.dataplane_iam_mapping.default_value));
  return values.size;
}

const LABEL_KEY_SET: ReadonlySet<string> = new Set(LABEL_KEYS);
const WORKLOAD_SET: ReadonlySet<string> = new Set(WORKLOAD_TYPES);
const VALUE_OPERATORS = new Set(['=', '==', '!=', 'in', 'notin']);

export function validateConfig(document: unknown, options: ValidateOptions = {}): ValidationResult {
  try {
    const it = validate(document, options);
    for (;;) {
      const step = it.next();
      if (step.done) return step.value;
    }
  } catch (e) {
    return unexpected(e);
  }
}

/**
 * The same validation for servers: gives the event loop a turn at least every `sliceMs` (default
 * 20 ms) — between rules while selectors are parsed, and inside the lint — so a 5 MiB config of
 * 25,000 rules never stalls other requests for long.
 */
export async function validateConfigAsync(document: unknown, options: ValidateOptions = {}, sliceMs = 20): Promise<ValidationResult> {
  try {
    const it = validate(document, options);
    let sliceStart = Date.now();
    for (;;) {
      const step = it.next();
      if (step.done) return step.value;
      if (Date.now() - sliceStart >= sliceMs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = Date.now();
      }
    }
  } catch (e) {
    return unexpected(e);
  }
}

// Defensive: validation must never throw; an unexpected failure is still a client-facing 400.
const unexpected = (e: unknown): ValidationResult => ({ ok: false, errors: [{ path: '', message: `config could not be validated: ${(e as Error).message}` }] });

/** Yields between rules (every 64) and inside the lint: points where a caller may let the event loop run. */
function* validate(document: unknown, options: ValidateOptions): Generator<void, ValidationResult, void> {
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
  const rawProvisioning = (document as Record<string, unknown>).provisioning;
  if (!shape.success) {
    for (const detail of issuesToDetails(shape.error.issues, document)) add(detail.pathParts, detail.message);
    // What the deployment refuses, in the same answer (a field already reported is not reported twice).
    const reported = new Set(errors.map((e) => e.path));
    for (const issue of deploymentIssues(rawProvisioning, options.deployment)) if (!reported.has(formatPath(issue.pathParts))) add(issue.pathParts, issue.message);
    return { ok: false, errors: finish(errors) };
  }
  const config = shape.data;

  if (options.cloudId !== undefined && config.cloud_deployment_id !== options.cloudId) {
    add(['cloud_deployment_id'], `must equal the cloud in the request path (${options.cloudId}), got ${config.cloud_deployment_id}`);
  }

  for (const issue of deploymentIssues(rawProvisioning, options.deployment)) add(issue.pathParts, issue.message);

  const { cloud_provider: provider, compute_stack: stack } = config;
  const selectors: Selector[] = [];
  const rules = config.dataplane_iam_mapping.rules;
  for (let i = 0; i < rules.length; i++) {
    if ((i & 63) === 63) yield;
    const rule = rules[i]!;
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
  }

  const defaultValue = config.dataplane_iam_mapping.default_value;
  if (defaultValue !== undefined) {
    const problem = checkValue(provider, stack, defaultValue);
    if (problem) add(['dataplane_iam_mapping', 'default_value'], `default_value ${problem}`);
  }
  if (options.maxIdentities !== undefined) {
    const count = distinctIdentities(config);
    if (count > options.maxIdentities) {
      add(
        ['dataplane_iam_mapping', 'rules'],
        `the config names ${count} distinct identities; this deployment allows at most ${options.maxIdentities} ` +
          `(MAX_IDENTITIES, at most ${IDENTITY_CEILING_MAX}: IAM's roles per account)`,
        { count, limit: options.maxIdentities },
      );
    }
  }
  if (config.provisioning !== undefined && provider !== 'AWS') {
    add(['provisioning'], 'provisioning settings apply to AWS clouds only (EKS or VM); remove them for GCP');
  }

  if (errors.length === 0) identityNameProblems(config, add);

  if (errors.length > 0) return { ok: false, errors: finish(errors) };
  yield;
  const warnings = yield* lintSteps(rules.map((r, i) => ({ selector: selectors[i]!, value: r.value })));
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
