import { describe, expect, it } from 'vitest';
import { EKS_TOKEN_PREFIX, clearEksTokenCache, eksToken, presignEksToken } from '../../adapters/k8s/eks-token.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const signingDate = new Date('2024-05-01T12:00:00Z');

const decode = (token: string): URL => new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));

describe('eksToken', () => {
  it('is k8s-aws-v1. + unpadded base64url of a presigned STS GetCallerIdentity URL', async () => {
    const token = await eksToken({ clusterName: 'ml', region: 'us-west-2', credentials, signingDate });
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(token.slice(EKS_TOKEN_PREFIX.length)).toMatch(/^[A-Za-z0-9_-]+$/);
    const text = Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8');
    expect(text.startsWith('https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-')).toBe(true);
    const url = decode(token);
    const q = url.searchParams;
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20240501/us-west-2/sts/aws4_request');
    expect(q.get('X-Amz-Date')).toBe('20240501T120000Z');
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(q.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['host', 'x-k8s-aws-id']);
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(text).toContain('X-Amz-Expires=60');
  });

  it('is deterministic for fixed credentials and date, and depends on the cluster name', async () => {
    const a = await eksToken({ clusterName: 'ml', region: 'us-west-2', credentials, signingDate });
    const b = await eksToken({ clusterName: 'ml', region: 'us-west-2', credentials, signingDate });
    const c = await eksToken({ clusterName: 'other', region: 'us-west-2', credentials, signingDate });
    expect(a).toBe(b);
    expect(decode(c).searchParams.get('X-Amz-Signature')).not.toBe(decode(a).searchParams.get('X-Amz-Signature'));
  });

  it('carries the session token of temporary credentials', async () => {
    const { url } = await presignEksToken({ clusterName: 'ml', region: 'eu-west-1', credentials: { ...credentials, sessionToken: 'tok/en+=' }, signingDate });
    expect(new URL(url).searchParams.get('X-Amz-Security-Token')).toBe('tok/en+=');
  });

  it('caches tokens (same token within the TTL)', async () => {
    clearEksTokenCache();
    let calls = 0;
    const provider = async () => {
      calls++;
      return credentials;
    };
    const t1 = await eksToken({ clusterName: 'ml', region: 'us-east-1', credentials: provider });
    const t2 = await eksToken({ clusterName: 'ml', region: 'us-east-1', credentials: provider });
    expect(t2).toBe(t1);
    expect(calls).toBe(1);
  });
});
