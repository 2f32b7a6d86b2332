/**
 * Issue 5, faults: (a) the store goes away under a running server — every route that needs it
 * answers 503 SERVICE_UNAVAILABLE with Retry-After and the contract's error body (connection
 * refused and a store that accepts but never answers), healthz keeps answering, and the server
 * recovers when the store is back; (b) the `npm start` process is SIGKILLed in the middle of
 * provisioning 50 service accounts and started again on the same DATA_DIR: the stored versions
 * are intact and a re-PUT converges to SUCCEEDED with exactly one role and one SA per value.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IAMClient, ListRolePoliciesCommand, paginateListRoles, type Role } from '@aws-sdk/client-iam';
import { afterAll, describe, expect, it } from 'vitest';
import { startDynalite, type DynaliteHandle } from '../../local/dynalite.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { ROOT, startNpmStart } from '../helpers/npm-start.js';
import { contractProblems, type RawResponse } from './util.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const asRaw = async (r: { status: number; headers: Headers; text: string }): Promise<RawResponse> => ({
  status: r.status,
  headers: Object.fromEntries(r.headers),
  text: r.text,
});

/** 503 SERVICE_UNAVAILABLE, a Retry-After of whole seconds, and the contract's error body. */
async function expectUnavailable(label: string, res: { status: number; headers: Headers; text: string }) {
  expect(res.status, `${label}: ${res.text}`).toBe(503);
  expect(res.headers.get('retry-after'), label).toMatch(/^\d+$/);
  const problems = contractProblems(await asRaw(res)).filter((p) => !p.startsWith('status'));
  expect(problems, label).toEqual([]);
  expect(JSON.parse(res.text).error.code, label).toBe('SERVICE_UNAVAILABLE');
  expect(res.text, label).not.toMatch(/ECONNREFUSED|TimeoutError|stack/i);
}

describe('(a) the store is unavailable under a running server', () => {
  const CLOUD = 'cldrsrc_faults';
  const MAPPING = `/v1/clouds/${CLOUD}/iam-mapping`;
  const config = {
    cloud_deployment_id: CLOUD,
    cloud_provider: 'GCP',
    compute_stack: 'K8S',
    dataplane_iam_mapping: { rules: [{ selector: 'workload-type=job', value: 'sa-job' }], fallback_rule: 'CLOUD_DEFAULT' },
  };
  const launch = { workload_type: 'job', project: 'p', user: 'u@example.com' };
  let h: Harness;
  let dynamo: DynaliteHandle;
  let dynamoPort: number;
  let storeDir: string;

  const everyStoreRoute = () =>
    [
      ['resolve', h.api('POST', `${MAPPING}/resolve`, { role: 'control-plane', body: launch })],
      ['resolve with cluster_id', h.api('POST', `${MAPPING}/resolve`, { role: 'control-plane', body: { ...launch, cluster_id: 'ses_faults' } })],
      ['PUT', h.api('PUT', `${MAPPING}`, { body: config })],
      ['GET', h.api('GET', MAPPING, { role: 'viewer' })],
      ['GET versions', h.api('GET', `${MAPPING}/versions`, { role: 'viewer' })],
      ['GET provisioning', h.api('GET', `${MAPPING}/provisioning`, { role: 'viewer' })],
    ] as const;

  it('connection refused → 503 + Retry-After on every route that needs the store; healthz answers; recovers when the store is back', async () => {
    storeDir = mkdtempSync(join(tmpdir(), 'iam-mapping-faults-store-'));
    dynamo = await startDynalite({ dataDir: storeDir, port: 0 });
    dynamoPort = Number(new URL(dynamo.endpoint).port);
    // No freshness window and no grace: every resolve consults the store, so there is no window to wait out.
    h = await startHarness({ dynamoEndpoint: dynamo.endpoint, resolveFreshnessMs: 0, resolveStaleGraceMs: 0 });
    cleanups.push(async () => {
      await h.stop();
      await dynamo.close();
      rmSync(storeDir, { recursive: true, force: true });
    });
    const put = await h.api('PUT', MAPPING, { body: config });
    expect(put.status, put.text).toBe(200);
    await h.server.workflow.idle();
    const before = await h.api('GET', MAPPING, { role: 'viewer' });
    expect((await h.api('POST', `${MAPPING}/resolve`, { role: 'control-plane', body: launch })).json.value).toBe('sa-job');

    await dynamo.close();
    const started = Date.now();
    for (const [label, pending] of everyStoreRoute()) await expectUnavailable(label, await pending);
    expect(Date.now() - started, 'fails fast when refused').toBeLessThan(10_000);
    expect((await h.api('GET', '/v1/healthz', { role: null })).status).toBe(200);

    // The store comes back on the same port with the same data: no restart of the server needed.
    dynamo = await startDynalite({ dataDir: storeDir, port: dynamoPort });
    const after = await h.api('GET', MAPPING, { role: 'viewer' });
    expect(after.status, after.text).toBe(200);
    expect(after.json).toEqual(before.json);
    const again = await h.api('POST', `${MAPPING}/resolve`, { role: 'control-plane', body: launch });
    expect(again.json).toMatchObject({ value: 'sa-job', config_version: 1 });
  });

  it('a store that accepts connections but never answers → 503 after the client timeouts, not a hang', async () => {
    await dynamo.close();
    // A black hole on the store's port: accepts, reads, never replies.
    const sockets = new Set<Socket>();
    const hole: Server = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.resume();
    });
    await new Promise<void>((r) => hole.listen(dynamoPort, '127.0.0.1', () => r()));
    try {
      const started = Date.now();
      const results = await Promise.all([
        h.api('POST', `${MAPPING}/resolve`, { role: 'control-plane', body: launch }),
        h.api('GET', MAPPING, { role: 'viewer' }),
        h.api('PUT', MAPPING, { body: config }),
      ]);
      for (const [i, res] of results.entries()) await expectUnavailable(`black hole ${i}`, res);
      expect(Date.now() - started, 'within the API Gateway 29 s limit').toBeLessThan(29_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => hole.close(() => r()));
      dynamo = await startDynalite({ dataDir: storeDir, port: dynamoPort });
    }
  }, 60_000);
});

// ----------------------------------------------------------------------------------------- (b)

describe('(b) SIGKILL in the middle of provisioning, then restart', () => {
  const CLOUD = 'cldrsrc_crash';
  const MAPPING = `/v1/clouds/${CLOUD}/iam-mapping`;
  const SAS = Array.from({ length: 50 }, (_, i) => `sa-${String(i).padStart(2, '0')}`);
  const config = {
    cloud_deployment_id: CLOUD,
    cloud_provider: 'AWS',
    compute_stack: 'K8S',
    dataplane_iam_mapping: {
      rules: SAS.map((sa, i) => ({ selector: `user=u${i}@example.com`, value: sa })),
      fallback_rule: 'FAIL',
    },
  };

  it('keeps every stored version and converges to SUCCEEDED with no duplicate resources', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'iam-mapping-crash-'));
    const env = {
      ...process.env,
      DATA_DIR: dataDir,
      SANDBOX_LATENCY_MS: '10',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    };
    let child = await startNpmStart(env);
    cleanups.push(async () => {
      if (child.proc.exitCode === null) {
        child.proc.kill('SIGKILL');
        await child.exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    });
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'dev-token', '--', 'owner'], { cwd: ROOT, env });
    const token = stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${child.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
    };

    const v1 = await api('PUT', MAPPING, config);
    expect(v1.status, v1.text).toBe(200);
    // Wait until the run is part-way (some items done, not all), then kill -9.
    let seen: any;
    const deadline = Date.now() + 30_000;
    for (;;) {
      seen = (await api('GET', `${MAPPING}/provisioning`)).json;
      if (seen.items.length >= 5 && seen.status === 'RUNNING') break;
      expect(seen.status, JSON.stringify(seen).slice(0, 300)).not.toMatch(/SUCCEEDED|FAILED/);
      expect(Date.now() < deadline, 'provisioning started').toBe(true);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.proc.kill('SIGKILL');
    await child.exited;
    const killedAt = { items: seen.items.length, of: seen.item_count };

    child = await startNpmStart(env);
    // The token minted before the crash is still accepted; version 1 is intact.
    const got1 = await api('GET', `${MAPPING}?version=1`);
    expect(got1.status, got1.text).toBe(200);
    expect({ ...got1.json, version: undefined }).toEqual({ ...config, version: undefined });
    const afterCrash = (await api('GET', `${MAPPING}/provisioning`)).json;

    // No sweep resumes an interrupted run: a new version (same identities; an identical document
    // would be `unchanged` and start no run) provisions everything again.
    const config2 = { ...config, dataplane_iam_mapping: { ...config.dataplane_iam_mapping, fallback_rule: 'CLOUD_DEFAULT' } };
    const v2 = await api('PUT', MAPPING, config2, { 'if-match': `"${v1.json.etag}"` });
    expect(v2.status, v2.text).toBe(200);
    let status: any;
    const until = Date.now() + 60_000;
    do {
      await new Promise((r) => setTimeout(r, 100));
      status = (await api('GET', `${MAPPING}/provisioning`)).json;
    } while (!['SUCCEEDED', 'FAILED'].includes(status.status) && Date.now() < until);
    expect(status.status, JSON.stringify(status).slice(0, 500)).toBe('SUCCEEDED');
    expect(status.config_version).toBe(2);
    expect(status.items).toHaveLength(50);

    // Exactly one role per SA (no duplicates, nothing left over), one inline policy each; one SA per value, annotated.
    const iam = new IAMClient({ region: 'us-east-1', endpoint: `${child.url}/sandbox/aws`, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const roles: Role[] = [];
    for await (const page of paginateListRoles({ client: iam }, { PathPrefix: '/' })) roles.push(...(page.Roles ?? []));
    const ours = roles.filter((r) => r.RoleName!.includes(CLOUD));
    expect(ours).toHaveLength(50);
    const subjects = ours.map((r) => {
      const doc = JSON.parse(decodeURIComponent(r.AssumeRolePolicyDocument!));
      return Object.entries(doc.Statement[0].Condition.StringEquals).find(([k]) => k.endsWith(':sub'))![1];
    });
    expect(new Set(subjects)).toEqual(new Set(SAS.map((sa) => `system:serviceaccount:anyscale-operator:${sa}`)));
    for (const r of ours.slice(0, 10)) {
      const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: r.RoleName! }));
      expect(inline.PolicyNames, r.RoleName).toEqual(['iam-mapping-default-bucket']);
    }
    iam.destroy();
    const sas = (await (await fetch(`${child.url}/sandbox/k8s/api/v1/namespaces/anyscale-operator/serviceaccounts`)).json()) as {
      items: Array<{ metadata: { name: string; annotations?: Record<string, string> } }>;
    };
    const mine = sas.items.filter((s) => s.metadata.name.startsWith('sa-'));
    expect(mine.map((s) => s.metadata.name).sort()).toEqual(SAS);
    const arns = new Set(ours.map((r) => r.Arn));
    for (const s of mine) expect(arns.has(s.metadata.annotations?.['eks.amazonaws.com/role-arn'] ?? ''), s.metadata.name).toBe(true);

    // Every stored version intact.
    const versions = (await api('GET', `${MAPPING}/versions`)).json.versions;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    for (const v of [1, 2]) {
      const got = await api('GET', `${MAPPING}?version=${v}`);
      expect(got.json.version).toBe(v);
      expect({ ...got.json, version: undefined }).toEqual({ ...(v === 1 ? config : config2), version: undefined });
    }

    child.proc.kill('SIGTERM');
    expect(await child.exited, child.output()).toBe(0);
    console.log(
      `[faults] ${JSON.stringify({ killedAt, afterRestart: { version: afterCrash.config_version, status: afterCrash.status, items: afterCrash.items.length }, converged: status.status })}`,
    );
  }, 120_000);
});
