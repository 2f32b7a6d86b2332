/**
 * Property tests for lib/selector (fast-check): totality of the parser, round-trip of the
 * canonical form, idempotence of toString, and agreement with an independent reference model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSelector, SelectorSyntaxError, type Operator } from '../../lib/selector/index.js';

const KEYS = ['workload-type', 'project', 'user'] as const;
const VALUES = ['', 'job', 'service', 'workspace', 'p1', 'user1@example.com', 'in', 'notin', 'gt', '0', '5', '-3', '+7', '12'];
const INTS = ['0', '5', '-3', '+7', '12', '007', '-9223372036854775808', '9223372036854775807'];

type Labels = Record<string, string>;
interface Req {
  key: string;
  op: Operator;
  values: readonly string[];
  spelling: string; // how the operator is written
}

const ws = fc.constantFrom('', ' ', '  ', '\t', '\n ');
const key = fc.constantFrom(...KEYS);
const value = fc.constantFrom(...VALUES);
const nonEmptyValue = fc.constantFrom(...VALUES.filter((v) => v !== ''));

const requirement: fc.Arbitrary<Req> = fc.oneof(
  fc.record({ key, op: fc.constant<Operator>('exists'), values: fc.constant<readonly string[]>([]), spelling: fc.constant('') }),
  fc.record({ key, op: fc.constant<Operator>('!'), values: fc.constant<readonly string[]>([]), spelling: fc.constant('!') }),
  fc.record({ key, op: fc.constantFrom<Operator>('=', '==', '!='), values: fc.tuple(value) }).map((r) => ({ ...r, values: [...r.values], spelling: r.op })),
  fc.record({ key, op: fc.constantFrom<Operator>('in', 'notin'), values: fc.array(nonEmptyValue, { maxLength: 7 }) }).map((r) => ({ ...r, spelling: r.op })),
  fc
    .record({ key, op: fc.constantFrom<Operator>('gt', 'lt'), values: fc.tuple(fc.constantFrom(...INTS)), word: fc.boolean() })
    .map(({ word, ...r }) => ({ ...r, values: [...r.values], spelling: word ? r.op : r.op === 'gt' ? '>' : '<' })),
);

/** Renders a requirement with random (valid) whitespace. `in ()` stands for the set {""}. */
function render(r: Req, w: string[]): string {
  const s = (i: number) => w[i % w.length] ?? '';
  switch (r.op) {
    case 'exists':
      return r.key;
    case '!':
      return `!${s(0)}${r.key}`;
    case 'in':
    case 'notin':
      return `${r.key} ${s(1)}${r.op}${s(2)}(${s(3)}${r.values.join(`${s(4)},${s(5)}`)}${s(6)})`;
    default: {
      // word operators need whitespace around them; symbols do not
      const pad = /^[a-z]/.test(r.spelling) ? ' ' : '';
      return `${r.key}${s(1)}${pad}${r.spelling}${pad}${s(2)}${r.values[0]}`;
    }
  }
}

const selectorText = fc
  .tuple(fc.array(requirement, { maxLength: 5 }), fc.array(ws, { minLength: 7, maxLength: 7 }))
  .map(([rs, w]) => ({ rs, text: rs.map((r) => render(r, w)).join(`${w[0]},${w[1]}`) }));

const labels: fc.Arbitrary<Labels> = fc.dictionary(fc.constantFrom(...KEYS, 'other'), fc.constantFrom(...VALUES, ...INTS, '9223372036854775808', 'x'), {
  maxKeys: 4,
});

/** Independent model of Kubernetes requirement semantics. */
function modelMatches(rs: Req[], l: Labels): boolean {
  return rs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    const set = r.op === 'in' || r.op === 'notin' ? (r.values.length === 0 ? [''] : r.values) : r.values;
    switch (r.op) {
      case '=':
      case '==':
      case 'in':
        return has && set.includes(v!);
      case '!=':
      case 'notin':
        return !has || !set.includes(v!);
      case 'exists':
        return has;
      case '!':
        return !has;
      default: {
        if (!has || !/^[+-]?[0-9]+$/.test(v!)) return false;
        const n = BigInt(v!.replace(/^\+/, ''));
        if (n < -(2n ** 63n) || n > 2n ** 63n - 1n) return false;
        const t = BigInt(r.values[0]!.replace(/^\+/, ''));
        return r.op === 'gt' ? n > t : n < t;
      }
    }
  });
}

/** Strings built from selector-ish fragments reach far deeper into the grammar than random text. */
const tokenSoup = fc
  .array(
    fc.constantFrom(
      'x',
      'user',
      'a/b',
      'in',
      'notin',
      'gt',
      'lt',
      '=',
      '==',
      '!=',
      '!',
      '(',
      ')',
      ',',
      '<',
      '>',
      ' ',
      '\t',
      '5',
      '-1',
      'a@b.c',
      '',
      'Ü',
      '\0',
      '-',
      '.',
      '/',
    ),
    { maxLength: 14 },
  )
  .map((parts) => parts.join(''));

const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), tokenSoup, fc.string({ unit: 'grapheme-ascii', maxLength: 30 }));

describe('selector properties', () => {
  it('parseSelector either returns a Selector or throws SelectorSyntaxError with a valid position', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        try {
          const s = parseSelector(text);
          expect(typeof s.toString()).toBe('string');
          expect(typeof s.matches({})).toBe('boolean');
        } catch (e) {
          if (!(e instanceof SelectorSyntaxError)) throw new Error(`non-syntax error for ${JSON.stringify(text)}: ${String(e)}`, { cause: e });
          expect(Number.isInteger(e.position)).toBe(true);
          expect(e.position).toBeGreaterThanOrEqual(0);
          expect(e.position).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('generated selectors parse, and their canonical form matches exactly the same labels (and the model)', () => {
    fc.assert(
      fc.property(selectorText, fc.array(labels, { minLength: 1, maxLength: 8 }), ({ rs, text }, samples) => {
        const s = parseSelector(text);
        const again = parseSelector(s.toString());
        expect(s.requirements.length).toBe(rs.length);
        for (const l of samples) {
          const m = s.matches(l);
          expect(again.matches(l)).toBe(m);
          expect(m).toBe(modelMatches(rs, l));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('toString is idempotent (generated selectors and any parseable text)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          selectorText.map((x) => x.text),
          anyText,
        ),
        (text) => {
          let s;
          try {
            s = parseSelector(text);
          } catch {
            return; // property 1 covers rejection
          }
          const once = s.toString();
          const reparsed = parseSelector(once);
          expect(reparsed.toString()).toBe(once);
          expect(reparsed.requirements.map(String)).toEqual(s.requirements.map(String));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('requirement order does not change the canonical form', () => {
    fc.assert(
      fc.property(selectorText, fc.array(ws, { minLength: 7, maxLength: 7 }), ({ rs }, w) => {
        const forward = parseSelector(rs.map((r) => render(r, w)).join(',')).toString();
        const backward = parseSelector(
          [...rs]
            .reverse()
            .map((r) => render(r, w))
            .join(','),
        ).toString();
        expect(backward).toBe(forward);
      }),
      { numRuns: 1000 },
    );
  });
});
