/**
 * Recursive-descent parser for label selectors, a port of `labels.Parse` in
 * k8s.io/apimachinery/pkg/labels/selector.go:
 *
 *   <selector>    ::= "" | <requirement> ( "," <requirement> )*
 *   <requirement> ::= "!" KEY | KEY | KEY ( "=" | "==" | "!=" ) VALUE?
 *                   | KEY ( "in" | "notin" ) "(" <values> ")" | KEY ( ">" | "<" ) INTEGER
 *
 * Kubernetes quirks kept on purpose: `in ()` / `notin ()` mean the set {""} (Kubernetes rejects
 * truly empty sets), empty list items are the empty value (`(a,,b)` = {a,"",b}) following the exact
 * Kubernetes list algorithm, `x=` means value "", the words `in`/`notin` are ordinary identifiers
 * in key and value positions, and a selector of only whitespace is `Everything`.
 *
 * Extension: in operator position the words `gt` / `lt` are accepted as `>` / `<` (`x gt 5`).
 * Relaxation: values are not checked against the Kubernetes label-value format.
 */
import { SelectorSyntaxError } from './errors.js';
import { lex, TokenKind, type Token } from './lexer.js';
import { Requirement, quote, type Operator } from './requirement.js';
import { everything, selectorOf, type Selector } from './selector.js';
import { isValidLabelKey, parseInt64 } from './validation.js';

function describe(t: Token): string {
  return t.kind === TokenKind.End ? 'end of input' : quote(t.text);
}

function fail(expected: string, t: Token): never {
  throw new SelectorSyntaxError(`${expected} at position ${t.pos}, found ${describe(t)}`, t.pos);
}

/** In key and value positions `in` / `notin` are plain identifiers (Kubernetes `Values` context). */
function isIdent(t: Token): boolean {
  return t.kind === TokenKind.Identifier || t.kind === TokenKind.In || t.kind === TokenKind.NotIn;
}

class Parser {
  readonly #tokens: Token[];
  #i = 0;

  constructor(text: string) {
    this.#tokens = lex(text);
  }

  #peek(): Token {
    return this.#tokens[this.#i]!;
  }

  #next(): Token {
    const t = this.#tokens[this.#i]!;
    if (t.kind !== TokenKind.End) this.#i++;
    return t;
  }

  parse(): Requirement[] {
    const out: Requirement[] = [];
    const first = this.#peek();
    if (first.kind === TokenKind.End) return out;
    if (!isIdent(first) && first.kind !== TokenKind.DoesNotExist) fail("expected a label key or '!'", first);
    for (;;) {
      out.push(this.#requirement());
      const t = this.#next();
      if (t.kind === TokenKind.End) return out;
      if (t.kind !== TokenKind.Comma) fail("expected ',' or end of input after requirement", t);
      const after = this.#peek();
      if (!isIdent(after) && after.kind !== TokenKind.DoesNotExist) fail("expected a label key or '!' after ','", after);
    }
  }

  #requirement(): Requirement {
    let t = this.#next();
    let negated = false;
    if (t.kind === TokenKind.DoesNotExist) {
      negated = true;
      t = this.#next();
    }
    if (!isIdent(t)) fail(negated ? "expected a label key after '!'" : 'expected a label key', t);
    const key = t.text;
    const keyPos = t.pos;
    const problem = isValidLabelKey(key);
    if (problem !== null) throw new SelectorSyntaxError(`invalid label key ${quote(key)} at position ${keyPos}: ${problem}`, keyPos);

    const la = this.#peek().kind;
    if (negated) return new Requirement(key, '!', [], keyPos);
    if (la === TokenKind.End || la === TokenKind.Comma) return new Requirement(key, 'exists', [], keyPos);

    const opTok = this.#next();
    const op = operatorOf(opTok);
    if (op === null) fail(`expected an operator (in, notin, =, ==, !=, >, <, gt, lt) after key ${quote(key)}`, opTok);

    let values: string[];
    if (op === 'in' || op === 'notin') {
      values = this.#valueSet(op);
    } else {
      const at = this.#peek();
      values = [this.#exactValue(opTok)];
      if ((op === 'gt' || op === 'lt') && parseInt64(values[0]!) === undefined) {
        throw new SelectorSyntaxError(
          `value for '${opTok.text}' must be an integer at position ${at.pos}, found ${values[0] === '' ? describe(at) : quote(values[0]!)}`,
          at.pos,
        );
      }
    }
    return new Requirement(key, op, values, keyPos);
  }

  /** Kubernetes `parseValues` + `parseIdentifiersList`, including its handling of empty items. */
  #valueSet(op: Operator): string[] {
    const open = this.#next();
    if (open.kind !== TokenKind.OpenPar) fail(`expected '(' after '${op}'`, open);
    const first = this.#peek();
    if (first.kind === TokenKind.ClosedPar) {
      this.#next();
      return [''];
    }
    if (!isIdent(first) && first.kind !== TokenKind.Comma) fail("expected a value, ',' or ')' after '('", first);
    const values: string[] = [];
    for (;;) {
      const t = this.#next();
      if (isIdent(t)) {
        values.push(t.text);
        const la = this.#peek();
        if (la.kind === TokenKind.Comma) continue;
        if (la.kind === TokenKind.ClosedPar) break;
        fail("expected ')' or ',' after value", la);
      } else if (t.kind === TokenKind.Comma) {
        if (values.length === 0) values.push(''); // "(,"
        const la = this.#peek();
        if (la.kind === TokenKind.ClosedPar) {
          values.push(''); // ",)"
          break;
        }
        if (la.kind === TokenKind.Comma) {
          this.#next();
          values.push(''); // ",,"
        }
      } else {
        fail("expected a value or ','", t);
      }
    }
    this.#next(); // ')'
    return values;
  }

  /** Kubernetes `parseExactValue`: a missing value (end or ',') is the empty value. */
  #exactValue(opTok: Token): string {
    const la = this.#peek();
    if (la.kind === TokenKind.End || la.kind === TokenKind.Comma) return '';
    const t = this.#next();
    if (isIdent(t)) return t.text;
    return fail(`expected a value after '${opTok.text}'`, t);
  }
}

function operatorOf(t: Token): Operator | null {
  switch (t.kind) {
    case TokenKind.In:
      return 'in';
    case TokenKind.NotIn:
      return 'notin';
    case TokenKind.Equals:
      return '=';
    case TokenKind.DoubleEquals:
      return '==';
    case TokenKind.NotEquals:
      return '!=';
    case TokenKind.GreaterThan:
      return 'gt';
    case TokenKind.LessThan:
      return 'lt';
    case TokenKind.Identifier:
      return t.text === 'gt' ? 'gt' : t.text === 'lt' ? 'lt' : null;
    default:
      return null;
  }
}

/**
 * Parses a Kubernetes label selector. The empty (or all-whitespace) string is `Everything`.
 * @throws SelectorSyntaxError for any invalid input (including non-string input, at position 0).
 */
export function parseSelector(text: string): Selector {
  if (typeof text !== 'string') throw new SelectorSyntaxError(`selector must be a string, got ${text === null ? 'null' : typeof text}`, 0);
  let requirements: Requirement[];
  try {
    requirements = new Parser(text).parse();
  } catch (e) {
    if (e instanceof SelectorSyntaxError) throw e;
    // Defensive: nothing else is expected, but callers are promised only SelectorSyntaxError.
    throw new SelectorSyntaxError(`invalid selector: ${e instanceof Error ? e.message : String(e)}`, 0);
  }
  return requirements.length === 0 ? everything() : selectorOf(requirements);
}
