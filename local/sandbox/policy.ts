/** IAM policy-document grammar checks and size accounting, close to what IAM enforces. */
import { malformedPolicy } from './iam-errors.js';
import { isPlainObject, shown } from './util.js';

export type PolicyKind = 'trust' | 'identity';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: Record<string, unknown>;
}

export interface PolicyDocument {
  Version: string;
  Id?: string;
  Statement: PolicyStatement[];
}

const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const TOP_LEVEL = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Principal', 'NotPrincipal', 'Condition']);

/** Size as IAM counts it for quotas: characters after removing all whitespace. */
export const policySize = (document: string): number => document.replace(/\s+/g, '').length;

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

function checkStringList(value: unknown, field: string): void {
  const list = asList(value);
  if (list.length === 0 || !list.every((v) => typeof v === 'string' && v.length > 0)) {
    throw malformedPolicy(`Syntax errors in policy. Field ${field} must be a non-empty string or list of strings.`);
  }
}

export interface ValidateOptions {
  /** Called for each `Federated` principal; return false to reject it as an invalid principal. */
  federatedPrincipalExists?: (principal: string) => boolean;
  /** Called for each `AWS` principal; return false to reject it as an invalid principal (IAM checks that a named role exists). */
  awsPrincipalExists?: (principal: string) => boolean;
}

/** Parses and validates a policy document; throws `MalformedPolicyDocument` the way IAM would. */
export function parsePolicyDocument(text: string, kind: PolicyKind, options: ValidateOptions = {}): PolicyDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformedPolicy('This policy contains invalid Json');
  }
  if (!isPlainObject(parsed)) throw malformedPolicy('Syntax errors in policy.');
  for (const key of Object.keys(parsed)) {
    if (!TOP_LEVEL.has(key)) throw malformedPolicy(`Syntax errors in policy. Unknown field ${key}`);
  }
  if (parsed.Version === undefined) throw malformedPolicy('Syntax errors in policy. Missing required field Version');
  if (typeof parsed.Version !== 'string' || !VERSIONS.has(parsed.Version)) throw malformedPolicy('The policy failed legacy parsing');
  if (parsed.Statement === undefined) throw malformedPolicy('Syntax errors in policy. Missing required field Statement');
  const statements = asList(parsed.Statement);
  if (statements.length === 0) throw malformedPolicy('Syntax errors in policy. Statement must not be empty');

  for (const s of statements) {
    if (!isPlainObject(s)) throw malformedPolicy('Syntax errors in policy.');
    for (const key of Object.keys(s)) {
      if (!STATEMENT_KEYS.has(key)) throw malformedPolicy(`Syntax errors in policy. Unknown field ${key}`);
    }
    if (s.Effect === undefined) throw malformedPolicy('Missing required field Effect');
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformedPolicy(`Invalid effect: ${shown(s.Effect)}`);
    if (s.Action === undefined && s.NotAction === undefined) throw malformedPolicy('Policy statement must contain actions.');
    if (s.Action !== undefined) checkStringList(s.Action, 'Action');
    if (s.NotAction !== undefined) checkStringList(s.NotAction, 'NotAction');
    if (s.Condition !== undefined && !isPlainObject(s.Condition)) throw malformedPolicy('Syntax errors in policy. Condition must be an object');

    if (kind === 'trust') {
      if (s.Resource !== undefined || s.NotResource !== undefined) throw malformedPolicy('Has prohibited field Resource');
      if (s.Principal === undefined && s.NotPrincipal === undefined) throw malformedPolicy('Missing required field Principal');
      const actions = asList(s.Action ?? s.NotAction) as string[];
      if (!actions.every((a) => a === '*' || a.toLowerCase().startsWith('sts:'))) {
        throw malformedPolicy('AssumeRole policy may only specify STS AssumeRole actions.');
      }
      checkPrincipal(s.Principal ?? s.NotPrincipal, options);
    } else {
      if (s.Principal !== undefined || s.NotPrincipal !== undefined) throw malformedPolicy('Policy document should not specify a principal.');
      if (s.Resource === undefined && s.NotResource === undefined) throw malformedPolicy('Policy statement must contain resources.');
      if (s.Resource !== undefined) checkStringList(s.Resource, 'Resource');
      if (s.NotResource !== undefined) checkStringList(s.NotResource, 'NotResource');
    }
  }
  return { ...(parsed as object), Statement: statements } as PolicyDocument;
}

function checkPrincipal(principal: unknown, options: ValidateOptions): void {
  if (principal === '*') return;
  if (!isPlainObject(principal) || Object.keys(principal).length === 0) throw malformedPolicy('Invalid principal in policy');
  for (const [type, value] of Object.entries(principal)) {
    if (!['AWS', 'Service', 'Federated', 'CanonicalUser'].includes(type)) throw malformedPolicy(`Invalid principal in policy: "${type}"`);
    checkStringList(value, `Principal.${type}`);
    if (type === 'AWS' && options.awsPrincipalExists) {
      for (const p of asList(value) as string[]) {
        if (!options.awsPrincipalExists(p)) throw malformedPolicy(`Invalid principal in policy: "AWS":"${p}"`);
      }
    }
    if (type === 'Federated' && options.federatedPrincipalExists) {
      for (const p of asList(value) as string[]) {
        if (!options.federatedPrincipalExists(p)) throw malformedPolicy(`Invalid principal in policy: "Federated":"${p}"`);
      }
    }
  }
}
