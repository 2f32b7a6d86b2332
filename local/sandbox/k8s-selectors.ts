/** Kubernetes label selectors (`a=b,c!=d,e in (x,y),!f`) and the metadata field selectors. */
import { badRequest, type K8sObject } from './k8s-resources.js';

type Matcher = (obj: K8sObject) => boolean;

/** Splits on commas that are not inside `( … )`. */
function splitRequirements(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

const KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const VALUE = String.raw`[-A-Za-z0-9_.]*`;
const EXISTS = new RegExp(`^(!?)\\s*(${KEY})$`);
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`);

export function parseLabelSelector(selector: string | null | undefined): Matcher {
  if (!selector) return () => true;
  const matchers = splitRequirements(selector).map((req): Matcher => {
    const labels = (obj: K8sObject) => obj.metadata.labels ?? {};
    let m = EQUALITY.exec(req);
    if (m) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      return op === '!=' ? (o) => labels(o)[key] !== value : (o) => labels(o)[key] === value;
    }
    m = SET.exec(req);
    if (m) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      const values = new Set(list.split(',').map((v) => v.trim()));
      return op === 'in'
        ? (o) => labels(o)[key] !== undefined && values.has(labels(o)[key] as string)
        : (o) => labels(o)[key] === undefined || !values.has(labels(o)[key] as string);
    }
    m = EXISTS.exec(req);
    if (m) {
      const [, not, key] = m as unknown as [string, string, string];
      return not ? (o) => !(key in labels(o)) : (o) => key in labels(o);
    }
    throw badRequest(`unable to parse requirement: found '${req}', expected: identifier or operator`);
  });
  return (obj) => matchers.every((match) => match(obj));
}

const FIELDS: Record<string, (obj: K8sObject) => string | undefined> = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => o.metadata.namespace,
};

export function parseFieldSelector(selector: string | null | undefined, kind: string): Matcher {
  if (!selector) return () => true;
  const matchers = splitRequirements(selector).map((req): Matcher => {
    const m = /^([a-zA-Z.]+)\s*(==|=|!=)\s*(.*)$/.exec(req);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${req}'`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const get = FIELDS[field];
    if (!get) throw badRequest(`field label not supported: ${field} for ${kind}`);
    return op === '!=' ? (o) => get(o) !== value : (o) => get(o) === value;
  });
  return (obj) => matchers.every((match) => match(obj));
}
