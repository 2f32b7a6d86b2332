import { ApiException } from '@kubernetes/client-node';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EKS_TOKEN_PREFIX } from '../../adapters/k8s/eks-token.js';
import { KubeServiceAccounts, mapKubeError } from '../../adapters/k8s/service-accounts.js';
import { createTargets } from '../../adapters/targets.js';

const apiError = (code: number, reason: string) =>
  new ApiException<string>(code, `HTTP-Code: ${code}`, JSON.stringify({ kind: 'Status', status: 'Failure', reason, message: `msg ${reason}`, code }), {});

describe('mapKubeError', () => {
  it('maps HTTP statuses and transport failures to TargetErrors', () => {
    const cases: Array<[unknown, 'read' | 'create' | 'write', string, boolean]> = [
      [apiError(409, 'AlreadyExists'), 'create', 'AlreadyExistsError', false],
      [apiError(409, 'Conflict'), 'write', 'ConflictError', true],
      [apiError(429, 'TooManyRequests'), 'read', 'ThrottledError', true],
      [apiError(500, 'InternalError'), 'read', 'TransientError', true],
      [apiError(503, 'ServiceUnavailable'), 'write', 'TransientError', true],
      [apiError(410, 'Expired'), 'read', 'TransientError', true],
      [apiError(401, 'Unauthorized'), 'read', 'AccessDeniedError', false],
      [apiError(403, 'Forbidden'), 'write', 'AccessDeniedError', false],
      [apiError(422, 'Invalid'), 'create', 'InvalidInputError', false],
      [apiError(400, 'BadRequest'), 'write', 'InvalidInputError', false],
      [Object.assign(new Error('connect ECONNREFUSED'), { name: 'FetchError', type: 'system', code: 'ECONNREFUSED' }), 'read', 'TransientError', true],
      [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'write', 'TransientError', true],
      [new TypeError('boom'), 'write', 'UnexpectedTargetError', false],
    ];
    for (const [err, kind, name, retryable] of cases) {
      const mapped = mapKubeError(err, 'ctx', kind);
      expect({ name: mapped.name, retryable: mapped.retryable }).toEqual({ name, retryable });
    }
    expect(mapKubeError(apiError(403, 'Forbidden'), 'ctx').message).toBe('ctx: HTTP 403: Forbidden: msg Forbidden');
  });
});

describe('bearer tokens', () => {
  let server: ReturnType<typeof createServer>;
  let url: string;
  const seen: IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'x' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends a static token, and calls a token function per request', async () => {
    seen.length = 0;
    await new KubeServiceAccounts({ server: url, token: 'static' }).namespaceExists('x');
    let n = 0;
    const dynamic = new KubeServiceAccounts({ server: url, token: async () => `t${++n}` });
    await dynamic.namespaceExists('x');
    await dynamic.namespaceExists('x');
    expect(seen.map((h) => h.authorization)).toEqual(['Bearer static', 'Bearer t1', 'Bearer t2']);
  });

  it('createTargets (aws mode) reaches Kubernetes with an EKS token for the cluster', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret' });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
    try {
      seen.length = 0;
      const targets = createTargets({ mode: 'aws', region: 'eu-west-1', k8sServer: url });
      const k8s = targets.kubernetes({ name: 'ml', issuerHost: 'h', oidcProviderArn: 'arn', accountId: '1' });
      expect(await k8s.namespaceExists('x')).toBe(true);
      const auth = seen[0]?.authorization ?? '';
      expect(auth.startsWith(`Bearer ${EKS_TOKEN_PREFIX}`)).toBe(true);
      const signed = new URL(Buffer.from(auth.slice(`Bearer ${EKS_TOKEN_PREFIX}`.length), 'base64url').toString('utf8'));
      expect(signed.host).toBe('sts.eu-west-1.amazonaws.com');
      expect(signed.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDTEST\/\d{8}\/eu-west-1\/sts\/aws4_request$/);
    } finally {
      process.env = saved;
    }
  });
});
