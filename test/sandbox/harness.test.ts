import { CreateRoleCommand, GetRoleCommand, IAMServiceException } from '@aws-sdk/client-iam';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { ApiException, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, faults, startSandboxServer, type SandboxServer, type SandboxSnapshot } from '../../local/sandbox/index.js';
import { awsClients, coreV1, irsaTrust } from './helpers.js';

let server: SandboxServer;
let trust: string;

beforeAll(async () => {
  server = await startSandboxServer({ port: 0 });
  trust = irsaTrust(server.sandbox.eks.oidcProviderArn('sandbox') as string);
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.sandbox.setFaults(undefined);
  server.sandbox.setLatency(undefined);
  server.sandbox.reset();
});

describe('fault injection', () => {
  it('returns IAM Throttling (400) that the SDK recognises and retries', async () => {
    server.sandbox.setFaults(faults.throttle({ action: 'CreateRole' }, 2));
    const retrying = awsClients(server.url, 3).iam;
    await retrying.send(new CreateRoleCommand({ RoleName: 'throttled', AssumeRolePolicyDocument: trust }));
    const creates = server.sandbox.calls.filter({ action: 'CreateRole' });
    expect(creates.map((c) => [c.status, c.errorCode, c.faulted])).toEqual([
      [400, 'Throttling', true],
      [400, 'Throttling', true],
      [200, undefined, undefined],
    ]);
    expect(server.sandbox.iam.findRole('throttled')).toBeDefined();
  });

  it('surfaces a custom fault without executing the call', async () => {
    server.sandbox.setFaults((call) =>
      call.service === 'iam' && call.params.RoleName === 'doomed' ? { status: 500, code: 'ServiceFailure', message: 'boom' } : undefined,
    );
    const err = await awsClients(server.url)
      .iam.send(new CreateRoleCommand({ RoleName: 'doomed', AssumeRolePolicyDocument: trust }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IAMServiceException);
    expect((err as IAMServiceException).name).toBe('ServiceFailureException');
    expect((err as IAMServiceException).$metadata.httpStatusCode).toBe(500);
    expect(server.sandbox.iam.findRole('doomed')).toBeUndefined();
  });

  it('afterExecute faults commit the write but report a failure (lost response)', async () => {
    server.sandbox.setFaults(faults.failTimes(1, { status: 503, code: 'ServiceUnavailable', afterExecute: true }, { action: 'CreateRole' }));
    await expect(awsClients(server.url).iam.send(new CreateRoleCommand({ RoleName: 'ghost-write', AssumeRolePolicyDocument: trust }))).rejects.toThrow();
    expect(server.sandbox.iam.findRole('ghost-write')).toBeDefined();
  });

  it('renders faults as Kubernetes Status and EKS JSON errors', async () => {
    server.sandbox.setFaults(faults.throttle());
    const k8sErr = await coreV1(server.url)
      .readNamespacedServiceAccount({ name: 'default', namespace: 'default' })
      .catch((e: unknown) => e);
    expect(k8sErr).toBeInstanceOf(ApiException);
    expect((k8sErr as ApiException<string>).code).toBe(429);
    expect(JSON.parse((k8sErr as ApiException<string>).body)).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429 });

    const eksErr = await awsClients(server.url)
      .eks.send(new DescribeClusterCommand({ name: 'sandbox' }))
      .catch((e: unknown) => e);
    expect((eksErr as { name: string }).name).toBe('ThrottlingException');
  });
});

describe('latency, concurrency and call counting', () => {
  it('injects per-call latency and tracks peak in-flight requests', async () => {
    server.sandbox.setLatency(50);
    server.sandbox.calls.resetPeak();
    const { iam } = awsClients(server.url);
    const started = Date.now();
    await Promise.all(Array.from({ length: 8 }, (_, i) => iam.send(new CreateRoleCommand({ RoleName: `c-${i}`, AssumeRolePolicyDocument: trust }))));
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(server.sandbox.calls.peakInFlight).toBeGreaterThanOrEqual(2);
    expect(server.sandbox.calls.inFlight).toBe(0);
    expect(server.sandbox.calls.filter({ action: 'CreateRole' }).every((c) => (c.durationMs ?? 0) >= 45)).toBe(true);
  });

  it('latency can be a function of the call', async () => {
    server.sandbox.setLatency((call) => (call.mutating ? 0 : 40));
    const started = Date.now();
    await awsClients(server.url)
      .iam.send(new GetRoleCommand({ RoleName: 'x' }))
      .catch(() => undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  });

  it('proves a re-run made zero mutating calls', async () => {
    const api = coreV1(server.url);
    const { iam } = awsClients(server.url);
    const ensure = async () => {
      const existing = await iam.send(new GetRoleCommand({ RoleName: 'idem' })).catch(() => undefined);
      if (!existing) await iam.send(new CreateRoleCommand({ RoleName: 'idem', AssumeRolePolicyDocument: trust }));
      const sa = await api.readNamespacedServiceAccount({ name: 'default', namespace: 'anyscale-operator' });
      if (sa.metadata?.annotations?.['eks.amazonaws.com/role-arn'] === undefined) {
        await api.patchNamespacedServiceAccount(
          { name: 'default', namespace: 'anyscale-operator', body: { metadata: { annotations: { 'eks.amazonaws.com/role-arn': 'arn' } } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      }
    };
    await ensure();
    expect(server.sandbox.calls.mutatingCount()).toBe(2);
    const mark = server.sandbox.calls.mark();
    await ensure();
    expect(server.sandbox.calls.mutatingCount(mark)).toBe(0);
    expect(server.sandbox.calls.countsByAction({ sinceSeq: mark })).toEqual({ 'iam:GetRole': 1, 'k8s:GET serviceaccounts': 1 });
  });
});

describe('state persistence', () => {
  it('snapshot() is JSON and restore() brings everything back', async () => {
    const a = createSandbox();
    a.iam.createRole({ roleName: 'persisted', assumeRolePolicyDocument: trust, tags: [{ Key: 'k', Value: 'v' }] });
    a.iam.putRolePolicy('persisted', 'inline', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }));
    a.k8s.create('serviceaccounts', 'default', { metadata: { name: 'kept', annotations: { a: 'b' } } });
    const json = JSON.stringify(a.snapshot());

    const b = createSandbox();
    b.restore(json);
    expect(b.iam.getRole('persisted').tags).toEqual([{ Key: 'k', Value: 'v' }]);
    expect(b.iam.listRolePolicies('persisted')).toEqual(['inline']);
    expect(b.k8s.serviceAccount('default', 'kept')?.metadata.annotations).toEqual({ a: 'b' });
    expect(b.k8s.resourceVersion()).toBe(a.k8s.resourceVersion());
    expect(b.snapshot()).toEqual(JSON.parse(json));
  });

  it('load/save hooks persist after each committed write', async () => {
    let saved: SandboxSnapshot | undefined;
    let saves = 0;
    const hooks = {
      load: () => saved,
      save: (take: () => SandboxSnapshot) => {
        saved = JSON.parse(JSON.stringify(take())) as SandboxSnapshot;
        saves += 1;
      },
    };
    const first = await startSandboxServer({ port: 0, state: hooks });
    try {
      await awsClients(first.url).iam.send(new CreateRoleCommand({ RoleName: 'durable', AssumeRolePolicyDocument: trust }));
      await awsClients(first.url).iam.send(new GetRoleCommand({ RoleName: 'durable' }));
      expect(saves).toBe(1);
    } finally {
      await first.close();
    }
    const second = createSandbox({ state: hooks });
    expect(second.iam.getRole('durable').arn).toBe('arn:aws:iam::123456789012:role/durable');
  });

  it('reset() restores the initial clusters, providers and namespaces', () => {
    server.sandbox.iam.createRole({ roleName: 'temp', assumeRolePolicyDocument: trust });
    server.sandbox.k8s.createNamespace('scratch');
    server.sandbox.reset();
    expect(server.sandbox.iam.listRoles()).toEqual([]);
    expect(server.sandbox.iam.listOpenIdConnectProviders()).toHaveLength(1);
    expect(server.sandbox.k8s.namespaces()).toEqual(['anyscale-operator', 'default']);
    expect(server.sandbox.calls.count()).toBe(0);
  });
});

describe('mounting', () => {
  it('handle() works when mounted by another server under /sandbox', async () => {
    const sandbox = createSandbox({ accountId: '210987654321', region: 'eu-west-1', clusters: [{ name: 'prod' }] });
    const host = createServer((req, res) => {
      if (req.url?.startsWith('/sandbox/')) void sandbox.handle(req, res, req.url.slice('/sandbox'.length));
      else res.writeHead(200).end('main app');
    });
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
    try {
      const { cluster } = await awsClients(url).eks.send(new DescribeClusterCommand({ name: 'prod' }));
      expect(cluster?.arn).toBe('arn:aws:eks:eu-west-1:210987654321:cluster/prod');
      expect(cluster?.identity?.oidc?.issuer).toMatch(/^https:\/\/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
      const ns = await coreV1(url).listNamespace();
      expect(ns.items).toHaveLength(2);
    } finally {
      await new Promise<void>((r) => {
        host.close(() => r());
        host.closeAllConnections();
      });
    }
  });
});
