import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfigBody } from '../../lib/config/parse.js';
import { renderYaml } from '../../lib/config/render.js';
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
});
