/** The helpers that exist once (lib/errors.ts formatPath, lib/json.ts canonicalJson, the cloud-id rule), with their rules. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLOUD_ID } from '../../lib/config/constants.js';
import { mappingConfigSchema } from '../../lib/config/schema.js';
import { formatPath } from '../../lib/errors.js';
import { canonicalJson, sha256Hex } from '../../lib/json.js';
import { PlanError } from '../../lib/provisioning/errors.js';
import { planFor } from '../provisioning/fixtures.js';

describe('formatPath', () => {
  it('dots plain names, brackets indexes, quotes any other key', () => {
    expect(formatPath(['dataplane_iam_mapping', 'rules', 3, 'selector'])).toBe('dataplane_iam_mapping.rules[3].selector');
    expect(formatPath(['service_accounts', 'my.sa', 'role_name'], 'provisioning')).toBe('provisioning.service_accounts["my.sa"].role_name');
    expect(formatPath(['workload-type'])).toBe('workload-type');
    expect(formatPath(['a b', '1x', ''])).toBe('["a b"]["1x"][""]');
    expect(formatPath([])).toBe('');
  });
});

describe('canonicalJson', () => {
  it('sorts keys as strings at every depth (integer-like keys too), no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { '10': 'x', '9': 'y' }, c: [{ z: 1, y: 2 }] })).toBe('{"a":{"10":"x","9":"y"},"b":1,"c":[{"y":2,"z":1}]}');
  });
  it('has JSON.stringify value semantics: toJSON, undefined dropped in objects and null in arrays, non-finite → null', () => {
    expect(canonicalJson({ d: new Date(0), u: undefined, f: () => 1, n: NaN, l: [undefined, Infinity] })).toBe(
      '{"d":"1970-01-01T00:00:00.000Z","l":[null,null],"n":null}',
    );
    expect(() => canonicalJson({ b: 1n })).toThrow(TypeError);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalJson(loop)).toThrow(TypeError);
  });
  it('reads back as JSON.stringify does, and is the same text whatever the key order (property)', () => {
    const reversed = (v: unknown): unknown =>
      v === null || typeof v !== 'object'
        ? v
        : Array.isArray(v)
          ? v.map(reversed)
          : Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reversed(x)]),
            );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(reversed(value))).toBe(text);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
  it('uses the canonical texts it is given for known objects', () => {
    const inner = { b: 1, a: 2 };
    const known = new WeakMap<object, string>([[inner, canonicalJson(inner)]]);
    expect(canonicalJson({ z: [inner], y: inner }, known)).toBe(canonicalJson({ z: [{ a: 2, b: 1 }], y: { a: 2, b: 1 } }));
    expect(canonicalJson({ x: inner }, new WeakMap([[inner, '"stand-in"']]))).toBe('{"x":"stand-in"}');
  });
  it('equal values give equal text and digests whatever the key order', () => {
    expect(sha256Hex(canonicalJson({ x: 1, y: { b: 2, a: 1 } }))).toBe(sha256Hex(canonicalJson({ y: { a: 1, b: 2 }, x: 1 })));
  });
});

describe('the cloud id rule', () => {
  it('one rule for the config, the HTTP path and the plan', () => {
    for (const ok of ['cldrsrc_XXXX', 'cldrsrcgcp_abc-1', 'a']) expect(CLOUD_ID.test(ok)).toBe(true);
    for (const bad of ['', '_x', 'a.b', 'a:b', 'a b', 'x'.repeat(129)]) expect(CLOUD_ID.test(bad)).toBe(false);
    const config = { cloud_provider: 'AWS', compute_stack: 'K8S', dataplane_iam_mapping: { rules: [], fallback_rule: 'FAIL' } };
    expect(mappingConfigSchema.safeParse({ ...config, cloud_deployment_id: 'a.b' }).success).toBe(false);
    expect(() => planFor(['sa'], {}, { cloudId: 'a.b' })).toThrow(PlanError);
    expect(planFor(['sa'], {}, { cloudId: 'cldrsrc_ok' }).items).toHaveLength(1);
  });
});
