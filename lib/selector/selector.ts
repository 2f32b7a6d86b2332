/**
 * A parsed label selector: the AND of its requirements (port of `labels.internalSelector`).
 */
import { EMPTY_LABELS, Requirement, type Labels, type Matcher } from './requirement.js';
import { compareStrings } from './validation.js';

export interface Selector {
  /** True when every requirement matches (always true for the empty selector). */
  matches(labels: Labels): boolean;
  /** Canonical form; `parseSelector(s.toString())` matches exactly what `s` matches. */
  toString(): string;
  /** Sorted canonically: by key, then by the requirement's printed form (UTF-8 byte order). */
  readonly requirements: readonly Requirement[];
  /** True when the selector does not restrict anything (Kubernetes `Empty()`). */
  empty(): boolean;
}

/**
 * Canonical requirement order. Kubernetes sorts by key only (with an unstable sort); ties are
 * broken here by the printed requirement so the output is deterministic.
 */
export function compareRequirements(a: Requirement, b: Requirement): number {
  const k = compareStrings(a.key, b.key);
  return k !== 0 ? k : compareStrings(a.toString(), b.toString());
}

class LabelSelector implements Selector {
  readonly requirements: readonly Requirement[];
  readonly #string: string;
  readonly #matchers: readonly Matcher[];

  constructor(requirements: readonly Requirement[]) {
    this.requirements = Object.freeze([...requirements].sort(compareRequirements));
    this.#matchers = this.requirements.map((r) => r.matcher);
    this.#string = this.requirements.map(String).join(',');
    Object.freeze(this);
  }

  matches(labels: Labels): boolean {
    const ms = this.#matchers;
    const l = labels ?? EMPTY_LABELS;
    for (let i = 0; i < ms.length; i++) if (!ms[i]!(l)) return false;
    return true;
  }

  toString(): string {
    return this.#string;
  }

  empty(): boolean {
    return this.requirements.length === 0;
  }
}

const EVERYTHING: Selector = new LabelSelector([]);

/** Kubernetes `Everything()`: matches all label sets; `toString()` is `""`. */
export function everything(): Selector {
  return EVERYTHING;
}

/** A selector that is the AND of `requirements` (sorted canonically; duplicates are kept, as in Kubernetes). */
export function selectorOf(requirements: readonly Requirement[]): Selector {
  return requirements.length === 0 ? EVERYTHING : new LabelSelector(requirements);
}
