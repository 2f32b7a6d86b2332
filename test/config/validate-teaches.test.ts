/** Validation that teaches: every problem in one answer, in plain words, pointing at the field. */
import { describe, expect, it } from 'vitest';
import { parseConfigBody } from '../../lib/config/parse.js';
import { validateConfig, type Locate } from '../../lib/config/validate.js';

const doc = (rules: unknown[], extra: Record<string, unknown> = {}, fallback: unknown = 'CLOUD_DEFAULT') => ({
  cloud_deployment_id: 'cldrsrc_t',
  cloud_provider: 'AWS',
  compute_stack: 'K8S',
  dataplane_iam_mapping: { rules, fallback_rule: fallback },
  ...extra,
});

const errorsOf = (document: unknown, locate?: Locate) => {
  const r = validateConfig(document, locate ? { locate } : {});
  if (r.ok) throw new Error('expected invalid');
  return r.errors;
};

describe('validation that teaches', () => {
  it('a bad fallback_rule does not hide bad rules: all in one answer, plain words listing valid values', () => {
    const errors = errorsOf(
      doc(
        [
          { selector: 'workload-type=bogus', value: 'sa-a' },
          { selector: 'team=x', value: 'sa-b' },
          { selector: 'project=a', value: 'Not_Valid' },
          { selector: 'project in (a', value: 'sa-c' },
        ],
        {},
        'NOPE',
      ),
    );
    expect(errors.map((e) => e.path)).toEqual([
      'dataplane_iam_mapping.fallback_rule',
      'dataplane_iam_mapping.rules[0].selector',
      'dataplane_iam_mapping.rules[1].selector',
      'dataplane_iam_mapping.rules[2].value',
      'dataplane_iam_mapping.rules[3].selector',
    ]);
    expect(errors[0]!.message).toBe('dataplane_iam_mapping.fallback_rule must be one of CLOUD_DEFAULT, FAIL; got "NOPE"');
    expect(errors[1]).toMatchObject({ rule_index: 0, position: 14 });
    expect(errors[1]!.message).toContain('not one of job, service, workspace');
    expect(errors[3]).toMatchObject({ rule_index: 2 });
    expect(errors[4]).toMatchObject({ rule_index: 3, position: expect.any(Number) });
    for (const e of errors) expect(e.message).not.toMatch(/Invalid option|expected one of|Too big/);
  });

  it('checks that need a whole valid config still run beside other problems: role_name_prefix, case-only duplicates', () => {
    // A bad value hid the prefix's problem; an ARN value and a bad selector hid the case-only duplicate.
    const prefix = errorsOf(doc([{ selector: 'project=kf', value: 'Bad_Value' }], { provisioning: { role_name_prefix: 'a_b.' } }));
    expect(prefix.map((e) => e.path)).toEqual(['dataplane_iam_mapping.rules[0].value', 'provisioning.role_name_prefix']);
    const vm = errorsOf({
      ...doc([
        { selector: 'project=a', value: 'Prof' },
        { selector: 'project=b', value: 'prof' },
        { selector: 'project=c', value: 'arn:aws:iam::123456789012:instance-profile/x' },
        { selector: 'project=(', value: 'other' },
      ]),
      compute_stack: 'VM',
    });
    expect(vm.map((e) => e.path).sort()).toEqual([
      'dataplane_iam_mapping.rules[1].value',
      'dataplane_iam_mapping.rules[2].value',
      'dataplane_iam_mapping.rules[3].selector',
    ]);
    expect(vm.find((e) => e.path === 'dataplane_iam_mapping.rules[1].value')!.message).toContain('differ only in case');
    // The shape check failing (an unknown field) does not hide them either.
    const shape = errorsOf({
      ...doc([
        { selector: 'project=a', value: 'Prof' },
        { selector: 'project=b', value: 'prof' },
      ]),
      compute_stack: 'VM',
      provisioning: { role_name_prefix: 'a_b.' },
      bogus: 1,
    });
    expect(shape.map((e) => e.path).sort()).toEqual(['bogus', 'dataplane_iam_mapping.rules[1].value', 'provisioning.role_name_prefix']);
  });

  it('a bad cloud_provider or compute_stack does not hide a value no provider or stack would take', () => {
    const errors = errorsOf({
      ...doc([
        { selector: 'project=a', value: 'bad value*' },
        { selector: 'project=b', value: 'sa-ok' },
        { selector: 'project=c', value: 'x@p.iam.gserviceaccount.com' },
      ]),
      cloud_provider: 'AZURE',
      compute_stack: 'K9S',
    });
    expect(errors.map((e) => e.path)).toEqual(['cloud_provider', 'compute_stack', 'dataplane_iam_mapping.rules[0].value']);
    expect(errors[2]!.message).toContain('not a valid identity for any cloud_provider and compute_stack');
    // With the provider known, the stack's candidates are that provider's: an e-mail is no AWS identity.
    const aws = errorsOf({ ...doc([{ selector: 'project=c', value: 'x@p.iam.gserviceaccount.com' }]), compute_stack: 'K9S' });
    expect(aws.map((e) => e.path)).toEqual(['compute_stack']); // `x@p.iam…` is a valid instance-profile name (IAM allows @ and .)
    const k8s = errorsOf({ ...doc([{ selector: 'project=c', value: 'Not_Valid' }]), cloud_provider: 'AZURE' });
    expect(k8s.map((e) => e.path)).toEqual(['cloud_provider', 'dataplane_iam_mapping.rules[0].value']);
    expect(k8s[1]!.message).toContain('must be a Kubernetes service-account name');
  });

  it('enums and limits in plain words', () => {
    const [provider] = errorsOf({ ...doc([]), cloud_provider: 'AZURE' });
    expect(provider!.message).toBe('cloud_provider must be one of AWS, GCP; got "AZURE"');
    const tooMany = errorsOf(doc(Array.from({ length: 25_001 }, () => ({ selector: 'project=a', value: 'sa' }))));
    expect(tooMany[0]!.message).toBe('dataplane_iam_mapping.rules may have at most 25000 rules; it has 25001');
  });

  it('YAML errors carry line and column', () => {
    const body = parseConfigBody(
      'cloud_deployment_id: cldrsrc_t\ncloud_provider: AWS\ncompute_stack: K8S\ndataplane_iam_mapping:\n  rules:\n  - selector: team=x\n    value: sa\n  fallback_rule: NOPE\n',
      'application/yaml',
    );
    const errors = errorsOf(body.document, body.locate);
    expect(errors).toEqual([
      expect.objectContaining({ path: 'dataplane_iam_mapping.fallback_rule', line: 8 }),
      expect.objectContaining({ path: 'dataplane_iam_mapping.rules[0].selector', line: 6, rule_index: 0, position: 0 }),
    ]);
  });

  it('quoted selector values are refused with the bare form to use', () => {
    const [e] = errorsOf(doc([{ selector: 'user="a@example.com"', value: 'sa' }]));
    expect(e).toMatchObject({ rule_index: 0, position: 5 });
    expect(e!.message).toContain('selector values are written without quotes');
    expect(e!.message).toContain('user=a@example.com');
  });

  it('invisible and look-alike characters are refused, naming the code point and position', () => {
    const zw = errorsOf(doc([{ selector: 'user=b\u200bob@example.com', value: 'sa' }]));
    expect(zw[0]).toMatchObject({ position: 6 });
    expect(zw[0]!.message).toContain('U+200B');
    const nbsp = errorsOf(doc([{ selector: 'project=a,\u00a0user=b@example.com', value: 'sa' }]));
    expect(nbsp[0]!.message).toContain('U+00A0');
    const cyrillic = errorsOf(doc([{ selector: 'project=\u0430pple', value: 'sa' }]));
    expect(cyrillic[0]).toMatchObject({ position: 8 });
    expect(cyrillic[0]!.message).toContain('U+0430');
  });

  it('e-mail case is a warning naming the lower-case value', () => {
    const r = validateConfig(doc([{ selector: 'user=Bob@Example.COM', value: 'sa' }]));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([expect.objectContaining({ code: 'EMAIL_CASE', rule_index: 0 })]);
    expect(r.warnings[0]!.message).toContain('bob@example.com');
  });

  it('lost indentation is named, whatever the key order and with provisioning present', () => {
    const yaml =
      'provisioning:\n  role_name_prefix: x\ncompute_stack: K8S\ncloud_deployment_id: cldrsrc_t\ndataplane_iam_mapping:\nfallback_rule: FAIL\nrules:\n- selector: project=a\n  value: sa\ncloud_provider: AWS\n';
    const body = parseConfigBody(yaml, 'application/yaml');
    const errors = errorsOf(body.document, body.locate);
    const lost = errors.find((e) => e.path === 'dataplane_iam_mapping')!;
    expect(lost.message).toContain('indentation was probably lost');
    expect(lost.message).toContain('rules, fallback_rule belong under dataplane_iam_mapping');
    expect(errors.map((e) => e.message).join('\n')).not.toMatch(/expected object, received null/);
  });

  it('a role ARN for an AWS VM value says to use the instance-profile name, and shows it', () => {
    const [e] = errorsOf(doc([{ selector: 'project=a', value: 'arn:aws:iam::123456789012:role/DataScience' }], { compute_stack: 'VM' }));
    expect(e).toMatchObject({ path: 'dataplane_iam_mapping.rules[0].value', rule_index: 0 });
    expect(e!.message).toContain('instance profile');
    expect(e!.message).toContain('named DataScience');
  });
});
