/**
 * What changed in a role's trust policy, compared with the planned one (pure).
 *
 * Statements are compared in canonical form (lib/policy-compare.ts: order, single value vs list,
 * whitespace, key order and Sids do not matter). Statements that differ are classified:
 * - an Allow for the planned OIDC provider(s) and sts:AssumeRoleWithWebIdentity ("provider
 *   statement"): its `sub`/`aud` conditions are compared as sets of patterns → widened /
 *   narrowed / aud-removed;
 * - any other Allow (another principal, provider or account) → foreign statement;
 * - an added Deny → narrowed;
 * - a planned statement (e.g. the EC2 trust of a VM role) that is gone → narrowed.
 * A difference that fits none of these (e.g. a statement split in two that grants the same) is
 * reported as `trust-policy-changed` (low).
 */
import type { Json } from '../json.js';
import { normalisePolicy, policiesEqual } from '../policy-compare.js';
import type { ObservedPolicy } from '../ports.js';
import { globMatch, hasWildcard } from '../provisioning/glob.js';
import { STS_AUDIENCE, WEB_IDENTITY_ACTION, type TrustCluster } from '../provisioning/policies.js';
import { asList, clip, describePrincipal, describeStatement, describeSubject, listText } from './describe.js';
import type { DriftKind } from './kinds.js';

type Stmt = Record<string, Json>;

export interface TrustFinding {
  kind: DriftKind;
  severity?: 'critical' | 'high' | 'medium' | 'low';
  expected: unknown;
  actual: unknown;
  message: string;
}

interface Subject {
  value: string;
  /** StringLike (wildcards match) vs StringEquals (literal). */
  like: boolean;
}

interface Grant {
  subjects: Subject[];
  /** null: no aud condition at all. */
  audiences: string[] | null;
  /** Conditions other than sub/aud with the supported operators (`Op key`). */
  other: string[];
}

const statementsOf = (doc: ObservedPolicy): Stmt[] =>
  ((normalisePolicy(doc) as { Statement?: Json[] }).Statement ?? []).filter((s): s is Stmt => s !== null && typeof s === 'object' && !Array.isArray(s));

const key = (s: Stmt) => JSON.stringify(s);

/** Providers of an Allow statement that only names Federated principals and grants web identity. */
function providerStatement(st: Stmt, providers: ReadonlySet<string>): { providers: string[]; extraActions: string[] } | null {
  if (st.Effect !== 'Allow' || st.NotPrincipal !== undefined || st.NotAction !== undefined) return null;
  const p = st.Principal;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return null;
  const types = Object.keys(p);
  if (types.length !== 1 || types[0] !== 'Federated') return null;
  const feds = asList(p.Federated);
  if (feds.length === 0 || !feds.every((f) => providers.has(f))) return null;
  const actions = asList(st.Action);
  const web = WEB_IDENTITY_ACTION.toLowerCase();
  if (!actions.some((a) => globMatch(a.toLowerCase(), web))) return null;
  return { providers: feds, extraActions: actions.filter((a) => a.toLowerCase() !== web) };
}

function grantOf(st: Stmt, issuerHost: string): Grant {
  const subKey = `${issuerHost}:sub`.toLowerCase();
  const audKey = `${issuerHost}:aud`.toLowerCase();
  let subjects: Subject[] | null = null;
  let audiences: string[] | null = null;
  const other: string[] = [];
  const cond = st.Condition;
  if (cond !== undefined && cond !== null && typeof cond === 'object' && !Array.isArray(cond)) {
    for (const [op, entries] of Object.entries(cond)) {
      if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) {
        other.push(op);
        continue;
      }
      for (const [k, raw] of Object.entries(entries)) {
        const lk = k.toLowerCase();
        const values = asList(raw);
        if (lk === subKey && (op === 'StringEquals' || op === 'StringLike')) {
          subjects = [...(subjects ?? []), ...values.map((value) => ({ value, like: op === 'StringLike' }))];
        } else if (lk === audKey && (op === 'StringEquals' || op === 'StringLike')) {
          audiences = [...(audiences ?? []), ...values];
        } else other.push(`${op} ${k}`);
      }
    }
  }
  return { subjects: subjects ?? [{ value: '*', like: true }], audiences, other };
}

/** Does pattern `q` allow every subject that `s` allows? (Conservative for exotic globs.) */
function covers(q: Subject, s: Subject): boolean {
  const qWild = q.like && hasWildcard(q.value);
  const sWild = s.like && hasWildcard(s.value);
  if (!qWild) return !sWild && q.value === s.value;
  if (!sWild) return globMatch(q.value, s.value);
  // Both patterns: q covers s when q matches s read literally and q has no `?` (which could
  // consume one of s's `*` while that `*` stands for any run).
  return q.value === s.value || (!q.value.includes('?') && globMatch(q.value, s.value));
}

const coveredBy = (s: Subject, set: readonly Subject[]) => set.some((q) => covers(q, s));
const subjectText = (s: Subject) => (s.value === '*' && s.like ? '(any)' : s.value);
const subjectsText = (list: readonly Subject[]) => listText(list.map(subjectText), 6);
const subjectWords = (list: readonly Subject[]) =>
  listText(
    list.map((s) => describeSubject(s.value, s.like)),
    4,
  );

const uniqSubjects = (list: Subject[]): Subject[] => {
  const seen = new Map<string, Subject>();
  for (const s of list) seen.set(`${s.like}\u0000${s.value}`, s);
  return [...seen.values()];
};

export function analyseTrust(roleName: string, expected: ObservedPolicy, actual: ObservedPolicy, clusters: readonly TrustCluster[]): TrustFinding[] {
  if (policiesEqual(expected, actual)) return [];
  const findings: TrustFinding[] = [];
  const expStmts = statementsOf(expected);
  const actStmts = statementsOf(actual);
  const expKeys = new Set(expStmts.map(key));
  const actKeys = new Set(actStmts.map(key));
  const providers = new Set(clusters.map((c) => c.oidcProviderArn));
  const multiCluster = clusters.length > 1;

  // Statements of the plan that are not provider statements (e.g. the EC2 trust of a VM role).
  for (const st of expStmts) {
    if (providerStatement(st, providers)) continue;
    if (!actKeys.has(key(st))) {
      findings.push({
        kind: 'trust-policy-narrowed',
        expected: describeStatement(st),
        actual: 'statement removed',
        message: `trust policy of role ${roleName} no longer has the statement "${describeStatement(st)}": the role cannot be assumed as configured`,
      });
    }
  }

  // Statements not in the plan that are not provider statements: foreign Allows, added Denies.
  for (const st of actStmts) {
    if (expKeys.has(key(st)) || providerStatement(st, providers)) continue;
    if (st.Effect === 'Deny') {
      findings.push({
        kind: 'trust-policy-narrowed',
        expected: 'no Deny statement',
        actual: clip(describeStatement(st), 300),
        message: `trust policy of role ${roleName} has a Deny statement the service did not write: ${clip(describeStatement(st), 240)}`,
      });
      continue;
    }
    const principal =
      st.Principal !== undefined
        ? describePrincipal(st.Principal)
        : st.NotPrincipal !== undefined
          ? `everyone except ${describePrincipal(st.NotPrincipal)}`
          : 'an unspecified principal';
    const actions = st.Action !== undefined ? listText(asList(st.Action), 4) : `everything except ${listText(asList(st.NotAction), 4)}`;
    findings.push({
      kind: 'trust-policy-foreign-statement',
      expected: 'only the configured cluster OIDC provider(s)',
      actual: clip(JSON.stringify(st), 500),
      message:
        `trust policy of role ${roleName} has a statement the service did not write: it lets ${principal} ${actions}` +
        `${st.Condition !== undefined ? ` when ${clip(JSON.stringify(st.Condition), 160)}` : ' without conditions'}`,
    });
  }

  // Provider statements, per planned OIDC provider.
  for (const cluster of clusters) {
    const arn = cluster.oidcProviderArn;
    const where = multiCluster ? ` for cluster ${cluster.name}` : '';
    const expGrants = expStmts.filter((st) => providerStatement(st, providers)?.providers.includes(arn)).map((st) => grantOf(st, cluster.issuerHost));
    if (expGrants.length === 0) continue;
    const actProvider = actStmts.map((st) => ({ st, p: providerStatement(st, providers) })).filter((x) => x.p?.providers.includes(arn));
    const actGrants = actProvider.map((x) => grantOf(x.st, cluster.issuerHost));
    const expSubs = uniqSubjects(expGrants.flatMap((g) => g.subjects));
    if (actGrants.length === 0) {
      findings.push({
        kind: 'trust-policy-narrowed',
        expected: subjectsText(expSubs),
        actual: 'no statement for the OIDC provider',
        message: `trust policy of role ${roleName} no longer trusts the OIDC provider of cluster ${cluster.name} (${arn}): ${subjectWords(expSubs)} cannot assume the role`,
      });
      continue;
    }
    const actSubs = uniqSubjects(actGrants.flatMap((g) => g.subjects));
    const widened = actSubs.filter((s) => !coveredBy(s, expSubs));
    const narrowed = expSubs.filter((s) => !coveredBy(s, actSubs));
    if (widened.length > 0) {
      const wild = widened.some((s) => s.like && hasWildcard(s.value));
      const subs = widened.map((s) => (s.value === '*' && s.like ? 'no sub condition' : `sub ${s.value}`)).join(', ');
      findings.push({
        kind: 'trust-policy-widened',
        severity: wild ? 'critical' : 'high',
        expected: subjectsText(expSubs),
        actual: subjectsText(actSubs),
        message: `trust policy of role ${roleName} now allows ${subjectWords(widened)} (${clip(subs, 200)})${where} — was only ${subjectWords(expSubs)}`,
      });
    }
    if (narrowed.length > 0) {
      findings.push({
        kind: 'trust-policy-narrowed',
        expected: subjectsText(expSubs),
        actual: subjectsText(actSubs),
        message: `trust policy of role ${roleName} no longer allows ${subjectWords(narrowed)}${where}: those workloads cannot assume the role`,
      });
    }
    const noAud = actGrants.some((g) => g.audiences === null);
    if (noAud) {
      findings.push({
        kind: 'trust-policy-aud-removed',
        expected: `${cluster.issuerHost}:aud = ${STS_AUDIENCE}`,
        actual: 'no aud condition',
        message: `trust policy of role ${roleName} no longer checks the token audience (${cluster.issuerHost}:aud)${where}: a token of ${subjectWords(actSubs)} issued for any audience is accepted, not only one for ${STS_AUDIENCE}`,
      });
    }
    const extraAud = [...new Set(actGrants.flatMap((g) => g.audiences ?? []).filter((a) => a !== STS_AUDIENCE))];
    if (extraAud.length > 0) {
      findings.push({
        kind: 'trust-policy-widened',
        severity: 'high',
        expected: `aud ${STS_AUDIENCE}`,
        actual: `aud ${listText(extraAud, 4)}`,
        message: `trust policy of role ${roleName} now also accepts tokens for audience ${listText(extraAud, 4)}${where} — was only ${STS_AUDIENCE}`,
      });
    }
    const extraActions = [...new Set(actProvider.flatMap((x) => x.p?.extraActions ?? []))];
    if (extraActions.length > 0) {
      findings.push({
        kind: 'trust-policy-widened',
        severity: 'high',
        expected: WEB_IDENTITY_ACTION,
        actual: listText(extraActions, 4),
        message: `trust policy of role ${roleName} now also allows ${listText(extraActions, 4)} to the OIDC provider of cluster ${cluster.name} — was only ${WEB_IDENTITY_ACTION}`,
      });
    }
    const expOther = new Set(expGrants.flatMap((g) => g.other));
    const addedOther = [...new Set(actGrants.flatMap((g) => g.other))].filter((o) => !expOther.has(o));
    if (addedOther.length > 0) {
      findings.push({
        kind: 'trust-policy-changed',
        severity: 'medium',
        expected: 'conditions on aud and sub only',
        actual: listText(addedOther, 4),
        message: `trust policy of role ${roleName} has conditions the service did not write (${listText(addedOther, 4)})${where}; they may keep configured workloads out`,
      });
    }
  }

  if (findings.length === 0) {
    findings.push({
      kind: 'trust-policy-changed',
      expected: clip(JSON.stringify(normalisePolicy(expected)), 500),
      actual: clip(JSON.stringify(normalisePolicy(actual)), 500),
      message: `trust policy of role ${roleName} was rewritten in a different form that grants no more than the plan (e.g. statements split or Version changed)`,
    });
  }
  return findings;
}
