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
import { CLOUD_PROVIDERS, COMPUTE_STACKS, LABEL_KEYS, MAX_RULES, MAX_SELECTOR_LENGTH, MAX_VALUE_LENGTH, WORKLOAD_TYPES, type MappingConfig } from './schema.js';
import { checkValue, type CloudProvider, type ComputeStack } from './values.js';
import { deploymentIssues, type DeploymentRules } from '../provisioning/settings.js';
import { identityNameProblems } from './identity-names.js';
import { gcpProvisioningIssues } from '../provisioning/gcp-settings.js';
import { runSteps, runStepsSliced } from '../steps.js';
import { IDENTITY_CEILING_MAX } from './limits.js';
import { shapeSteps } from './shape.js';

export const MAX_ERRORS = 100;

export type Locate = (path: Path) => { line: number; column: number } | undefined;

export type ValidationResult = { ok: true; config: MappingConfig; selectors: Selector[]; warnings: LintWarning[] } | { ok: false; errors: ErrorDetail[] };

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

export { IDENTITY_CEILING_DEFAULT, IDENTITY_CEILING_MAX, identityCeiling } from './limits.js';

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
    return runSteps(validate(document, options));
  } catch (e) {
    return unexpected(e);
  }
}

/**
 * The same validation for servers: gives the event loop a turn at least every `sliceMs` (default
 * 10 ms) — between rules while selectors are parsed, and inside the lint — so a 5 MiB config of
 * 25,000 rules never stalls other requests for long.
 */
export async function validateConfigAsync(document: unknown, options: ValidateOptions = {}, sliceMs = 10): Promise<ValidationResult> {
  try {
    return await runStepsSliced(validate(document, options), sliceMs);
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

  const shape = yield* shapeSteps(document);
  const rawProvisioning = (document as Record<string, unknown>).provisioning;
  if (!shape.success) {
    const doc = document as Record<string, unknown>;
    const mappingKeys = ['rules', 'fallback_rule', 'default_value'].filter((k) => Object.hasOwn(doc, k));
    const lostIndent = mappingKeys.length > 0 && (doc.dataplane_iam_mapping === null || doc.dataplane_iam_mapping === undefined);
    for (const detail of issuesToDetails(shape.error.issues, document)) {
      if (lostIndent && detail.pathParts.length === 1 && (mappingKeys.includes(String(detail.pathParts[0])) || detail.pathParts[0] === 'dataplane_iam_mapping'))
        continue;
      add(detail.pathParts, detail.message);
    }
    if (lostIndent) {
      add(
        ['dataplane_iam_mapping'],
        `${mappingKeys.join(', ')} ${mappingKeys.length > 1 ? 'belong' : 'belongs'} under dataplane_iam_mapping but ${mappingKeys.length > 1 ? 'are' : 'is'} at the top level: ` +
          'the indentation was probably lost — indent them by two spaces below dataplane_iam_mapping:',
      );
    }
    // What the deployment refuses, in the same answer (a field already reported is not reported twice).
    const reported = new Set(errors.map((e) => e.path));
    for (const issue of deploymentIssues(rawProvisioning, options.deployment))
      if (!reported.has(formatPath(issue.pathParts))) add(issue.pathParts, issue.message);
    if (typeof doc.cloud_provider === 'string' && typeof doc.compute_stack === 'string') {
      gcpProvisioningIssues({ ...doc, cloud_provider: doc.cloud_provider, compute_stack: doc.compute_stack }, options.deployment ?? {}, (path, message) => {
        if (!reported.has(formatPath(path))) add(path, message);
      });
    }
    identityNameProblems(doc, (path, message, extra) => {
      if (!reported.has(formatPath(path))) add(path, message, extra);
    });
    // Still check every rule that has the right shape, so one answer lists every problem.
    const mapping = doc.dataplane_iam_mapping as { rules?: unknown } | null | undefined;
    const rules = mapping && typeof mapping === 'object' && Array.isArray(mapping.rules) ? mapping.rules : [];
    const provider = CLOUD_PROVIDERS.includes(doc.cloud_provider as never) ? (doc.cloud_provider as CloudProvider) : undefined;
    const stack = COMPUTE_STACKS.includes(doc.compute_stack as never) ? (doc.compute_stack as ComputeStack) : undefined;
    // With the provider or stack itself invalid, a value is checked against every kind it could be:
    // one that none would take is reported too.
    const kinds = (provider ? [provider] : CLOUD_PROVIDERS).flatMap((p) => (stack ? [stack] : COMPUTE_STACKS).map((st) => ({ provider: p, stack: st })));
    checkRules(
      rules.slice(0, MAX_RULES).map((r: unknown) => (r && typeof r === 'object' ? (r as Record<string, unknown>) : {})),
      kinds,
      add,
    );
    return { ok: false, errors: finish(errors) };
  }
  const config = shape.data;

  if (options.cloudId !== undefined && config.cloud_deployment_id !== options.cloudId) {
    add(['cloud_deployment_id'], `must equal the cloud in the request path (${options.cloudId}), got ${config.cloud_deployment_id}`);
  }

  for (const issue of deploymentIssues(rawProvisioning, options.deployment)) add(issue.pathParts, issue.message);

  const { cloud_provider: provider, compute_stack: stack } = config;
  // Rules in chunks of 8 (a rule may list 800 values), yielding between them so a 25,000-rule config never blocks the event loop for long.
  const rules = config.dataplane_iam_mapping.rules;
  const selectors: Array<Selector | undefined> = [];
  for (let start = 0; start < rules.length; start += 8) {
    if (start > 0) yield;
    selectors.push(...checkRules(rules.slice(start, start + 8), [{ provider, stack }], add, start));
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
  gcpProvisioningIssues(config, options.deployment ?? {}, add);

  // Not twice for a field already reported (an ARN value that also differs only in case from another rule's).
  const reported = new Set(errors.map((e) => e.path));
  identityNameProblems(config, (path, message, extra) => {
    if (!reported.has(formatPath(path))) add(path, message, extra);
  });

  if (errors.length > 0) return { ok: false, errors: finish(errors) };
  yield;
  const warnings = [...(yield* lintSteps(rules.map((r, i) => ({ selector: selectors[i]!, value: r.value })))), ...emailCaseWarnings(selectors)];
  return { ok: true, config, selectors: selectors as Selector[], warnings };
}

type Add = (path: Path, message: string, extra?: Record<string, unknown>) => void;

/**
 * Selector and value of each rule (rules whose selector or value is not a string are skipped:
 * the shape check reported them). Returns the parsed selectors, by rule index.
 */
function checkRules(
  rules: ReadonlyArray<{ selector?: unknown; value?: unknown }>,
  kinds: ReadonlyArray<{ provider: CloudProvider; stack: ComputeStack }>,
  add: Add,
  offset = 0,
): Array<Selector | undefined> {
  const selectors: Array<Selector | undefined> = [];
  rules.forEach((rule, j) => {
    const i = offset + j;
    const selectorPath = ['dataplane_iam_mapping', 'rules', i, 'selector'];
    selectors.push(undefined);
    if (typeof rule.selector === 'string' && rule.selector.length <= MAX_SELECTOR_LENGTH) {
      const text = rule.selector;
      const odd = oddCharacter(text);
      if (odd) {
        add(selectorPath, `rule ${i}: ${odd.message} (at character ${odd.position})`, { rule_index: i, position: odd.position });
      } else {
        try {
          const selector = parseSelector(text);
          selectors[j] = selector;
          for (const problem of selectorProblems(selector, text)) {
            add(selectorPath, `rule ${i}: ${problem.message} (at character ${problem.position})`, { rule_index: i, position: problem.position });
          }
        } catch (e) {
          if (!(e instanceof SelectorSyntaxError)) throw e;
          add(selectorPath, `rule ${i}: invalid selector: ${e.message}`, { rule_index: i, position: e.position });
        }
      }
    }
    if (typeof rule.value === 'string' && rule.value.length > 0 && rule.value.length <= MAX_VALUE_LENGTH) {
      const valueProblem = valueProblemFor(kinds, rule.value);
      if (valueProblem) add(['dataplane_iam_mapping', 'rules', i, 'value'], `rule ${i}: value ${valueProblem}`, { rule_index: i });
    }
  });
  return selectors;
}

/** The value's problem for its kind; for several possible kinds, a problem only when none would take it. */
function valueProblemFor(kinds: ReadonlyArray<{ provider: CloudProvider; stack: ComputeStack }>, value: string): string | null {
  const problems = kinds.map((k) => checkValue(k.provider, k.stack, value));
  if (problems.some((p) => p === null)) return null;
  const distinct = [...new Set(problems)];
  if (distinct.length === 1) return distinct[0]!;
  return (
    `${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)} is not a valid identity for any cloud_provider and compute_stack ` +
    '(a Kubernetes service-account name, an IAM instance profile name or a Google Cloud service-account e-mail)'
  );
}

// Lone combining marks (U+034F, the Hangul fillers) are listed on purpose: each is invisible by itself.
// eslint-disable-next-line no-misleading-character-class
const INVISIBLE = /[\u00a0\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\u3164\ufeff\uffa0]/u;

/**
 * Characters a selector may not hold: quotes (values are written bare: `user=a@example.com`),
 * invisible or non-breaking spaces, and any other non-ASCII character (a Cyrillic `а` looks like
 * a Latin `a` but never matches it). Every selector key and value is plain ASCII.
 */
function oddCharacter(text: string): SelectorProblem | undefined {
  const quote = /["'\u2018\u2019\u201c\u201d`]/u.exec(text);
  if (quote) {
    return {
      message: `selector values are written without quotes: remove the ${quote[0]} characters (e.g. user=a@example.com, not user="a@example.com")`,
      position: quote.index,
    };
  }
  for (let i = 0; i < text.length; i++) {
    const code = text.codePointAt(i)!;
    if (code >= 0x20 && code < 0x7f) continue;
    const ch = String.fromCodePoint(code);
    const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
    if (INVISIBLE.test(ch) || code < 0x20 || code === 0x7f) {
      return {
        message: `the selector contains an invisible or non-breaking character ${hex} (often pasted from a document); delete it and retype the space or text around it`,
        position: i,
      };
    }
    return {
      message: `the selector contains the non-ASCII character ${JSON.stringify(ch)} (${hex}), which may look like an ASCII letter but never matches one; selector keys and values are plain ASCII — retype it`,
      position: i,
    };
  }
  return undefined;
}

/** `user=Bob@Example.COM`: the service compares users exactly, and Anyscale sends e-mails in lower case — a warning naming the value to use. */
function emailCaseWarnings(selectors: ReadonlyArray<Selector | undefined>): LintWarning[] {
  const out: LintWarning[] = [];
  selectors.forEach((selector, i) => {
    for (const r of selector?.requirements ?? []) {
      if (r.key !== 'user') continue;
      for (const v of r.values) {
        if (v.includes('@') && v !== v.toLowerCase()) {
          out.push({
            code: 'EMAIL_CASE',
            path: formatPath(['dataplane_iam_mapping', 'rules', i, 'selector']),
            rule_index: i,
            message: `rule ${i}: user ${v} has capital letters; users are compared exactly and launches carry lower-case e-mails, so write ${v.toLowerCase()}`,
          });
        }
      }
    }
  });
  return out;
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
