import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatch } from '../../lib/provisioning/glob.js';
import { buildEc2TrustPolicy, type PolicyDocument, type PolicyStatement } from '../../lib/provisioning/policies.js';
import { simulatedServiceCanAssume } from '../helpers/iam-simulate.js';
import { canAssumeAsService, canAssumeWithWebIdentity, isAllowed } from './trust-evaluator.js';
import { FOREIGN, PROD } from './fixtures.js';

const ISS = PROD.issuerHost;
const AUD = `${ISS}:aud`;
const SUB = `${ISS}:sub`;
const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });
const allow = (Condition?: PolicyStatement['Condition'], extra: Partial<PolicyStatement> = {}): PolicyStatement => ({
  Effect: 'Allow',
  Principal: { Federated: PROD.oidcProviderArn },
  Action: 'sts:AssumeRoleWithWebIdentity',
  ...(Condition ? { Condition } : {}),
  ...extra,
});
const can = (policy: PolicyDocument, sub: string, aud = 'sts.amazonaws.com', c = PROD) =>
  canAssumeWithWebIdentity(policy, { federatedPrincipal: c.oidcProviderArn, issuerHost: c.issuerHost, claims: { aud, sub } });

describe('globMatch', () => {
  it('examples', () => {
    expect(globMatch('system:serviceaccount:*:default', 'system:serviceaccount:flyte:default')).toBe(true);
    expect(globMatch('system:serviceaccount:*:default', 'system:serviceaccount::default')).toBe(true);
    expect(globMatch('system:serviceaccount:*:default', 'system:serviceaccount:a:b:default')).toBe(true); // * crosses ':' as in IAM
    expect(globMatch('system:serviceaccount:*:default', 'system:serviceaccount:flyte:default2')).toBe(false);
    expect(globMatch('a?c', 'abc')).toBe(true);
    expect(globMatch('a?c', 'ac')).toBe(false);
    expect(globMatch('*', '')).toBe(true);
    expect(globMatch('', '')).toBe(true);
    expect(globMatch('', 'a')).toBe(false);
    expect(globMatch('a*b*c', 'aXbYbZc')).toBe(true);
    expect(globMatch('A*', 'abc')).toBe(false); // case-sensitive
  });

  it('property: agrees with a regular-expression oracle', () => {
    const ch = fc.constantFrom('a', 'b', ':', '-');
    const pat = fc.string({ unit: fc.oneof(ch, fc.constantFrom('*', '?')), maxLength: 8 });
    const val = fc.string({ unit: ch, maxLength: 10 });
    fc.assert(
      fc.property(pat, val, (p, v) => {
        const re = new RegExp(
          `^${p
            .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
            .replace(/\*/g, '[\\s\\S]*')
            .replace(/\?/g, '[\\s\\S]')}$`,
        );
        expect(globMatch(p, v)).toBe(re.test(v));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('canAssumeWithWebIdentity', () => {
  it('StringEquals on aud and sub, single values', () => {
    const p = doc(allow({ StringEquals: { [AUD]: 'sts.amazonaws.com', [SUB]: 'system:serviceaccount:ns:sa' } }));
    expect(can(p, 'system:serviceaccount:ns:sa')).toBe(true);
    expect(can(p, 'system:serviceaccount:ns:sa', 'other')).toBe(false); // AND
    expect(can(p, 'system:serviceaccount:ns:sb')).toBe(false);
  });

  it('lists are any-of', () => {
    const p = doc(allow({ StringEquals: { [AUD]: ['x', 'sts.amazonaws.com'], [SUB]: ['system:serviceaccount:a:sa', 'system:serviceaccount:b:sa'] } }));
    expect(can(p, 'system:serviceaccount:a:sa')).toBe(true);
    expect(can(p, 'system:serviceaccount:b:sa', 'x')).toBe(true);
    expect(can(p, 'system:serviceaccount:c:sa')).toBe(false);
  });

  it('StringLike globs; StringEquals does not glob', () => {
    const like = doc(allow({ StringEquals: { [AUD]: 'sts.amazonaws.com' }, StringLike: { [SUB]: 'system:serviceaccount:*:default' } }));
    expect(can(like, 'system:serviceaccount:any:default')).toBe(true);
    expect(can(like, 'system:serviceaccount:any:other')).toBe(false);
    const eq = doc(allow({ StringEquals: { [AUD]: 'sts.amazonaws.com', [SUB]: 'system:serviceaccount:*:default' } }));
    expect(can(eq, 'system:serviceaccount:any:default')).toBe(false);
    expect(can(eq, 'system:serviceaccount:*:default')).toBe(true);
  });

  it('condition keys are case-insensitive, values are not', () => {
    const p = doc(allow({ StringEquals: { [AUD.toUpperCase()]: 'sts.amazonaws.com', [SUB.toUpperCase()]: 'system:serviceaccount:ns:sa' } }));
    expect(can(p, 'system:serviceaccount:ns:sa')).toBe(true);
    expect(can(p, 'system:serviceaccount:NS:sa')).toBe(false);
  });

  it('missing condition key: positive operators fail, IfExists / negated pass', () => {
    expect(can(doc(allow({ StringEquals: { 'other:key': 'x' } })), 's')).toBe(false);
    expect(can(doc(allow({ StringEqualsIfExists: { 'other:key': 'x' } })), 's')).toBe(true);
    expect(can(doc(allow({ StringNotEquals: { 'other:key': 'x' } })), 's')).toBe(true);
    expect(can(doc(allow({ Null: { 'other:key': 'true' } })), 's')).toBe(true);
    expect(can(doc(allow({ Null: { [SUB]: 'true' } })), 's')).toBe(false);
  });

  it('no condition: any token of that provider (why we never emit one)', () => {
    expect(can(doc(allow()), 'anything', 'anything')).toBe(true);
    expect(can(doc(allow()), 'anything', 'anything', FOREIGN)).toBe(false);
  });

  it('no Allow → denied; Deny overrides Allow', () => {
    expect(can(doc(), 'system:serviceaccount:ns:sa')).toBe(false);
    const p = doc(allow({ StringEquals: { [AUD]: 'sts.amazonaws.com' }, StringLike: { [SUB]: 'system:serviceaccount:*:sa' } }), {
      Effect: 'Deny',
      Principal: '*',
      Action: 'sts:*',
      Condition: { StringEquals: { [SUB]: 'system:serviceaccount:kube-system:sa' } },
    });
    expect(can(p, 'system:serviceaccount:ns:sa')).toBe(true);
    expect(can(p, 'system:serviceaccount:kube-system:sa')).toBe(false);
  });

  it('action and principal must match', () => {
    const base = { StringEquals: { [AUD]: 'sts.amazonaws.com', [SUB]: 's' } };
    expect(can(doc(allow(base, { Action: 'sts:AssumeRole' })), 's')).toBe(false);
    expect(can(doc(allow(base, { Action: ['sts:TagSession', 'STS:AssumeRoleWith*'] })), 's')).toBe(true); // actions: case-insensitive globs
    expect(can(doc(allow(base, { Principal: { Federated: FOREIGN.oidcProviderArn } })), 's')).toBe(false);
    expect(can(doc(allow(base, { Principal: { AWS: PROD.oidcProviderArn } })), 's')).toBe(false);
    expect(can(doc(allow(base, { Principal: '*' })), 's')).toBe(true);
  });

  it('errs towards denied on what it does not understand', () => {
    const unknownOp = { StringEquals: { [AUD]: 'sts.amazonaws.com' }, DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } };
    expect(can(doc(allow(unknownOp)), 's')).toBe(false);
    expect(can(doc(allow({ StringEquals: { [AUD]: 'sts.amazonaws.com' } }), { Effect: 'Deny', Principal: '*', Action: '*', Condition: unknownOp }), 's')).toBe(
      false,
    );
    expect(can(doc({ Effect: 'Allow', Action: 'sts:AssumeRoleWithWebIdentity' }), 's')).toBe(false); // no principal
  });

  it('NotAction / NotPrincipal', () => {
    expect(can(doc({ Effect: 'Allow', Principal: { Federated: PROD.oidcProviderArn }, NotAction: 'sts:AssumeRole' }), 's', 'a')).toBe(true);
    const p = doc(allow(), { Effect: 'Deny', NotPrincipal: { Federated: PROD.oidcProviderArn }, Action: '*' });
    expect(can(p, 's')).toBe(true);
    expect(isAllowed(p, { action: 'sts:AssumeRoleWithWebIdentity', principal: { type: 'Federated', id: FOREIGN.oidcProviderArn }, context: {} })).toBe(false);
  });

  it('set operators over multi-valued keys', () => {
    const req = (v: string[]) => ({
      action: 'sts:AssumeRoleWithWebIdentity',
      principal: { type: 'Federated' as const, id: PROD.oidcProviderArn },
      context: { 'k:v': v },
    });
    const any = doc(allow({ 'ForAnyValue:StringEquals': { 'k:v': ['a', 'b'] } }));
    const all = doc(allow({ 'ForAllValues:StringEquals': { 'k:v': ['a', 'b'] } }));
    expect(isAllowed(any, req(['a', 'z']))).toBe(true);
    expect(isAllowed(all, req(['a', 'z']))).toBe(false);
    expect(isAllowed(all, req(['a', 'b']))).toBe(true);
  });
});

describe('canAssumeAsService (VM stack)', () => {
  it('the EC2 trust policy lets EC2 and nothing else assume the role', async () => {
    const p = buildEc2TrustPolicy();
    expect(canAssumeAsService(p, 'ec2.amazonaws.com')).toBe(true);
    expect(canAssumeAsService(p, 'lambda.amazonaws.com')).toBe(false);
    // The same decisions from a third-party evaluator.
    expect(await simulatedServiceCanAssume(p, 'ec2.amazonaws.com')).toBe(true);
    expect(await simulatedServiceCanAssume(p, 'lambda.amazonaws.com')).toBe(false);
    expect(can(p, 'system:serviceaccount:ns:sa')).toBe(false);
    expect(isAllowed(p, { action: 'sts:AssumeRole', principal: { type: 'AWS', id: 'arn:aws:iam::999999999999:root' }, context: {} })).toBe(false);
  });
});
