/** The plan route's diffs: policies compared statement by statement as IAM reads them, one changed statement line by line. */
import { describe, expect, it } from 'vitest';
import { lineDiff, policyDiff } from '../../lib/drift/changes.js';

const stmt = (sub: string | string[]) => ({
  Effect: 'Allow',
  Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/oidc.example/id/X' },
  Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: { StringEquals: { 'oidc.example/id/X:sub': sub } },
});
const doc = (...Statement: object[]) => ({ Version: '2012-10-17', Statement });

describe('policyDiff', () => {
  it('a new document is all +, an equal one (order, list vs single value, Sid) all kept', () => {
    const d = policyDiff(null, doc(stmt('a')));
    expect(d.split('\n').every((l) => l.startsWith('+ '))).toBe(true);
    const same = policyDiff(doc({ ...stmt(['a']), Sid: 'x' }), doc(stmt('a')));
    expect(same.split('\n').every((l) => l.startsWith('  '))).toBe(true);
  });

  it('one statement changed in place: only the changed lines are marked', () => {
    const d = policyDiff(doc(stmt('system:serviceaccount:ns:a')), doc(stmt(['system:serviceaccount:ns:a', 'system:serviceaccount:team:a'])));
    const marked = d.split('\n').filter((l) => !l.startsWith('  '));
    expect(marked).toEqual([
      '-       "oidc.example/id/X:sub": "system:serviceaccount:ns:a"',
      '+       "oidc.example/id/X:sub": [',
      '+         "system:serviceaccount:ns:a",',
      '+         "system:serviceaccount:team:a"',
      '+       ]',
    ]);
  });

  it('several statements changed: whole statements added and removed; an unchanged one kept', () => {
    const extra = { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' };
    const d = policyDiff(doc(stmt('a'), stmt('b')), doc(stmt('a'), stmt('c'), extra)).split('\n');
    expect(d.filter((l) => l.startsWith('- ')).join('\n')).toContain('"b"');
    expect(d.filter((l) => l.startsWith('+ ')).join('\n')).toContain('"c"');
    expect(d.filter((l) => l.startsWith('+ ')).join('\n')).toContain('s3:GetObject');
    expect(d.filter((l) => l.startsWith('  ')).join('\n')).toContain('"a"');
  });
});

describe('lineDiff', () => {
  it('keeps the longest common subsequence', () => {
    expect(lineDiff(['a', 'b', 'c'], ['a', 'x', 'c', 'd'])).toEqual(['  a', '- b', '+ x', '  c', '+ d']);
    expect(lineDiff([], ['a'])).toEqual(['+ a']);
    expect(lineDiff(['a'], [])).toEqual(['- a']);
  });
});
