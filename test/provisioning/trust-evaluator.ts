import { globMatch } from '../../lib/provisioning/glob.js';
import { ASSUME_ROLE_ACTION, WEB_IDENTITY_ACTION, type PolicyDocument, type PolicyStatement, type PolicyValue } from '../../lib/provisioning/policies.js';

/**
 * A small evaluator of IAM role trust policies, enough to prove what a generated policy allows:
 * - an explicit Deny that applies wins; otherwise an Allow that applies allows; otherwise denied;
 * - a statement applies when its Action (NotAction), Principal (NotPrincipal) and every condition
 *   hold: operators AND, keys within an operator AND, values of one key OR (any-of);
 * - operators: String(Not)Equals, String(Not)EqualsIgnoreCase, String(Not)Like (`*`, `?`), Null,
 *   each with an optional `IfExists` suffix and `ForAnyValue:` / `ForAllValues:` prefix;
 *   condition keys are case-insensitive, values case-sensitive (except the IgnoreCase operators);
 * - anything it does not understand makes an Allow statement not apply and a Deny statement
 *   apply: it errs towards "denied", never towards "allowed".
 */
export interface TrustRequest {
  action: string;
  principal: { type: 'Federated' | 'Service' | 'AWS'; id: string };
  /** Request context: condition key → value(s). Keys compare case-insensitively. */
  context: Readonly<Record<string, string | readonly string[]>>;
}

export interface WebIdentityRequest {
  /** ARN of the OIDC provider that vouches for the token. */
  federatedPrincipal: string;
  claims: { aud: string; sub: string };
  /** Issuer of the token without `https://`; the claims appear as `<issuerHost>:aud`/`:sub`. */
  issuerHost: string;
}

export function canAssumeWithWebIdentity(policy: PolicyDocument, request: WebIdentityRequest): boolean {
  return isAllowed(policy, {
    action: WEB_IDENTITY_ACTION,
    principal: { type: 'Federated', id: request.federatedPrincipal },
    context: { [`${request.issuerHost}:aud`]: request.claims.aud, [`${request.issuerHost}:sub`]: request.claims.sub },
  });
}

/** Whether the AWS service (e.g. `ec2.amazonaws.com`) may `sts:AssumeRole` the role. */
export function canAssumeAsService(policy: PolicyDocument, service: string): boolean {
  return isAllowed(policy, { action: ASSUME_ROLE_ACTION, principal: { type: 'Service', id: service }, context: {} });
}

export function isAllowed(policy: PolicyDocument, request: TrustRequest): boolean {
  const statements = Array.isArray(policy?.Statement) ? policy.Statement : [policy?.Statement as unknown as PolicyStatement];
  let allowed = false;
  for (const st of statements) {
    if (st == null || typeof st !== 'object') continue;
    if (st.Effect === 'Deny') {
      if (applies(st, request, true)) return false;
    } else if (st.Effect === 'Allow') {
      if (!allowed && applies(st, request, false)) allowed = true;
    }
  }
  return allowed;
}

type Tri = boolean | 'unknown';

/** `unknownMeans`: what an unsupported construct counts as (true for Deny, false for Allow). */
function applies(st: PolicyStatement, req: TrustRequest, unknownMeans: boolean): boolean {
  const checks: Tri[] = [actionMatches(st, req.action), principalMatches(st, req.principal), conditionsHold(st.Condition, req.context)];
  if (checks.includes(false)) return false;
  if (checks.includes('unknown')) return unknownMeans;
  return true;
}

const list = (v: PolicyValue | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function actionMatches(st: PolicyStatement, action: string): Tri {
  const hit = (patterns: string[]) => patterns.some((p) => globMatch(p.toLowerCase(), action.toLowerCase()));
  if (st.Action !== undefined && st.NotAction !== undefined) return 'unknown';
  if (st.Action !== undefined) return hit(list(st.Action));
  if (st.NotAction !== undefined) return !hit(list(st.NotAction));
  return 'unknown';
}

function principalMatches(st: PolicyStatement, principal: TrustRequest['principal']): Tri {
  const hit = (p: PolicyStatement['Principal']): boolean => {
    if (p === '*') return true;
    if (p === null || typeof p !== 'object') return false;
    const ids = Object.hasOwn(p, principal.type) ? list(p[principal.type]) : [];
    return ids.includes(principal.id) || (principal.type === 'AWS' && ids.includes('*'));
  };
  if (st.Principal !== undefined && st.NotPrincipal !== undefined) return 'unknown';
  if (st.Principal !== undefined) return hit(st.Principal);
  if (st.NotPrincipal !== undefined) return !hit(st.NotPrincipal);
  return 'unknown'; // a trust policy statement without a principal is malformed
}

const OPERATOR =
  /^(?:(ForAnyValue|ForAllValues):)?(StringEquals|StringNotEquals|StringEqualsIgnoreCase|StringNotEqualsIgnoreCase|StringLike|StringNotLike|Null)(IfExists)?$/;

function conditionsHold(condition: PolicyStatement['Condition'], context: TrustRequest['context']): Tri {
  if (condition === undefined) return true;
  if (condition === null || typeof condition !== 'object') return 'unknown';
  const lookup = new Map<string, readonly string[]>();
  for (const [k, v] of Object.entries(context)) lookup.set(k.toLowerCase(), typeof v === 'string' ? [v] : v);
  let result: Tri = true;
  for (const [operator, entries] of Object.entries(condition)) {
    const m = OPERATOR.exec(operator);
    if (!m || entries === null || typeof entries !== 'object') {
      result = 'unknown';
      continue;
    }
    const [, setOp, base, ifExists] = m as unknown as [string, string | undefined, string, string | undefined];
    for (const [key, raw] of Object.entries(entries)) {
      const wanted = list(raw);
      const actual = lookup.get(key.toLowerCase());
      const ok = keyHolds(setOp, base, ifExists !== undefined, wanted, actual);
      if (!ok) return false;
    }
  }
  return result;
}

function keyHolds(setOp: string | undefined, base: string, ifExists: boolean, wanted: string[], actual: readonly string[] | undefined): boolean {
  const present = actual !== undefined && actual.length > 0;
  if (base === 'Null') {
    const expectAbsent = wanted.map((w) => w.toLowerCase()).includes('true');
    const expectPresent = wanted.map((w) => w.toLowerCase()).includes('false');
    return present ? expectPresent : expectAbsent;
  }
  const negated = base.includes('Not');
  const positive = base.replace('Not', '');
  const matchOne = (c: string): boolean => {
    switch (positive) {
      case 'StringEquals':
        return wanted.includes(c);
      case 'StringEqualsIgnoreCase':
        return wanted.some((w) => w.toLowerCase() === c.toLowerCase());
      default: // StringLike
        return wanted.some((w) => globMatch(w, c));
    }
  };
  if (!present) {
    if (setOp === 'ForAllValues') return true;
    if (setOp === 'ForAnyValue') return false;
    return ifExists || negated;
  }
  const values = actual;
  const holds = (c: string) => (negated ? !matchOne(c) : matchOne(c));
  if (setOp === 'ForAllValues') return values.every(holds);
  if (setOp === 'ForAnyValue') return values.some(holds);
  // Single-valued use: positive operators match if any value matches, negated if none does.
  return negated ? values.every(holds) : values.some(holds);
}
