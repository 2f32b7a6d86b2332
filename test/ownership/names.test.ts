/** Names across clouds: unambiguous role names for any valid prefixes, case-insensitive duplicates refused at PUT, stack changes confirmed. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkStackChange, stackChangeConfirmed } from '../../lib/config/stack-change.js';
import { validateConfig } from '../../lib/config/validate.js';
import { AppError } from '../../lib/errors.js';
import { rolePrefixProblem, roleNameFor } from '../../lib/provisioning/naming.js';

const CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,@-'];
const validPrefix = fc.oneof(
  fc.constant(''),
  fc.constant('iam-mapping-'),
  fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 23 }).map((p) => `${p}-`),
);
const cloudId = fc.oneof(
  fc.stringMatching(/^cldrsrc_[a-z0-9]{1,12}$/),
  fc.stringMatching(/^[a-z0-9]{1,8}$/),
  fc.string({ unit: fc.constantFrom(...'abcXYZ09_-.'), minLength: 1, maxLength: 30 }),
);
const value = fc.stringMatching(/^[a-z0-9](?:[a-z0-9.-]{0,30}[a-z0-9])?$/);

describe('role names across clouds and prefixes', () => {
  it('the squat of the issue no longer works', () => {
    expect(roleNameFor('iam-mapping-pa-', 'pb', 'x')).not.toBe(roleNameFor('iam-mapping-', 'pa', 'pb-x'));
    expect(rolePrefixProblem('iam-mapping-pa.')).toMatch(/must be empty or end with "-"/);
    expect(rolePrefixProblem('iam_mapping-')).not.toBeNull();
    expect(rolePrefixProblem('iam-mapping')).not.toBeNull();
    expect(rolePrefixProblem('iam-mapping-')).toBeNull();
    expect(rolePrefixProblem('')).toBeNull();
  });

  it('property: two different clouds never share a role name, whatever valid prefixes they pick (ignoring case)', () => {
    fc.assert(
      fc.property(validPrefix, validPrefix, cloudId, cloudId, value, value, (p1, p2, c1, c2, v1, v2) => {
        fc.pre(c1 !== c2);
        const n1 = roleNameFor(p1, c1, v1).toLowerCase();
        const n2 = roleNameFor(p2, c2, v2).toLowerCase();
        // Equal only on a 32-bit hash collision of two hashed cloud ids (caught by the role-name claims).
        if (n1 === n2) expect(n1).toMatch(/c\.[0-9a-f]{8}/);
      }),
      { numRuns: 5000 },
    );
  });
});

const vm = (values: string[], provisioning?: Record<string, unknown>) => ({
  cloud_deployment_id: 'cldrsrc_x',
  cloud_provider: 'AWS',
  compute_stack: 'VM',
  dataplane_iam_mapping: { rules: values.map((value, i) => ({ selector: `user=u${i}@example.com`, value })), fallback_rule: 'CLOUD_DEFAULT' },
  ...(provisioning ? { provisioning } : {}),
});

describe('names IAM treats as one, at PUT', () => {
  it('Prof and prof in one config: 400 naming both rules; the same spelling twice is fine', () => {
    const r = validateConfig(vm(['Prof', 'admin', 'prof']));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      expect.objectContaining({
        path: 'dataplane_iam_mapping.rules[2].value',
        rule_index: 2,
        message: expect.stringMatching(/rule 2 value "prof" and rule 0 value "Prof"/),
      }),
    ]);
    expect(validateConfig(vm(['prof', 'prof'])).ok).toBe(true);
  });
  it('default_value differing only in case from a rule value, two role_names equal ignoring case, an ambiguous prefix', () => {
    const r = validateConfig({ ...vm(['Prof']), dataplane_iam_mapping: { ...vm(['Prof']).dataplane_iam_mapping, default_value: 'PROF' } });
    expect(!r.ok && r.errors[0]?.path).toBe('dataplane_iam_mapping.default_value');
    const dup = validateConfig({
      ...vm(['a', 'b']),
      compute_stack: 'K8S',
      provisioning: { service_accounts: { a: { role_name: 'Team-Role' }, b: { role_name: 'team-role' } } },
    });
    expect(!dup.ok && dup.errors[0]).toMatchObject({
      path: 'provisioning.service_accounts.b.role_name',
      message: expect.stringMatching(/already used by service account a/),
    });
    const prefix = validateConfig({ ...vm(['a']), compute_stack: 'K8S', provisioning: { role_name_prefix: 'x.' } });
    expect(!prefix.ok && prefix.errors).toEqual([
      expect.objectContaining({ path: 'provisioning.role_name_prefix', message: expect.stringMatching(/contain no "_" or "\."/) }),
    ]);
  });
});

describe('stack change confirmation', () => {
  const k8s = { cloud_provider: 'AWS', compute_stack: 'K8S' };
  const vmStack = { cloud_provider: 'AWS', compute_stack: 'VM' };
  it('409 CONFLICT naming old and new without confirmation; a warning with it; nothing on no change', () => {
    expect(checkStackChange('c', null, k8s, false)).toBeNull();
    expect(checkStackChange('c', k8s, k8s, false)).toBeNull();
    let err: unknown;
    try {
      checkStackChange('c', k8s, vmStack, false);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('CONFLICT');
    expect((err as AppError).message).toContain('from AWS/K8S to AWS/VM');
    expect(checkStackChange('c', k8s, { cloud_provider: 'GCP', compute_stack: 'K8S' }, true)).toMatchObject({ code: 'STACK_CHANGED', path: 'cloud_provider' });
  });
  it('confirmed by ?confirm_stack_change=true or X-Confirm-Stack-Change: true only', () => {
    expect(stackChangeConfirmed({ confirm_stack_change: 'true' }, undefined)).toBe(true);
    expect(stackChangeConfirmed({ confirm_stack_change: 'TRUE' }, undefined)).toBe(true);
    expect(stackChangeConfirmed({ confirm_stack_change: '1' }, undefined)).toBe(false);
    expect(stackChangeConfirmed(undefined, ' true ')).toBe(true);
    expect(stackChangeConfirmed(null, 'yes')).toBe(false);
  });
});
