import { ApiException, PatchStrategy, setHeaderOptions, type CoreV1Api, type V1ServiceAccount } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxServer, type SandboxServer } from '../../local/sandbox/index.js';
import { coreV1 } from './helpers.js';

let server: SandboxServer;
let api: CoreV1Api;
const NS = 'anyscale-operator';
const ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';

beforeAll(async () => {
  server = await startSandboxServer({ port: 0 });
  api = coreV1(server.url);
});
afterAll(async () => {
  await server.close();
});

async function apiError(promise: Promise<unknown>): Promise<{ code: number; status: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiException);
    const e = err as ApiException<string>;
    return { code: e.code, status: JSON.parse(e.body) as Record<string, unknown> };
  }
  throw new Error('expected the call to fail');
}

describe('Kubernetes ServiceAccounts via @kubernetes/client-node', () => {
  it('has the pre-created namespaces', async () => {
    const list = await api.listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toEqual(['anyscale-operator', 'default']);
    expect(list.items[0]?.status?.phase).toBe('Active');
  });

  it('creates and reads a ServiceAccount with server-set metadata', async () => {
    const body: V1ServiceAccount = {
      metadata: { name: 'worker', labels: { app: 'ray' }, annotations: { [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/a' } },
    };
    const created = await api.createNamespacedServiceAccount({ namespace: NS, body });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(created.metadata?.namespace).toBe(NS);

    const read = await api.readNamespacedServiceAccount({ name: 'worker', namespace: NS });
    expect(read.metadata?.annotations?.[ROLE_ANNOTATION]).toBe('arn:aws:iam::123456789012:role/a');
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
  });

  it('returns Status errors: AlreadyExists, NotFound (missing namespace / object), Invalid', async () => {
    let err = await apiError(api.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'worker' } } }));
    expect(err.code).toBe(409);
    expect(err.status).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', code: 409 });

    err = await apiError(api.createNamespacedServiceAccount({ namespace: 'nope', body: { metadata: { name: 'x' } } }));
    expect(err.code).toBe(404);
    expect(err.status).toMatchObject({ reason: 'NotFound', message: 'namespaces "nope" not found' });

    err = await apiError(api.readNamespacedServiceAccount({ name: 'ghost', namespace: NS }));
    expect(err.status).toMatchObject({ reason: 'NotFound', code: 404, details: { name: 'ghost', kind: 'serviceaccounts' } });

    err = await apiError(api.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'Bad_Name' } } }));
    expect(err.code).toBe(422);
    expect(err.status.reason).toBe('Invalid');
  });

  it('lists per namespace and across namespaces, with labelSelector and limit/continue', async () => {
    for (const name of ['w1', 'w2', 'w3']) {
      await api.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name, labels: { app: 'ray', tier: name } } } });
    }
    const inNs = await api.listNamespacedServiceAccount({ namespace: NS });
    expect(inNs.items.map((s) => s.metadata?.name)).toEqual(['default', 'w1', 'w2', 'w3', 'worker']);
    expect(Number(inNs.metadata?.resourceVersion)).toBeGreaterThan(0);

    const selected = await api.listNamespacedServiceAccount({ namespace: NS, labelSelector: 'app=ray,tier!=w2' });
    expect(selected.items.map((s) => s.metadata?.name)).toEqual(['w1', 'w3', 'worker']);
    const setBased = await api.listServiceAccountForAllNamespaces({ labelSelector: 'tier in (w1,w2)' });
    expect(setBased.items.map((s) => s.metadata?.name)).toEqual(['w1', 'w2']);

    const all = await api.listServiceAccountForAllNamespaces({});
    expect(all.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)).toContain('default/default');

    const pages: string[] = [];
    let token: string | undefined;
    do {
      const page = await api.listServiceAccountForAllNamespaces({ limit: 2, _continue: token });
      expect(page.items.length).toBeLessThanOrEqual(2);
      pages.push(...page.items.map((s) => s.metadata?.name as string));
      token = page.metadata?._continue;
    } while (token);
    expect(pages).toEqual(all.items.map((s) => s.metadata?.name));
  });

  it('merge-patches annotations and labels, bumping resourceVersion only on change', async () => {
    const before = await api.readNamespacedServiceAccount({ name: 'worker', namespace: NS });
    const patched = await api.patchNamespacedServiceAccount(
      {
        name: 'worker',
        namespace: NS,
        body: { metadata: { annotations: { [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/b' }, labels: { app: null, managed: 'true' } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.metadata?.annotations?.[ROLE_ANNOTATION]).toBe('arn:aws:iam::123456789012:role/b');
    expect(patched.metadata?.labels).toEqual({ managed: 'true' });
    expect(Number(patched.metadata?.resourceVersion)).toBeGreaterThan(Number(before.metadata?.resourceVersion));
    expect(patched.metadata?.uid).toBe(before.metadata?.uid);

    const noop = await api.patchNamespacedServiceAccount(
      { name: 'worker', namespace: NS, body: { metadata: { labels: { managed: 'true' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(noop.metadata?.resourceVersion).toBe(patched.metadata?.resourceVersion);
  });

  it('applies JSON patches (default) and strategic merge patches', async () => {
    const json = await api.patchNamespacedServiceAccount({
      name: 'worker',
      namespace: NS,
      body: [{ op: 'replace', path: '/metadata/annotations/eks.amazonaws.com~1role-arn', value: 'arn:aws:iam::123456789012:role/c' }],
    });
    expect(json.metadata?.annotations?.[ROLE_ANNOTATION]).toBe('arn:aws:iam::123456789012:role/c');

    const failedTest = await apiError(
      api.patchNamespacedServiceAccount({ name: 'worker', namespace: NS, body: [{ op: 'test', path: '/metadata/name', value: 'other' }] }),
    );
    expect(failedTest.code).toBe(422);

    const smp = await api.patchNamespacedServiceAccount(
      { name: 'worker', namespace: NS, body: { metadata: { labels: { team: 'ml' } }, automountServiceAccountToken: false } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(smp.metadata?.labels).toEqual({ managed: 'true', team: 'ml' });
    expect(smp.automountServiceAccountToken).toBe(false);
  });

  it('rejects a stale resourceVersion with 409 Conflict (replace and patch)', async () => {
    const current = await api.readNamespacedServiceAccount({ name: 'worker', namespace: NS });
    const stale = structuredClone(current);
    const fresh = await api.replaceNamespacedServiceAccount({
      name: 'worker',
      namespace: NS,
      body: { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata?.annotations, note: 'first' } } },
    });
    expect(fresh.metadata?.annotations?.note).toBe('first');

    const err = await apiError(
      api.replaceNamespacedServiceAccount({
        name: 'worker',
        namespace: NS,
        body: { ...stale, metadata: { ...stale.metadata, annotations: { note: 'second' } } },
      }),
    );
    expect(err.code).toBe(409);
    expect(err.status).toMatchObject({ reason: 'Conflict', code: 409 });
    expect(String(err.status.message)).toContain('the object has been modified');

    const patchErr = await apiError(
      api.patchNamespacedServiceAccount(
        { name: 'worker', namespace: NS, body: { metadata: { resourceVersion: stale.metadata?.resourceVersion, labels: { x: 'y' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(patchErr.code).toBe(409);

    const ok = await api.patchNamespacedServiceAccount(
      { name: 'worker', namespace: NS, body: { metadata: { resourceVersion: fresh.metadata?.resourceVersion, labels: { x: 'y' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(ok.metadata?.labels?.x).toBe('y');
  });

  it('deletes ServiceAccounts and namespaces (with their contents)', async () => {
    await api.deleteNamespacedServiceAccount({ name: 'w3', namespace: NS });
    expect((await apiError(api.readNamespacedServiceAccount({ name: 'w3', namespace: NS }))).code).toBe(404);

    await api.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await api.createNamespacedServiceAccount({ namespace: 'team-a', body: { metadata: { name: 'x' } } });
    expect(server.sandbox.k8s.serviceAccounts('team-a').map((s) => s.metadata.name)).toEqual(['default', 'x']);
    await api.deleteNamespace({ name: 'team-a' });
    expect(server.sandbox.k8s.serviceAccounts('team-a')).toEqual([]);
    expect(server.sandbox.k8s.namespaces()).toEqual(['anyscale-operator', 'default']);
  });

  it('logs Kubernetes calls with verb and resource', () => {
    const counts = server.sandbox.calls.countsByAction({ service: 'k8s' });
    expect(counts['k8s:PATCH serviceaccounts']).toBeGreaterThanOrEqual(6);
    expect(counts['k8s:LIST serviceaccounts']).toBeGreaterThan(0);
    expect(server.sandbox.calls.filter({ action: 'GET serviceaccounts' }).every((c) => !c.mutating)).toBe(true);
  });
});
