import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfigBody } from '../../lib/config/parse.js';
import { renderYaml, renderYamlSliced } from '../../lib/config/render.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

const readBack = (text: string) => parseConfigBody(text, 'application/yaml').document;

// Strings another YAML reader could take for a number, boolean, null, date, alias, tag, comment or flow.
const TRICKY = [
  '',
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  'true',
  'False',
  'null',
  'Null',
  '~',
  '0',
  '-0',
  '007',
  '0o17',
  '0x1F',
  '1e3',
  '1.',
  '.5',
  '.inf',
  '-.Inf',
  '.nan',
  '2001-12-14',
  '2001-12-14t21:59:43.10-05:00',
  '12:30:00',
  ' lead',
  'trail ',
  'a: b',
  'a:b',
  '- x',
  '-',
  '#c',
  'a #c',
  '*a',
  '&a',
  '!tag',
  '%x',
  '@x',
  '`x',
  '{a}',
  '[a]',
  '?',
  ':',
  '|',
  '>',
  "'",
  '"',
  'multi\nline',
  'trailing newline\n',
  '\n',
  '\t',
  'tab\tinside',
  '\u2028',
  '\u0085',
  'ñ',
  '\u{1F600}',
  '<<',
  'workload-type in (job),project=p-1,user=a@example.com',
  'user!=bob,project notin (a, b)',
];
const text = fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ maxLength: 40 }));
const value = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(text, tie('json'), { maxKeys: 4 }),
  ),
})).json;

describe('renderYaml', () => {
  it('writes what the config parser reads back unchanged, whatever the strings and numbers', () => {
    fc.assert(
      fc.property(fc.dictionary(text, value, { minKeys: 1, maxKeys: 6 }), (doc) => {
        expect(readBack(renderYaml(doc))).toEqual(doc);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips every seed example', () => {
    for (const [name, example] of Object.entries(SEED_EXAMPLES)) {
      const doc = parseConfigBody(example, 'application/yaml').document;
      expect(readBack(renderYaml(doc)), name).toEqual(doc);
    }
  });

  it('writes block YAML with plain scalars where they are unambiguous, and quotes the rest', () => {
    const doc = {
      cloud_deployment_id: 'cldrsrc_1',
      cloud_provider: 'AWS',
      dataplane_iam_mapping: {
        rules: [
          { selector: 'workload-type in (job),project=p-1', value: 'sa-team' },
          { selector: 'user=on', value: 'yes' },
        ],
        fallback_rule: 'FAIL',
      },
      version: 3,
    };
    expect(renderYaml(doc)).toBe(
      [
        'cloud_deployment_id: cldrsrc_1',
        'cloud_provider: AWS',
        'dataplane_iam_mapping:',
        '  rules:',
        '    - selector: workload-type in (job),project=p-1',
        '      value: sa-team',
        '    - selector: user=on',
        "      value: 'yes'",
        '  fallback_rule: FAIL',
        'version: 3',
        '',
      ].join('\n'),
    );
  });

  it('writes the same text in slices for a server, whatever the rules hold (property)', async () => {
    const rule = fc.record({ selector: text, value: text }, { requiredKeys: ['selector', 'value'] });
    await fc.assert(
      fc.asyncProperty(
        fc.array(rule, { minLength: 1001, maxLength: 2600 }),
        fc.dictionary(text, value, { maxKeys: 3 }),
        fc.constantFrom('first', 'last'),
        async (rules, extra, where) => {
          const mapping = where === 'first' ? { rules, fallback_rule: 'FAIL', ...extra } : { fallback_rule: 'FAIL', ...extra, rules };
          const doc = { cloud_deployment_id: 'cldrsrc_1', cloud_provider: 'AWS', dataplane_iam_mapping: mapping, version: 2 };
          expect(await renderYamlSliced(doc)).toBe(renderYaml(doc));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('gives the event loop turns while it writes a large config', async () => {
    const rules = Array.from({ length: 5000 }, (_, i) => ({ selector: `project=p-${i},user=u${i}@example.com`, value: i % 2 ? 'yes' : `sa-${i}` }));
    const doc = {
      cloud_deployment_id: 'cldrsrc_1',
      cloud_provider: 'AWS',
      compute_stack: 'K8S',
      dataplane_iam_mapping: { rules, fallback_rule: 'FAIL' },
      version: 9,
    };
    let turns = 0;
    let done = false;
    const tick = () => {
      turns++;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    const text = await renderYamlSliced(doc);
    done = true;
    expect(turns).toBeGreaterThanOrEqual(4); // one between each of the five slices of 1,000 rules
    expect(text).toBe(renderYaml(doc));
  });
});
