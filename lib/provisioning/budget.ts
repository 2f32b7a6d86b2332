import type { ErrorDetail } from '../errors.js';
import { PlanError } from './errors.js';
import { globMatch, hasWildcard } from './glob.js';
import { oneOrList, policySize, type PolicyDocument, type PolicyStatement, type PolicyValue } from './policies.js';

/**
 * Trust-policy size budget. IAM caps a role trust policy at 2,048 characters without whitespace
 * (quota `ACLSizePerRole`, raisable to 4,096). A role trusted by many namespaces outgrows it —
 * Kubeflow hit this at about 30 profiles (kubeflow/kubeflow#6687).
 *
 * Measured (test/provisioning/budget.test.ts): one cluster with a typical EKS issuer
 * (`oidc.eks.us-west-2.amazonaws.com/id/<32 hex>`, 12-digit account) and SA `default-editor`:
 * 32 namespaces of 10 characters fit in 2,048 (30 of 12 — Kubeflow's ~30 —, 35 of 6, 26 of 20);
 * 73 of 10 characters in 4,096; 12 when two clusters are trusted. Each extra namespace costs
 * `len(ns) + len(sa) + 26` characters on top of ~460 per cluster statement.
 *
 * When a document is over its quota we compact it WITHOUT changing what it allows: duplicate
 * statements and values go, statements that differ in just one any-of list are merged into one
 * statement with the union of that list (S1 ∨ S2 ≡ merged: exact, not wider), exact subjects that a
 * wildcard of the same `StringLike` list already matches go, single-element lists become scalars.
 * We never invent a wildcard; when compaction is not enough, planning fails with a PlanError.
 */
export const TRUST_POLICY_QUOTA_DEFAULT = 2048;
export const TRUST_POLICY_QUOTA_MAX = 4096;
export const TRUST_POLICY_QUOTA_MIN = 1024;

export interface FittedPolicy {
  document: PolicyDocument;
  /** Size of `document` as IAM counts it. */
  size: number;
  /** Size before compaction. */
  originalSize: number;
  compacted: boolean;
}

export interface FitOptions {
  roleName: string;
  document: PolicyDocument;
  quota: number;
  /** ErrorDetail path of the config field to change (e.g. `provisioning.service_accounts.x.namespaces`). */
  path?: string;
  /** Extra advice inserted after "split namespaces across service accounts", e.g. "(about 33 fit per role here)". */
  hint?: string | (() => string);
}

const fmt = (n: number): string => n.toLocaleString('en-US');

export function trustPolicyTooLargeMessage(roleName: string, size: number, quota: number, hint?: string): string {
  const split = `split namespaces across service accounts${hint ? ` ${hint}` : ''}`;
  const raise =
    quota >= TRUST_POLICY_QUOTA_MAX
      ? `(${fmt(TRUST_POLICY_QUOTA_MAX)} is IAM's maximum)`
      : `or raise trust_policy_quota (up to ${fmt(TRUST_POLICY_QUOTA_MAX)}) after requesting an IAM quota increase`;
  const sep = quota >= TRUST_POLICY_QUOTA_MAX ? ' or use an explicit wildcard subject ' : ', use an explicit wildcard subject, ';
  return `role ${roleName} trust policy is ${fmt(size)} characters, over the quota of ${fmt(quota)} (ACLSizePerRole); ${split}${sep}${raise}`;
}

/** Returns the document (compacted only if needed) within `quota`, or throws PlanError. */
export function fitTrustPolicy(options: FitOptions): FittedPolicy {
  const { roleName, document, quota } = options;
  const originalSize = policySize(document);
  if (originalSize <= quota) return { document, size: originalSize, originalSize, compacted: false };
  const compacted = compactPolicy(document);
  const size = policySize(compacted);
  if (size <= quota) return { document: compacted, size, originalSize, compacted: true };
  const hint = typeof options.hint === 'function' ? options.hint() : options.hint;
  const message = trustPolicyTooLargeMessage(roleName, size, quota, hint);
  const details: ErrorDetail[] = [{ path: options.path ?? 'provisioning', message, role: roleName, size, quota }];
  throw new PlanError(message, details);
}

// ---------------------------------------------------------------------------------------------
// Compaction

// Positive any-of operators: a key's condition holds iff some listed value matches, so the union
// of two lists is the disjunction of the two conditions. (Negated and ForAllValues operators are not.)
const UNION_SAFE = /^(?:ForAnyValue:)?(?:StringEquals|StringLike|StringEqualsIgnoreCase)(?:IfExists)?$/;
const LIKE = /^(?:ForAnyValue:)?StringLike(?:IfExists)?$/;
const isLiteral = (v: string): boolean => !hasWildcard(v) && !v.includes('$');

interface CondEntry {
  op: string;
  key: string;
  values: string[];
}

interface Canon {
  st: PolicyStatement;
  opaque: boolean;
  principal: '*' | Map<string, string[]> | undefined;
  action: string[] | undefined;
  resource: string[] | undefined;
  conds: CondEntry[];
}

const toList = (v: PolicyValue | undefined): string[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v.map(String) : [String(v)]);
const uniq = (xs: readonly string[]): string[] => [...new Set(xs)];
const sameSet = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean => {
  if (a === undefined || b === undefined) return a === b;
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
};

function canon(st: PolicyStatement): Canon {
  const known = new Set(['Sid', 'Effect', 'Principal', 'Action', 'Resource', 'Condition']);
  let opaque = Object.keys(st).some((k) => !known.has(k)) || (st.Effect !== 'Allow' && st.Effect !== 'Deny');
  let principal: Canon['principal'];
  if (st.Principal === '*') principal = '*';
  else if (st.Principal && typeof st.Principal === 'object') {
    principal = new Map(Object.entries(st.Principal).map(([t, v]) => [t, toList(v) ?? []]));
  } else if (st.Principal !== undefined) opaque = true;
  const conds: CondEntry[] = [];
  if (st.Condition !== undefined) {
    if (st.Condition === null || typeof st.Condition !== 'object') opaque = true;
    else
      for (const [op, entries] of Object.entries(st.Condition)) {
        if (entries === null || typeof entries !== 'object') {
          opaque = true;
          continue;
        }
        for (const [key, v] of Object.entries(entries)) conds.push({ op, key, values: toList(v as PolicyValue) ?? [] });
      }
  }
  return { st, opaque, principal, action: toList(st.Action), resource: toList(st.Resource), conds };
}

type Dim =
  | { kind: 'principal'; type: string }
  | { kind: 'action' }
  | { kind: 'resource' }
  | { kind: 'cond'; op: string; key: string }
  | { kind: 'convert'; key: string; likeOp: string; equalsOp: string };

/** The single any-of dimension in which a and b differ (null: identical), or 'no' when they cannot merge. */
function difference(a: Canon, b: Canon): Dim | null | 'no' {
  if (a.opaque || b.opaque || a.st.Effect !== b.st.Effect) return 'no';
  const dims: Dim[] = [];
  if (a.principal === '*' || b.principal === '*' || a.principal === undefined || b.principal === undefined) {
    if (a.principal !== b.principal) return 'no';
  } else {
    const types = uniq([...a.principal.keys(), ...b.principal.keys()]);
    for (const t of types) {
      const av = a.principal.get(t);
      const bv = b.principal.get(t);
      if (av === undefined || bv === undefined) return 'no';
      if (!sameSet(av, bv)) dims.push({ kind: 'principal', type: t });
    }
  }
  if ((a.action === undefined) !== (b.action === undefined)) return 'no';
  if (!sameSet(a.action, b.action)) dims.push({ kind: 'action' });
  if ((a.resource === undefined) !== (b.resource === undefined)) return 'no';
  if (!sameSet(a.resource, b.resource)) dims.push({ kind: 'resource' });
  const id = (c: CondEntry) => `${c.op}\u0000${c.key}`;
  const am = new Map(a.conds.map((c) => [id(c), c]));
  const bm = new Map(b.conds.map((c) => [id(c), c]));
  if (am.size !== a.conds.length || bm.size !== b.conds.length) return 'no';
  const onlyA = a.conds.filter((c) => !bm.has(id(c)));
  const onlyB = b.conds.filter((c) => !am.has(id(c)));
  for (const c of a.conds) {
    const other = bm.get(id(c));
    if (other && !sameSet(c.values, other.values)) dims.push({ kind: 'cond', op: c.op, key: c.key });
  }
  if (onlyA.length > 0 || onlyB.length > 0) {
    // Only one shape difference is mergeable: `StringEquals: {k: literals}` vs `StringLike: {k: ...}`.
    if (onlyA.length !== 1 || onlyB.length !== 1) return 'no';
    const [x, y] = [onlyA[0] as CondEntry, onlyB[0] as CondEntry];
    if (x.key !== y.key) return 'no';
    const like = LIKE.test(x.op) ? x : LIKE.test(y.op) ? y : undefined;
    const equals = like === x ? y : x;
    if (!like || equals.op !== like.op.replace('Like', 'Equals') || !equals.values.every(isLiteral)) return 'no';
    dims.push({ kind: 'convert', key: x.key, likeOp: like.op, equalsOp: equals.op });
  }
  if (dims.length === 0) return null;
  if (dims.length > 1) return 'no';
  const d = dims[0] as Dim;
  if (d.kind === 'cond' && !UNION_SAFE.test(d.op)) return 'no';
  return d;
}

function merge(a: Canon, b: Canon, d: Dim): PolicyStatement {
  const st = structuredClone(a.st);
  switch (d.kind) {
    case 'principal': {
      const p = st.Principal as Record<string, PolicyValue>;
      p[d.type] = uniq([...(toList(p[d.type]) ?? []), ...((b.principal as Map<string, string[]>).get(d.type) ?? [])]);
      break;
    }
    case 'action':
      st.Action = uniq([...(a.action ?? []), ...(b.action ?? [])]);
      break;
    case 'resource':
      st.Resource = uniq([...(a.resource ?? []), ...(b.resource ?? [])]);
      break;
    case 'cond': {
      const block = (st.Condition as Record<string, Record<string, PolicyValue>>)[d.op] as Record<string, PolicyValue>;
      const other = b.conds.find((c) => c.op === d.op && c.key === d.key) as CondEntry;
      block[d.key] = uniq([...(toList(block[d.key]) ?? []), ...other.values]);
      break;
    }
    case 'convert': {
      const all = [...a.conds, ...b.conds].filter((c) => c.key === d.key && (c.op === d.likeOp || c.op === d.equalsOp));
      const cond = st.Condition as Record<string, Record<string, PolicyValue>>;
      const eq = cond[d.equalsOp];
      if (eq && Object.hasOwn(eq, d.key)) {
        delete eq[d.key];
        if (Object.keys(eq).length === 0) delete cond[d.equalsOp];
      }
      cond[d.likeOp] = { ...(cond[d.likeOp] ?? {}), [d.key]: uniq(all.flatMap((c) => c.values)) };
      break;
    }
  }
  return st;
}

/** Drops duplicate and subsumed values; single-element lists become scalars. Same meaning. */
function tidy(st: PolicyStatement): PolicyStatement {
  const c = canon(st);
  if (c.opaque) return st;
  const out = structuredClone(st);
  if (c.action) out.Action = oneOrList(uniq(c.action));
  if (c.resource) out.Resource = oneOrList(uniq(c.resource));
  if (c.principal instanceof Map) {
    const p: Record<string, PolicyValue> = {};
    for (const [t, v] of c.principal) p[t] = oneOrList(uniq(v));
    out.Principal = p;
  }
  if (out.Condition) {
    for (const [op, entries] of Object.entries(out.Condition)) {
      for (const [key, v] of Object.entries(entries)) {
        let values = uniq(toList(v) ?? []);
        if (LIKE.test(op)) {
          const patterns = values.filter((x) => !isLiteral(x));
          values = values.filter((x) => !isLiteral(x) || !patterns.some((p) => !p.includes('$') && globMatch(p, x)));
        }
        entries[key] = values.length === 0 ? [] : oneOrList(values);
      }
    }
  }
  return out;
}

/** An equivalent (never wider, never narrower) and usually smaller policy document. */
export function compactPolicy(doc: PolicyDocument): PolicyDocument {
  let statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement as unknown as PolicyStatement]).map(tidy);
  for (let changed = true; changed; ) {
    changed = false;
    const out: Canon[] = [];
    for (const st of statements) {
      const c = canon(st);
      let merged = false;
      for (let i = 0; i < out.length && !merged; i++) {
        const d = difference(out[i] as Canon, c);
        if (d === 'no') continue;
        if (d !== null) out[i] = canon(merge(out[i] as Canon, c, d));
        merged = true;
        changed = true;
      }
      if (!merged) out.push(c);
    }
    statements = out.map((c) => c.st);
  }
  return { ...doc, Statement: statements.map(tidy) };
}
