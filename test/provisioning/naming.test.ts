import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cloudNamePart, ROLE_NAME_MAX, roleNameFor } from '../../lib/provisioning/naming.js';

const IAM_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-'];
/** Any instance-profile name (1-128 IAM name characters), biased to short and long. */
const iamName = fc.string({ unit: fc.constantFrom(...IAM_CHARS), minLength: 1, maxLength: 128 });
/** Any Kubernetes SA name, often near the length where the readable form stops fitting. */
const saName = fc
  .array(fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?$/), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join('.'))
  .filter((s) => s.length <= 253);
const value = fc.oneof(saName, iamName);
const prefix = fc.oneof(fc.constant('iam-mapping-'), fc.string({ unit: fc.constantFrom(...IAM_CHARS), maxLength: 24 }));
const cloudId = fc.oneof(
  fc.constant('cldrsrc_XXXX'),
  fc.stringMatching(/^cldrsrc_[a-z0-9]{1,12}$/),
  fc.string({ unit: fc.constantFrom(...IAM_CHARS), minLength: 1, maxLength: 40 }),
);
const VALID = /^[\w+=,.@-]{1,64}$/;

describe('roleNameFor', () => {
  it('readable when it fits', () => {
    expect(roleNameFor('iam-mapping-', 'cldrsrc_abc123', 'kubernetes-service-account-name1')).toBe(
      'iam-mapping-cldrsrc_abc123-kubernetes-service-account-name1',
    );
    expect(roleNameFor('iam-mapping-', 'cldrsrc_kubeflow', 'default-editor')).toBe('iam-mapping-cldrsrc_kubeflow-default-editor');
  });

  it('hashes the cloud id when it is long, mixed case or has "-"/"."', () => {
    expect(cloudNamePart('cldrsrc_XXXX')).toMatch(/^c\.[0-9a-f]{8}$/);
    expect(cloudNamePart('cldrsrc_abcdefghijklmnopqrstuvwxyz')).toMatch(/^c\.[0-9a-f]{8}$/);
    expect(roleNameFor('iam-mapping-', 'cldrsrc_XXXX', 'default')).toMatch(/^iam-mapping-c\.[0-9a-f]{8}-default$/);
  });

  it('truncates and hashes when too long or not lowercase', () => {
    const long = 'a-very-long-service-account-name-that-does-not-fit-in-sixty-four-characters';
    const name = roleNameFor('iam-mapping-', 'cldrsrc_abc123', long);
    expect(name.length).toBeLessThanOrEqual(ROLE_NAME_MAX);
    expect(name).toMatch(/^iam-mapping-cldrsrc_abc123-a-very-long-service-account_[0-9a-f]{8}$/);
    expect(roleNameFor('iam-mapping-', 'cldrsrc_abc123', 'Cld_Abc-Cluster_Node_Role')).toMatch(
      /^iam-mapping-cldrsrc_abc123-cld-abc-cluster-node-role_[0-9a-f]{8}$/,
    );
  });

  it('property: ≤ 64 valid IAM characters, deterministic', () => {
    fc.assert(
      fc.property(prefix, cloudId, value, (p, c, v) => {
        const n = roleNameFor(p, c, v);
        expect(n.length).toBeLessThanOrEqual(ROLE_NAME_MAX);
        expect(n).toMatch(VALID);
        expect(roleNameFor(p, c, v)).toBe(n);
        expect(n.startsWith(p)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: two different values never share a name, even ignoring case (IAM role names are case-insensitive)', () => {
    fc.assert(
      fc.property(prefix, cloudId, value, value, (p, c, a, b) => {
        fc.pre(a !== b);
        expect(roleNameFor(p, c, a).toLowerCase()).not.toBe(roleNameFor(p, c, b).toLowerCase());
      }),
      { numRuns: 5000 },
    );
  });

  it('property: the same value in two different clouds (same prefix) never shares a name', () => {
    fc.assert(
      fc.property(prefix, cloudId, cloudId, value, value, (p, c1, c2, a, b) => {
        fc.pre(c1 !== c2);
        expect(roleNameFor(p, c1, a).toLowerCase()).not.toBe(roleNameFor(p, c2, b).toLowerCase());
      }),
      { numRuns: 3000 },
    );
  });

  it('property: a batch of 1,000 distinct values gets 1,000 distinct names', () => {
    fc.assert(
      fc.property(fc.uniqueArray(value, { minLength: 1000, maxLength: 1000 }), (values) => {
        const names = new Set(values.map((v) => roleNameFor('iam-mapping-', 'cldrsrc_XXXX', v).toLowerCase()));
        expect(names.size).toBe(values.length);
      }),
      { numRuns: 5 },
    );
  });

  it('readable and hashed forms are disjoint: a value spelled like a hashed name still differs', () => {
    const long = 'x'.repeat(80);
    const hashed = roleNameFor('iam-mapping-', 'cldrsrc_abc', long);
    const tail = hashed.slice('iam-mapping-cldrsrc_abc-'.length);
    expect(roleNameFor('iam-mapping-', 'cldrsrc_abc', tail)).not.toBe(hashed);
  });

  it('refuses a prefix that leaves no room', () => {
    expect(() => roleNameFor('x'.repeat(25), 'c', 'v')).toThrow(RangeError);
  });
});
