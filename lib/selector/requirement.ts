/**
 * A single label-selector requirement (port of `labels.Requirement`).
 */
import { SelectorSyntaxError } from './errors.js';
import { isLexableValue } from './lexer.js';
import { compareStrings, isValidLabelKey, parseInt64 } from './validation.js';

/** Operator spellings, identical to Kubernetes' `selection.Operator` values. */
export type Operator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

/** Kubernetes `selection` constant names. */
export const Operators = {
  DoesNotExist: '!',
  Equals: '=',
  DoubleEquals: '==',
  In: 'in',
  NotEquals: '!=',
  NotIn: 'notin',
  Exists: 'exists',
  GreaterThan: 'gt',
  LessThan: 'lt',
} as const satisfies Record<string, Operator>;

const OPERATOR_SET: ReadonlySet<string> = new Set(Object.values(Operators));

export type Labels = Readonly<Record<string, string>>;

/** Above this many values a Set is used for membership; at or below, a linear scan is faster. */
const SET_THRESHOLD = 4;

/** A compiled membership test for one requirement; allocation-free. */
export type Matcher = (labels: Labels) => boolean;

/**
 * Builds the specialised matcher for a (validated) requirement. Label lookup is `labels[key]` with a
 * `typeof === 'string'` test: absent keys and inherited `Object.prototype` members (functions) both
 * count as "no such label".
 */
function compile(key: string, operator: Operator, values: readonly string[]): Matcher {
  switch (operator) {
    case '=':
    case '==':
    case 'in': {
      if (values.length === 1) {
        const only = values[0]!;
        return (l) => l[key] === only;
      }
      if (values.length > SET_THRESHOLD) {
        const set: ReadonlySet<string> = new Set(values);
        return (l) => {
          const v = l[key];
          return typeof v === 'string' && set.has(v);
        };
      }
      return (l) => {
        const v = l[key];
        if (typeof v !== 'string') return false;
        for (let i = 0; i < values.length; i++) if (values[i] === v) return true;
        return false;
      };
    }
    case '!=':
    case 'notin': {
      if (values.length === 1) {
        const only = values[0]!;
        return (l) => {
          const v = l[key];
          return typeof v !== 'string' || v !== only;
        };
      }
      if (values.length > SET_THRESHOLD) {
        const set: ReadonlySet<string> = new Set(values);
        return (l) => {
          const v = l[key];
          return typeof v !== 'string' || !set.has(v);
        };
      }
      return (l) => {
        const v = l[key];
        if (typeof v !== 'string') return true;
        for (let i = 0; i < values.length; i++) if (values[i] === v) return false;
        return true;
      };
    }
    case 'exists':
      return (l) => typeof l[key] === 'string';
    case '!':
      return (l) => typeof l[key] !== 'string';
    case 'gt': {
      const threshold = parseInt64(values[0]!)!;
      return (l) => {
        const v = l[key];
        if (typeof v !== 'string') return false;
        const n = parseInt64(v);
        return n !== undefined && n > threshold;
      };
    }
    default: {
      const threshold = parseInt64(values[0]!)!;
      return (l) => {
        const v = l[key];
        if (typeof v !== 'string') return false;
        const n = parseInt64(v);
        return n !== undefined && n < threshold;
      };
    }
  }
}

/**
 * Why (key, operator, values) is not a valid requirement, or null. Mirrors Kubernetes
 * `NewRequirement`, with one relaxation: values are not checked against the 63-character
 * `[A-Za-z0-9._-]` label-value rule; they only have to be readable back by the lexer as one token
 * (no whitespace, no `= ! ( ) , < >`), so that `toString()` round-trips.
 */
export function requirementProblem(key: string, operator: Operator, values: readonly string[]): string | null {
  if (typeof key !== 'string') return 'label key must be a string';
  const keyProblem = isValidLabelKey(key);
  if (keyProblem !== null) return `invalid label key ${quote(key)}: ${keyProblem}`;
  if (!OPERATOR_SET.has(operator)) return `operator ${quote(String(operator))} is not supported; use one of ${[...OPERATOR_SET].join(', ')}`;
  const list: unknown = values; // callers outside TypeScript may pass anything
  if (!Array.isArray(list)) return 'values must be an array of strings';
  for (const v of values) {
    if (typeof v !== 'string') return 'values must be an array of strings';
    if (!isLexableValue(v)) return `value ${quote(v)} cannot contain whitespace or any of = ! ( ) , < >`;
  }
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) return "for 'in', 'notin' operators, values set can't be empty";
      return null;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) return 'exact-match compatibility requires one single value';
      return null;
    case 'exists':
    case '!':
      if (values.length !== 0) return 'values set must be empty for exists and does not exist';
      return null;
    default:
      if (values.length !== 1) return "for 'gt', 'lt' operators, exactly one value is required";
      if (parseInt64(values[0]!) === undefined) return `for 'gt', 'lt' operators, the value must be an integer, found ${quote(values[0]!)}`;
      return null;
  }
}

/** JSON-quotes text for messages, shortening very long text. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 61)}...` : text);
}

function sortedUnique(values: readonly string[]): string[] {
  const out = [...new Set(values)];
  out.sort(compareStrings);
  return out;
}

export const EMPTY_LABELS: Labels = Object.freeze(Object.create(null) as Record<string, string>);

export class Requirement {
  readonly key: string;
  readonly operator: Operator;
  /** Sorted (UTF-8 byte order) and de-duplicated. */
  readonly values: readonly string[];
  /** Offset of the key in the parsed selector text, when the requirement came from parsing. */
  readonly position?: number;

  /** The compiled test (used directly by selectors to skip a call level in the hot path). */
  readonly matcher: Matcher;
  readonly #string: string;

  /**
   * Validates like Kubernetes `NewRequirement` (see `requirementProblem`).
   * @throws SelectorSyntaxError (position = `position` or 0) when invalid.
   */
  constructor(key: string, operator: Operator, values: readonly string[] = [], position?: number) {
    const problem = requirementProblem(key, operator, values);
    if (problem !== null) throw new SelectorSyntaxError(problem, position ?? 0);
    this.key = key;
    this.operator = operator;
    this.values = Object.freeze(sortedUnique(values));
    if (position !== undefined) this.position = position;
    this.matcher = compile(key, operator, this.values);
    this.#string = render(key, operator, this.values);
    Object.freeze(this);
  }

  /** Kubernetes `Requirement.Matches`. `!=`/`notin` match when the key is absent. */
  matches(labels: Labels): boolean {
    return this.matcher(labels ?? EMPTY_LABELS);
  }

  /** Kubernetes `Requirement.String()`; see `render`. */
  toString(): string {
    return this.#string;
  }
}

/**
 * Prints a requirement exactly as Kubernetes does: `key=v`, `key==v` (kept as written: `==` is
 * not normalised to `=`, matching Kubernetes and keeping `requirements[i].operator` faithful to the
 * source; both forms match identically), `key!=v`, `key in (a,b)`, `key notin (a,b)`, `key`,
 * `!key`, `key>N`, `key<N`. Values are sorted and de-duplicated.
 */
function render(key: string, operator: Operator, values: readonly string[]): string {
  switch (operator) {
    case 'exists':
      return key;
    case '!':
      return `!${key}`;
    case '=':
    case '==':
    case '!=':
      return `${key}${operator}${values[0]}`;
    case 'gt':
      return `${key}>${values[0]}`;
    case 'lt':
      return `${key}<${values[0]}`;
    default:
      return `${key} ${operator} (${values.join(',')})`;
  }
}
