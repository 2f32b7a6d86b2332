import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxServer, type SandboxServer } from '../../local/sandbox/index.js';
import { onPath } from './helpers.js';

const run = promisify(execFile);
const hasKubectl = onPath('kubectl');
const NS = 'anyscale-operator';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/irsa-worker';

let server: SandboxServer;
let dir: string;

/** Runs kubectl against the sandbox with an empty temporary KUBECONFIG (no real config is read). */
async function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') };
  const base = ['--server', `${server.url}/sandbox/k8s`, '--insecure-skip-tls-verify', '--cache-dir', join(dir, 'cache')];
  try {
    const { stdout, stderr } = await run('kubectl', [...base, ...args], { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  server = await startSandboxServer({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'sandbox-kubectl-'));
  writeFileSync(join(dir, 'kubeconfig'), '');
  server.sandbox.k8s.create('serviceaccounts', NS, { metadata: { name: 'worker', labels: { app: 'ray' } } });
});
afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasKubectl)('kubectl against the sandbox', () => {
  it('get serviceaccounts -o json', async () => {
    const { code, stdout, stderr } = await kubectl('get', 'serviceaccounts', '-n', NS, '-o', 'json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const list = JSON.parse(stdout);
    expect(list.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['default', 'worker']);
  });

  it('plain get prints a table with the names (server-side Table)', async () => {
    const { code, stdout } = await kubectl('get', 'sa', '-n', NS);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^NAME\s+SECRETS\s+AGE/);
    expect(stdout).toMatch(/^worker\s+0\s+\d+s/m);
    expect(server.sandbox.calls.count({ action: 'LIST serviceaccounts' })).toBeGreaterThanOrEqual(2);
  });

  it("apply: seed 000's `create --dry-run=client -o yaml | kubectl apply -f -`, validated as the API server does (OpenAPI v3, strict fields)", async () => {
    const manifest = await kubectl('create', 'serviceaccount', 'applied', '-n', NS, '--dry-run=client', '-o', 'yaml');
    expect(manifest.code, manifest.stderr).toBe(0);
    const file = join(dir, 'applied.yaml');
    writeFileSync(file, manifest.stdout);
    const created = await kubectl('apply', '-f', file);
    expect(created.stderr).toBe('');
    expect(created.stdout.trim()).toBe('serviceaccount/applied created');
    writeFileSync(file, manifest.stdout.replace(/^metadata:$/m, 'metadata:\n  labels:\n    team: a'));
    const again = await kubectl('apply', '-f', file);
    expect(again.code, again.stderr).toBe(0);
    expect(server.sandbox.k8s.serviceAccount(NS, 'applied')?.metadata.labels).toEqual({ team: 'a' });
    // A misspelt field is refused as a real cluster refuses it (kubectl asks for strict validation).
    writeFileSync(file, `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: typo\n  namespace: ${NS}\n  lables: {a: b}\nautomountToken: false\n`);
    const typo = await kubectl('apply', '-f', file);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain('strict decoding error: unknown field "automountToken", unknown field "metadata.lables"');
    expect(server.sandbox.k8s.serviceAccount(NS, 'typo')).toBeUndefined();
  });

  it('annotate --overwrite and label use PATCH', async () => {
    const mark = server.sandbox.calls.mark();
    const annotated = await kubectl('annotate', 'serviceaccount', 'worker', '-n', NS, `eks.amazonaws.com/role-arn=${ROLE_ARN}`, '--overwrite');
    expect(annotated.stdout.trim()).toBe('serviceaccount/worker annotated');
    const labeled = await kubectl('label', 'serviceaccount', 'worker', '-n', NS, 'irsa.example.com/managed=true');
    expect(labeled.stdout.trim()).toBe('serviceaccount/worker labeled');

    const sa = server.sandbox.k8s.serviceAccount(NS, 'worker');
    expect(sa?.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBe(ROLE_ARN);
    expect(sa?.metadata.labels).toEqual({ app: 'ray', 'irsa.example.com/managed': 'true' });
    expect(
      server.sandbox.calls
        .since(mark)
        .filter((c) => c.mutating)
        .map((c) => c.action),
    ).toEqual(['PATCH serviceaccounts', 'PATCH serviceaccounts']);
  });

  it('label selectors, -A, namespaces and errors', async () => {
    const selected = await kubectl('get', 'sa', '-A', '-l', 'irsa.example.com/managed=true', '-o', 'name');
    expect(selected.stdout.trim()).toBe('serviceaccount/worker');
    const namespaces = await kubectl('get', 'namespaces', '-o', 'name');
    expect(namespaces.stdout.trim().split('\n')).toEqual(['namespace/anyscale-operator', 'namespace/default']);
    const missing = await kubectl('get', 'sa', 'ghost', '-n', NS);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('Error from server (NotFound): serviceaccounts "ghost" not found');
    const stale = await kubectl('annotate', 'sa', 'worker', '-n', NS, 'x=y', '--resource-version', '1');
    expect(stale.stderr).toContain('Conflict');
  });
});
