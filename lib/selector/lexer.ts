/**
 * Lexer for Kubernetes label selectors (port of the `Lexer` in k8s.io/apimachinery/pkg/labels).
 *
 * - Whitespace (only ' ', '\t', '\r', '\n', as in Kubernetes) separates tokens.
 * - Special symbols `= ! ( ) , < >` form operator tokens by longest match: `==`, `!=`, then the
 *   single characters.
 * - Any other run of characters is an identifier; the words `in` and `notin` are keyword tokens.
 *   (`gt` / `lt` are NOT keywords here: the parser accepts them as operator words only in operator
 *   position, so keys and values named `gt`/`lt` keep working exactly as in Kubernetes.)
 *
 * One deliberate difference from the Go code: Go's lexer treats a NUL byte as end of input and
 * silently ignores the rest of the string; here NUL is an ordinary identifier character.
 */

export const TokenKind = {
  End: 0,
  Identifier: 1,
  Comma: 2,
  OpenPar: 3,
  ClosedPar: 4,
  DoesNotExist: 5, // '!'
  Equals: 6, // '='
  DoubleEquals: 7, // '=='
  NotEquals: 8, // '!='
  GreaterThan: 9, // '>'
  LessThan: 10, // '<'
  In: 11, // 'in'
  NotIn: 12, // 'notin'
} as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

export interface Token {
  readonly kind: TokenKind;
  /** The literal text ('' for End). */
  readonly text: string;
  /** 0-based offset of the token's first character (text length for End). */
  readonly pos: number;
}

/** Printable token names, for messages and tests. */
export const TOKEN_NAMES: Readonly<Record<TokenKind, string>> = {
  [TokenKind.End]: 'End',
  [TokenKind.Identifier]: 'Identifier',
  [TokenKind.Comma]: 'Comma',
  [TokenKind.OpenPar]: 'OpenPar',
  [TokenKind.ClosedPar]: 'ClosedPar',
  [TokenKind.DoesNotExist]: 'DoesNotExist',
  [TokenKind.Equals]: 'Equals',
  [TokenKind.DoubleEquals]: 'DoubleEquals',
  [TokenKind.NotEquals]: 'NotEquals',
  [TokenKind.GreaterThan]: 'GreaterThan',
  [TokenKind.LessThan]: 'LessThan',
  [TokenKind.In]: 'In',
  [TokenKind.NotIn]: 'NotIn',
};

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const EQ = 0x3d; // =
const BANG = 0x21; // !
const OPAR = 0x28; // (
const CPAR = 0x29; // )
const COMMA = 0x2c; // ,
const GT = 0x3e; // >
const LT = 0x3c; // <

export function isWhitespaceCode(c: number): boolean {
  return c === SPACE || c === TAB || c === CR || c === LF;
}

export function isSpecialCode(c: number): boolean {
  return c === EQ || c === BANG || c === OPAR || c === CPAR || c === COMMA || c === GT || c === LT;
}

/** True when `value` would be read back by the lexer as exactly one identifier (or is empty). */
export function isLexableValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (isWhitespaceCode(c) || isSpecialCode(c)) return false;
  }
  return true;
}

/** Tokenizes the whole input; the last token is always End. Never throws. */
export function lex(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    while (i < n && isWhitespaceCode(text.charCodeAt(i))) i++;
    if (i >= n) {
      tokens.push({ kind: TokenKind.End, text: '', pos: n });
      return tokens;
    }
    const start = i;
    const c = text.charCodeAt(i);
    if (isSpecialCode(c)) {
      const next = i + 1 < n ? text.charCodeAt(i + 1) : -1;
      let kind: TokenKind;
      let len = 1;
      switch (c) {
        case EQ:
          if (next === EQ) {
            kind = TokenKind.DoubleEquals;
            len = 2;
          } else kind = TokenKind.Equals;
          break;
        case BANG:
          if (next === EQ) {
            kind = TokenKind.NotEquals;
            len = 2;
          } else kind = TokenKind.DoesNotExist;
          break;
        case OPAR:
          kind = TokenKind.OpenPar;
          break;
        case CPAR:
          kind = TokenKind.ClosedPar;
          break;
        case COMMA:
          kind = TokenKind.Comma;
          break;
        case GT:
          kind = TokenKind.GreaterThan;
          break;
        default: // LT
          kind = TokenKind.LessThan;
          break;
      }
      i += len;
      tokens.push({ kind, text: text.slice(start, i), pos: start });
      continue;
    }
    while (i < n) {
      const d = text.charCodeAt(i);
      if (isWhitespaceCode(d) || isSpecialCode(d)) break;
      i++;
    }
    const word = text.slice(start, i);
    const kind = word === 'in' ? TokenKind.In : word === 'notin' ? TokenKind.NotIn : TokenKind.Identifier;
    tokens.push({ kind, text: word, pos: start });
  }
}
