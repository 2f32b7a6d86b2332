/** Operator-facing descriptions of policy statements, subjects and principals (pure, short). */
import type { Json } from '../json.js';
import { hasWildcard } from '../provisioning/glob.js';

export const asList = (v: unknown): string[] =>
  v === undefined || v === null
    ? []
    : Array.isArray(v)
      ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))
      : [typeof v === 'string' ? v : JSON.stringify(v)];

/** `text` cut to `max` characters with an ellipsis. */
export function clip(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A list of short items joined, at most `max` shown. */
export function listText(items: readonly string[], max = 5): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} (+${items.length - max} more)`;
}

const SUBJECT = /^system:serviceaccount:([^:]*):(.*)$/;

/** `system:serviceaccount:ns:sa` in words: `ns/sa`, `any service account in namespace ns`, … */
export function describeSubject(pattern: string, like = true): string {
  if (pattern === '*' && like) return 'any subject of the cluster (no sub condition)';
  const m = SUBJECT.exec(pattern);
  if (!m) return like && hasWildcard(pattern) ? `subjects matching ${pattern}` : pattern;
  const [, ns, name] = m as unknown as [string, string, string];
  if (!like || !hasWildcard(pattern)) return `${ns}/${name}`;
  const anyNs = /^\*+$/.test(ns);
  const anyName = /^\*+$/.test(name);
  if (anyNs && anyName) return 'any service account in any namespace';
  if (anyNs && !hasWildcard(name)) return `service account ${name} in any namespace`;
  if (anyName && !hasWildcard(ns)) return `any service account in namespace ${ns}`;
  return `service accounts matching ${ns}/${name}`;
}

export function describePrincipal(principal: Json | undefined): string {
  if (principal === undefined) return 'no principal';
  if (principal === '*') return 'anyone (Principal "*")';
  if (principal === null || typeof principal !== 'object' || Array.isArray(principal)) return clip(JSON.stringify(principal), 120);
  const parts: string[] = [];
  for (const [type, value] of Object.entries(principal)) {
    const ids = asList(value);
    const what = type === 'AWS' ? 'AWS principal' : type === 'Federated' ? 'identity provider' : type === 'Service' ? 'service' : type;
    parts.push(`${what} ${listText(ids, 3)}`);
  }
  return parts.join(' and ');
}

/** `Allow s3:GetObject on arn:aws:s3:::b/*` (conditions appended in short form). */
export function describeStatement(st: Json): string {
  if (st === null || typeof st !== 'object' || Array.isArray(st)) return clip(JSON.stringify(st), 200);
  const s = st as Record<string, Json>;
  const effect = typeof s.Effect === 'string' ? s.Effect : '?';
  const actions =
    s.Action !== undefined ? listText(asList(s.Action), 4) : s.NotAction !== undefined ? `everything except ${listText(asList(s.NotAction), 4)}` : 'no action';
  const who =
    s.Principal !== undefined
      ? ` to ${describePrincipal(s.Principal)}`
      : s.NotPrincipal !== undefined
        ? ` to everyone except ${describePrincipal(s.NotPrincipal)}`
        : '';
  const on =
    s.Resource !== undefined
      ? ` on ${listText(asList(s.Resource), 3)}`
      : s.NotResource !== undefined
        ? ` on everything except ${listText(asList(s.NotResource), 3)}`
        : '';
  const cond = s.Condition !== undefined ? ` when ${clip(JSON.stringify(s.Condition), 160)}` : '';
  return `${effect} ${actions}${who}${on}${cond}`;
}

/** Compact JSON for `expected` / `actual`: the value itself when small, else a clipped string. */
export function small(value: unknown, max = 600): unknown {
  const text = JSON.stringify(value);
  if (text === undefined) return null;
  return text.length <= max ? value : clip(text, max);
}
