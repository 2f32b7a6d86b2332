import { describe, expect, it } from 'vitest';
import { jsonPatch, mergePatch, strategicMergePatch } from '../../local/sandbox/k8s-patch.js';
import { parseLabelSelector } from '../../local/sandbox/k8s-selectors.js';
import type { K8sObject } from '../../local/sandbox/k8s-resources.js';
import { K8sState } from '../../local/sandbox/k8s-state.js';
import { parsePolicyDocument, policySize } from '../../local/sandbox/policy.js';
import { IamState } from '../../local/sandbox/iam-state.js';
import { defaultIssuer } from '../../local/sandbox/eks.js';
import { encodePolicy } from '../../local/sandbox/iam-xml.js';
import { humanAge } from '../../local/sandbox/k8s.js';

const obj = (labels: Record<string, string>): K8sObject => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name: 'x', uid: 'u', resourceVersion: '1', creationTimestamp: '', labels },
});

describe('patches', () => {
  it('merge patch (RFC 7386) sets, nests and deletes with null', () => {
    expect(mergePatch({ a: 1, m: { x: 1, y: 2 } }, { a: null, m: { y: null, z: 3 }, n: [1] })).toEqual({ m: { x: 1, z: 3 }, n: [1] });
  });
  it('strategic merge patch ignores $-directives', () => {
    expect(strategicMergePatch({ metadata: { labels: { a: '1' } } }, { metadata: { labels: { b: '2' } }, $setElementOrder: [] })).toEqual({
      metadata: { labels: { a: '1', b: '2' } },
    });
  });
  it('JSON patch handles ~1 escapes, arrays, move/copy/test', () => {
    const doc = { metadata: { annotations: { 'a/b': '1' } }, list: [1, 2] };
    expect(
      jsonPatch(doc, [
        { op: 'replace', path: '/metadata/annotations/a~1b', value: '2' },
        { op: 'add', path: '/list/-', value: 3 },
        { op: 'remove', path: '/list/0' },
        { op: 'copy', from: '/list/0', path: '/first' },
        { op: 'move', from: '/first', path: '/moved' },
        { op: 'test', path: '/moved', value: 2 },
      ]),
    ).toEqual({ metadata: { annotations: { 'a/b': '2' } }, list: [2, 3], moved: 2 });
    expect(doc.list).toEqual([1, 2]);
    expect(() => jsonPatch(doc, [{ op: 'remove', path: '/nope' }])).toThrow();
  });
});

describe('label selectors', () => {
  it.each([
    ['app=ray', true],
    ['app==ray,tier!=db', true],
    ['tier in (web, api)', true],
    ['tier notin (web)', false],
    ['app', true],
    ['!missing', true],
    ['!app', false],
    ['example.com/key=v', true],
  ])('%s → %s', (selector, expected) => {
    expect(parseLabelSelector(selector)(obj({ app: 'ray', tier: 'web', 'example.com/key': 'v' }))).toBe(expected);
  });
  it('rejects garbage', () => {
    expect(() => parseLabelSelector('a=b=c')).toThrow(/unable to parse/);
  });
});

describe('policy rules', () => {
  it('counts size without whitespace', () => {
    expect(policySize('{ "a" :\n\t"b c" }')).toBe('{"a":"bc"}'.length);
  });
  it('rejects identity policies with principals and trust policies with resources', () => {
    const identity = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*', Principal: '*' }] };
    expect(() => parsePolicyDocument(JSON.stringify(identity), 'identity')).toThrow(/principal/);
    const trust = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'ec2.amazonaws.com' }, Resource: '*' }],
    };
    expect(() => parsePolicyDocument(JSON.stringify(trust), 'trust')).toThrow(/Resource/);
    const badAction = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Principal: { Service: 'ec2.amazonaws.com' } }] };
    expect(() => parsePolicyDocument(JSON.stringify(badAction), 'trust')).toThrow(/STS/);
  });
  it('URL-encodes documents the way IAM does (decodable)', () => {
    const doc = `{"a":"b c!'()*"}`;
    expect(encodePolicy(doc)).not.toMatch(/[ !'()*]/);
    expect(decodeURIComponent(encodePolicy(doc))).toBe(doc);
  });
  it('role names are unique case-insensitively and paths are validated', () => {
    const iam = new IamState({ accountId: '123456789012', strictPrincipals: false });
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'ec2.amazonaws.com' } }],
    });
    iam.createRole({ roleName: 'Role', assumeRolePolicyDocument: trust });
    expect(() => iam.createRole({ roleName: 'role', assumeRolePolicyDocument: trust })).toThrow(/already exists/);
    expect(() => iam.createRole({ roleName: 'p', path: 'no-slash', assumeRolePolicyDocument: trust })).toThrow(/regular expression/);
    expect(iam.getRole('ROLE').roleName).toBe('Role');
  });
});

describe('EKS issuer and Kubernetes store', () => {
  it('derives a stable 32-hex issuer id from the cluster name', () => {
    expect(defaultIssuer('us-east-1', 'sandbox')).toBe(defaultIssuer('us-east-1', 'sandbox'));
    expect(defaultIssuer('us-east-1', 'sandbox')).toMatch(/^https:\/\/oidc\.eks\.us-east-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
    expect(defaultIssuer('us-east-1', 'a')).not.toBe(defaultIssuer('us-east-1', 'b'));
  });
  it('resourceVersion is a global monotonic counter; no-op updates do not bump it', () => {
    const k8s = new K8sState();
    const a = k8s.create('serviceaccounts', 'default', { metadata: { name: 'a' } }).object;
    const b = k8s.create('serviceaccounts', 'default', { metadata: { name: 'b' } }).object;
    expect(Number(b.metadata.resourceVersion)).toBe(Number(a.metadata.resourceVersion) + 1);
    const same = k8s.replace('serviceaccounts', 'default', 'a', a);
    expect(same.committed).toBe(false);
    expect(same.object.metadata.resourceVersion).toBe(a.metadata.resourceVersion);
    const dry = k8s.patch('serviceaccounts', 'default', 'a', 'application/merge-patch+json', { metadata: { labels: { x: 'y' } } }, { dryRun: true });
    expect(dry.object.metadata.labels).toEqual({ x: 'y' });
    expect(k8s.serviceAccount('default', 'a')?.metadata.labels).toBeUndefined();
    expect(() => k8s.patch('serviceaccounts', 'default', 'a', 'application/apply-patch+yaml', {})).toThrow(/unknown format/);
    expect(() => k8s.create('serviceaccounts', 'default', { metadata: { name: 'c', labels: { bad: 'has space' } } })).toThrow(/invalid/);
  });
  it('formats ages like kubectl', () => {
    const now = Date.parse('2024-01-10T00:00:00Z');
    expect(humanAge('2024-01-09T23:59:30Z', now)).toBe('30s');
    expect(humanAge('2024-01-09T23:55:00Z', now)).toBe('5m');
    expect(humanAge('2024-01-09T20:00:00Z', now)).toBe('4h');
    expect(humanAge('2024-01-07T00:00:00Z', now)).toBe('3d');
  });
});
