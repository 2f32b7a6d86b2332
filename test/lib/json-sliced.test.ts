/**
 * lib/json-sliced.ts: the sliced JSON text and hash of a document are byte-identical to
 * JSON.stringify / canonicalJson and their sha256, whatever the value (property-tested), and a
 * large array yields between chunks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../lib/json.js';
import { jsonSteps } from '../../lib/json-sliced.js';
import { runSteps } from '../../lib/steps.js';

const both = (v: unknown, chunk?: number) => ({
  plain: runSteps(jsonSteps(v, { canonical: false, ...(chunk ? { chunk } : {}) })),
  canonical: runSteps(jsonSteps(v, { canonical: true, ...(chunk ? { chunk } : {}) })),
});

describe('jsonSteps', () => {
  it('gives JSON.stringify and canonicalJson, with their sha256, for any JSON-like value', () => {
    const value = fc.anything({
      withBoxedValues: false,
      withMap: false,
      withSet: false,
      withBigInt: false,
      withTypedArray: false,
      withSparseArray: true,
      withNullPrototype: true,
      withDate: true,
      withObjectString: true,
    });
    fc.assert(
      fc.property(value, fc.integer({ min: 1, max: 5 }), (v, chunk) => {
        const { plain, canonical } = both(v, chunk);
        const expected = JSON.stringify(v) ?? '';
        expect(plain.text).toBe(expected);
        expect(plain.sha256).toBe(sha256Hex(expected));
        expect(canonical.text).toBe(canonicalJson(v));
        expect(canonical.sha256).toBe(sha256Hex(canonicalJson(v)));
      }),
      { numRuns: 500 },
    );
  });

  it('drops what JSON drops: undefined and functions in objects (null in arrays), toJSON giving undefined', () => {
    const v = { a: undefined, b: () => 1, c: [undefined, () => 1, { toJSON: () => undefined }], d: { toJSON: () => undefined }, e: new Date(0), '2': 'two' };
    const { plain, canonical } = both(v, 1);
    expect(plain.text).toBe(JSON.stringify(v));
    expect(canonical.text).toBe(canonicalJson(v));
    expect(canonical.text).toBe('{"2":"two","c":[null,null,null],"e":"1970-01-01T00:00:00.000Z"}');
  });

  it('a strings with astral characters and lone surrogates hashes as the whole text does', () => {
    const v = { rules: Array.from({ length: 3000 }, (_, i) => ({ selector: `user=u${i}😀\ud800`, value: `sa-${i}` })) };
    const { plain, canonical } = both(v);
    expect(plain.sha256).toBe(sha256Hex(JSON.stringify(v)));
    expect(canonical.sha256).toBe(sha256Hex(canonicalJson(v)));
  });

  it('yields between chunks of a large array (a server gives the event loop a turn there)', () => {
    const it = jsonSteps({ rules: Array.from({ length: 1000 }, (_, i) => ({ i })) }, { canonical: true, chunk: 100 });
    let yields = 0;
    for (let step = it.next(); !step.done; step = it.next()) yields += 1;
    expect(yields).toBeGreaterThanOrEqual(10);
  });

  it('refuses a circular structure as JSON.stringify does', () => {
    const a: Record<string, unknown> = { x: [1] };
    a.self = a;
    expect(() => runSteps(jsonSteps(a, { canonical: false }))).toThrow(/circular/);
    expect(() => runSteps(jsonSteps(a, { canonical: true }))).toThrow(/circular/);
  });
});
