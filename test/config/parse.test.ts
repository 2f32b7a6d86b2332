import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateKey, parseConfigBody } from '../../lib/config/parse.js';
import { validateConfig } from '../../lib/config/validate.js';
import { AppError } from '../../lib/errors.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

const fails = (body: string, type = 'application/yaml') => {
  try {
    parseConfigBody(body, type);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected a parse error');
};

describe('parseConfigBody', () => {
  it('reads YAML and JSON, and sniffs when the type is missing', () => {
    expect(parseConfigBody(SEED_EXAMPLES.eks, 'application/yaml').format).toBe('yaml');
    expect(parseConfigBody('{"a":1}', undefined).format).toBe('json');
    expect(parseConfigBody('a: 1', 'text/plain').document).toEqual({ a: 1 });
  });

  it('refuses alias bombs, duplicate keys, several documents, deep nesting, and other media types', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(',')}]`,
      ),
    ].join('\n');
    expect(fails(bomb).message).toMatch(/alias/i);
    expect(fails('a: 1\na: 2').details[0]).toMatchObject({ line: 2 });
    expect(fails('a: 1\n---\nb: 2').code).toBe('INVALID_CONFIG');
    expect(fails('['.repeat(100_000), 'application/json').code).toBe('INVALID_CONFIG');
    expect(fails('a: 1', 'application/xml').code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(fails('', 'application/json').message).toMatch(/empty/);
  });

  it('a __proto__ key is data, refused by the schema, and pollutes nothing', () => {
    for (const [body, type] of [
      ['{"__proto__":{"polluted":1},"cloud_provider":"AWS"}', 'application/json'],
      ['__proto__: {polluted: 1}', 'application/yaml'],
    ] as const) {
      const { document } = parseConfigBody(body, type);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      const result = validateConfig(document);
      expect(result.ok).toBe(false);
    }
  });

  it('points schema errors at their YAML line', () => {
    const yaml = SEED_EXAMPLES.eks.replace('fallback_rule: CLOUD_DEFAULT', 'fallback_rule: NEVER');
    const parsed = parseConfigBody(yaml, 'application/yaml');
    const result = validateConfig(parsed.document, { locate: parsed.locate });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatchObject({ path: 'dataplane_iam_mapping.fallback_rule', line: 10 });
  });

  it('tells a missing field from one of the wrong type', () => {
    const config = { cloud_deployment_id: 'c', cloud_provider: 'AWS', compute_stack: 'K8S', dataplane_iam_mapping: { rules: 'all', fallback_rule: 'FAIL' } };
    const wrong = validateConfig(config);
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.errors).toEqual([{ path: 'dataplane_iam_mapping.rules', message: 'dataplane_iam_mapping.rules must be a list, not a string' }]);
    const { compute_stack: _, ...without } = config;
    const missing = validateConfig(without);
    if (!missing.ok) expect(missing.errors).toContainEqual({ path: 'compute_stack', message: 'compute_stack is required' });
    expect(missing.ok).toBe(false);
  });
});

describe('validateConfig never throws (property)', () => {
  it('returns ok or errors with paths for arbitrary documents', () => {
    const doc = fc.oneof(
      fc.anything(),
      fc.record({
        cloud_deployment_id: fc.oneof(fc.string(), fc.constant('cldrsrc_x')),
        cloud_provider: fc.constantFrom('AWS', 'GCP', 'AZURE', 1),
        compute_stack: fc.constantFrom('VM', 'K8S', null),
        dataplane_iam_mapping: fc.record({
          rules: fc.array(fc.record({ selector: fc.string(), value: fc.string() }), { maxLength: 5 }),
          fallback_rule: fc.constantFrom('CLOUD_DEFAULT', 'FAIL', 'X'),
        }),
      }),
    );
    fc.assert(
      fc.property(doc, (d) => {
        const r = validateConfig(d);
        if (!r.ok) for (const e of r.errors) expect(typeof e.path).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('duplicate JSON keys', () => {
  it('are refused as YAML refuses them, naming the key, its object and its position', () => {
    const e = fails('{"cloud_deployment_id":"c","cloud_provider":"GCP",\n  "cloud_provider":"AWS"}', 'application/json');
    expect(e.details).toEqual([expect.objectContaining({ path: 'cloud_provider', line: 2, column: 3 })]);
    expect(e.message).toContain('duplicate key "cloud_provider"');
    expect(duplicateKey('{"a":{"r":[1,{"s":1,"s":2}]}}')).toMatchObject({ key: 's', path: 'a.r[1]' });
    expect(duplicateKey('{"k":"\\\\","k":1}')).toMatchObject({ key: 'k' }); // an escaped backslash ends the string
    expect(duplicateKey('{"a\\u0041":1,"aA":2}')).toMatchObject({ key: 'aA' }); // compared as decoded
    expect(duplicateKey('[{"x":1},{"x":2}]')).toBeNull(); // one key in each of two objects
  });

  it('any JSON.stringify output has none; one repeated key is found wherever it is (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.string(), fc.nat(), (value, key, at) => {
        const text = JSON.stringify(value);
        expect(duplicateKey(text)).toBeNull();
        // An object of `value` (or a new one) gets `key` twice.
        const objects = [...text.matchAll(/\{/g)].map((m) => m.index).filter((i) => !insideString(text, i));
        const doubled = `"${JSON.stringify(key).slice(1, -1)}":1,"${JSON.stringify(key).slice(1, -1)}":2`;
        const withDup =
          objects.length === 0
            ? `{${doubled}}`
            : (() => {
                const i = objects[at % objects.length]!;
                return `${text.slice(0, i + 1)}${doubled}${text[i + 1] === '}' ? '' : ','}${text.slice(i + 1)}`;
              })();
        JSON.parse(withDup); // still JSON
        expect(duplicateKey(withDup)).toMatchObject({ key });
      }),
      { numRuns: 300 },
    );
  });
});

/** Whether position `i` of JSON text lies inside a string literal. */
function insideString(text: string, i: number): boolean {
  let inside = false;
  for (let k = 0; k < i; k++) {
    if (text[k] === '\\' && inside) k++;
    else if (text[k] === '"') inside = !inside;
  }
  return inside;
}
