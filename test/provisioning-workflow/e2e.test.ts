/**
 * The provisioning workflow end to end over HTTP: the local server (API + dynalite + the ASL run by
 * aws-local-stepfunctions + the sandbox IAM/EKS/Kubernetes), driven only through the public API,
 * checked against the sandbox's state and call log. Scenarios share one server and run in order;
 * each uses its own cloud id unless it needs the seed's.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faults, serverErrorFor } from '../../local/sandbox/faults.js';
import type { Sandbox } from '../../local/sandbox/index.js';
import { roleNameFor } from '../../lib/provisioning/naming.js';
import { CLOUD_LABEL, CLOUD_TAG, MANAGED_BY_LABEL, MANAGED_BY_TAG, ROLE_ARN_ANNOTATION } from '../../lib/provisioning/ownership.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';
import { awsCliEnv, onPath } from '../helpers/cli-env.js';

const run = promisify(execFile);
let h: Harness;
let sandbox: Sandbox;

const SEED_CLOUD = 'cldrsrc_XXXX';
const BUCKET = 'anyscale-sandbox-bucket'; // SANDBOX_DEFAULTS.defaultBucket
const MANAGER = 'iam-mapping-service';

beforeAll(async () => {
  h = await startHarness({ workflow: { retryIntervalMs: 5, waitMs: 5 } });
  sandbox = h.server.sandbox!;
});

afterAll(async () => {
  await h?.stop();
});

interface Run {
  version: number;
  config_version: number;
  status: string;
  items: Array<{ name: string; kind: string; status: string; error?: { name: string; message: string } }>;
  resources: Array<{ kind: string; name: string; namespace?: string; cluster?: string; action: string; detail?: string }>;
  error?: { name: string; message: string };
}

async function put(cloud: string, body: string | object): Promise<number> {
  // These tests reuse the seed cloud id across stacks (EKS, then VM): confirm such a change.
  const res = await h.api('PUT', `/v1/clouds/${cloud}/iam-mapping`, { body, headers: { 'x-confirm-stack-change': 'true' } });
  expect(res.status, res.text).toBe(200);
  return res.json.version as number;
}

async function runOf(cloud: string, version?: number): Promise<Run> {
  const res = await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/provisioning${version ? `?version=${version}` : ''}`, { role: 'viewer' });
  expect(res.status, res.text).toBe(200);
  return { ...res.json, version: res.json.config_version };
}

/** PUTs a config, waits for the workflow to finish, returns that version's run. */
async function provision(cloud: string, body: string | object): Promise<Run> {
  const version = await put(cloud, body);
  await h.server.workflow.idle();
  return runOf(cloud, version);
}

function yamlConfig(cloud: string, values: string[], provisioning = ''): string {
  const rules = values.map((v, i) => `    - selector: project=p${i}\n      value: ${v}`).join('\n');
  return `cloud_deployment_id: ${cloud}
cloud_provider: AWS
compute_stack: K8S
dataplane_iam_mapping:
  rules:
${rules}
  fallback_rule: FAIL
${provisioning}`;
}

const trustOf = (roleName: string) => sandbox.iam.trustPolicy(roleName) as any;
const tagsOf = (roleName: string) => Object.fromEntries(sandbox.iam.getRole(roleName).tags.map((t) => [t.Key, t.Value]));
const rolesOf = (r: Run) => r.resources.filter((x) => x.kind === 'iam-role');
const issuerHost = () => sandbox.eks.getCluster('sandbox')!.issuer.replace(/^https:\/\//, '');
const roleName = (cloud: string, value: string) => roleNameFor('iam-mapping-', cloud, value);
const rolesOfCloud = (cloud: string) => sandbox.iam.listRoles().filter((r) => r.tags.some((t) => t.Key === CLOUD_TAG && t.Value === cloud));

describe('seed 001 EKS example', () => {
  let first: Run;

  it('(a) verbatim → SUCCEEDED: IRSA roles (aud + sub conditions), seed-002 bucket policy, annotated and labelled SAs', async () => {
    first = await provision(SEED_CLOUD, SEED_EXAMPLES.eks);
    expect(first.status, JSON.stringify(first)).toBe('SUCCEEDED');
    expect(first.items.map((i) => [i.name, i.status])).toEqual([
      ['kubernetes-service-account-name1', 'SUCCEEDED'],
      ['kubernetes-service-account-name2', 'SUCCEEDED'],
    ]);
    const issuer = issuerHost();
    for (const sa of ['kubernetes-service-account-name1', 'kubernetes-service-account-name2']) {
      const name = roleName(SEED_CLOUD, sa);
      expect(rolesOf(first)).toContainEqual(expect.objectContaining({ name, action: 'created' }));
      const role = sandbox.iam.getRole(name);
      expect(tagsOf(name)).toMatchObject({ [MANAGED_BY_TAG]: MANAGER, [CLOUD_TAG]: SEED_CLOUD });
      expect(trustOf(name)).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: sandbox.eks.oidcProviderArn('sandbox') },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: { StringEquals: { [`${issuer}:aud`]: 'sts.amazonaws.com', [`${issuer}:sub`]: `system:serviceaccount:anyscale-operator:${sa}` } },
          },
        ],
      });
      expect(JSON.parse(role.inlinePolicies['iam-mapping-default-bucket']!)).toEqual({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'ListObjectsInBucket', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${BUCKET}`] },
          { Sid: 'AllObjectActions', Effect: 'Allow', Action: 's3:*Object', Resource: [`arn:aws:s3:::${BUCKET}/*`] },
        ],
      });
      const account = sandbox.k8s.serviceAccount('anyscale-operator', sa)!;
      expect(account.metadata.annotations?.[ROLE_ARN_ANNOTATION]).toBe(role.arn);
      expect(account.metadata.labels).toMatchObject({ [MANAGED_BY_LABEL]: MANAGER, [CLOUD_LABEL]: SEED_CLOUD });
    }
  });

  it('(b) re-run of the same config (new version) makes zero mutating sandbox calls', async () => {
    const mark = sandbox.calls.mark();
    // An identical document would store nothing (unchanged); a different one naming the same identities re-runs.
    const again = await provision(SEED_CLOUD, SEED_EXAMPLES.eks.replace('fallback_rule: CLOUD_DEFAULT', 'fallback_rule: FAIL'));
    expect(again.version).toBe(first.version + 1);
    expect(again.status).toBe('SUCCEEDED');
    expect(sandbox.calls.mutatingCount(mark)).toBe(0);
    expect(sandbox.calls.count({ sinceSeq: mark })).toBeGreaterThan(0); // it did look
    expect(new Set(again.resources.map((r) => r.action))).toEqual(new Set(['unchanged']));
  });

  it.skipIf(!onPath('aws') || !onPath('kubectl'))('the AWS CLI and kubectl see what was provisioned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-cli-'));
    writeFileSync(join(dir, 'kubeconfig'), '');
    try {
      const env = awsCliEnv(dir);
      const name = roleName(SEED_CLOUD, 'kubernetes-service-account-name1');
      const [iam, k] = await Promise.all([
        run('aws', ['--endpoint-url', `${h.server.url}/sandbox/aws`, '--output', 'json', 'iam', 'get-role', '--role-name', name], { env, timeout: 30_000 }),
        run(
          'kubectl',
          [
            '--kubeconfig',
            join(dir, 'kubeconfig'),
            '--server',
            `${h.server.url}/sandbox/k8s`,
            'get',
            'serviceaccounts',
            '-n',
            'anyscale-operator',
            '-o',
            'json',
          ],
          { env, timeout: 30_000 },
        ),
      ]);
      const role = JSON.parse(iam.stdout).Role;
      expect(role.RoleName).toBe(name);
      const doc =
        typeof role.AssumeRolePolicyDocument === 'string' ? JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument)) : role.AssumeRolePolicyDocument;
      expect(doc.Statement[0].Condition.StringEquals[`${issuerHost()}:sub`]).toBe('system:serviceaccount:anyscale-operator:kubernetes-service-account-name1');
      const items = JSON.parse(k.stdout).items as Array<{ metadata: { name: string; annotations?: Record<string, string> } }>;
      expect(items.find((i) => i.metadata.name === 'kubernetes-service-account-name1')?.metadata.annotations?.[ROLE_ARN_ANNOTATION]).toBe(role.Arn);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('provisioning status of a version', () => {
  it('that does not exist is 404 naming the latest, not a made-up PENDING run', async () => {
    const latest = (await h.api('GET', `/v1/clouds/${SEED_CLOUD}/iam-mapping`, { role: 'viewer' })).json.version as number;
    expect((await runOf(SEED_CLOUD, latest)).config_version).toBe(latest);
    const res = await h.api('GET', `/v1/clouds/${SEED_CLOUD}/iam-mapping/provisioning?version=${latest + 1}`, { role: 'viewer' });
    expect(res.status, res.text).toBe(404);
    expect(res.json.error).toMatchObject({ code: 'NOT_FOUND', message: `cloud ${SEED_CLOUD} has no config version ${latest + 1} (the latest is ${latest})` });
  });
});

describe('(c) Kubeflow (seed 003): one role for several namespaces', () => {
  it('several namespaces → one role whose sub is the list of subjects, one SA per namespace', async () => {
    const cloud = 'cldrsrc_kubeflow';
    const namespaces = ['kubeflow-user-a', 'kubeflow-user-b', 'kubeflow-user-c'];
    for (const ns of namespaces) sandbox.k8s.createNamespace(ns);
    const r = await provision(
      cloud,
      yamlConfig(cloud, ['default-editor'], `provisioning:\n  service_accounts:\n    default-editor:\n      namespaces: [${namespaces.join(', ')}]\n`),
    );
    expect(r.status, JSON.stringify(r)).toBe('SUCCEEDED');
    expect(rolesOfCloud(cloud)).toHaveLength(1);
    const name = roleName(cloud, 'default-editor');
    const st = trustOf(name).Statement;
    expect(st).toHaveLength(1);
    expect(st[0].Condition.StringEquals[`${issuerHost()}:aud`]).toBe('sts.amazonaws.com');
    expect(st[0].Condition.StringEquals[`${issuerHost()}:sub`]).toEqual(namespaces.map((ns) => `system:serviceaccount:${ns}:default-editor`));
    const arn = sandbox.iam.getRole(name).arn;
    for (const ns of namespaces) expect(sandbox.k8s.serviceAccount(ns, 'default-editor')?.metadata.annotations?.[ROLE_ARN_ANNOTATION]).toBe(arn);
    expect(r.resources.filter((x) => x.kind === 'service-account').map((x) => x.namespace)).toEqual(namespaces);
  });

  it('40 namespaces → the run FAILS at plan time with the ACLSizePerRole message; nothing is created', async () => {
    const cloud = 'cldrsrc_kubeflow40';
    const namespaces = Array.from({ length: 40 }, (_, i) => `kubeflow-user-${String(i).padStart(2, '0')}`);
    const mark = sandbox.calls.mark();
    const r = await provision(
      cloud,
      yamlConfig(cloud, ['default-editor'], `provisioning:\n  service_accounts:\n    default-editor:\n      namespaces: [${namespaces.join(', ')}]\n`),
    );
    expect(r.status).toBe('FAILED');
    const name = roleName(cloud, 'default-editor');
    expect(r.error?.message).toContain(`role ${name} trust policy is`);
    expect(r.error?.message).toMatch(/is [\d,]+ characters, over the quota of 2,048 \(ACLSizePerRole\)/);
    expect(r.error?.message).toMatch(/split namespaces across service accounts/);
    expect(r.items).toEqual([]);
    expect(sandbox.iam.findRole(name)).toBeUndefined();
    expect(sandbox.calls.mutatingCount(mark)).toBe(0);
  });
});

describe('(d) Flyte (seed 004): explicit wildcard subject', () => {
  it('subjects: [system:serviceaccount:*:default] → StringLike on sub (aud stays StringEquals); the existing default SA is adopted', async () => {
    const cloud = 'cldrsrc_flyte';
    const namespaces = ['flytesnacks-development', 'flytesnacks-production'];
    for (const ns of namespaces) sandbox.k8s.createNamespace(ns); // each gets the unlabelled `default` SA
    const r = await provision(
      cloud,
      yamlConfig(
        cloud,
        ['default'],
        `provisioning:\n  namespaces: [${namespaces.join(', ')}]\n  service_accounts:\n    default:\n      subjects: ['system:serviceaccount:*:default']\n      adopt_service_account: true\n`,
      ),
    );
    expect(r.status, JSON.stringify(r)).toBe('SUCCEEDED');
    const name = roleName(cloud, 'default');
    const cond = trustOf(name).Statement[0].Condition;
    expect(cond).toEqual({
      StringEquals: { [`${issuerHost()}:aud`]: 'sts.amazonaws.com' },
      StringLike: { [`${issuerHost()}:sub`]: 'system:serviceaccount:*:default' },
    });
    const arn = sandbox.iam.getRole(name).arn;
    for (const ns of namespaces) {
      const sa = sandbox.k8s.serviceAccount(ns, 'default')!;
      expect(sa.metadata.annotations?.[ROLE_ARN_ANNOTATION]).toBe(arn);
      expect(sa.metadata.labels?.[MANAGED_BY_LABEL]).toBe(MANAGER);
    }
    expect(r.resources.filter((x) => x.kind === 'service-account').map((x) => x.action)).toEqual(['adopted', 'adopted']);
  });

  it('no wildcard unless asked: the same SA without `subjects` gets exact StringEquals subjects', async () => {
    const cloud = 'cldrsrc_flyte2';
    const r = await provision(cloud, yamlConfig(cloud, ['flyte-worker']));
    expect(r.status).toBe('SUCCEEDED');
    const cond = trustOf(roleName(cloud, 'flyte-worker')).Statement[0].Condition;
    expect(cond.StringLike).toBeUndefined();
    expect(cond.StringEquals[`${issuerHost()}:sub`]).toBe('system:serviceaccount:anyscale-operator:flyte-worker');
  });
});

describe('(e) a role created by hand with the planned name', () => {
  const cloud = 'cldrsrc_byhand';
  const value = 'sa-byhand';
  const handTrust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });

  it('is left alone (trust policy and tags unchanged) and reported: item FAILED, resource left-alone', async () => {
    const name = roleName(cloud, value);
    sandbox.iam.createRole({ roleName: name, path: '/iam-mapping/', assumeRolePolicyDocument: handTrust, tags: [{ Key: 'owner', Value: 'alice' }] });
    const mark = sandbox.calls.mark();
    const r = await provision(cloud, yamlConfig(cloud, [value]));
    expect(r.status).toBe('FAILED');
    expect(r.items).toEqual([
      expect.objectContaining({
        name: value,
        status: 'FAILED',
        error: expect.objectContaining({ name: 'NotOwnedError', message: expect.stringContaining('adopt_role: true') }),
      }),
    ]);
    expect(r.resources).toContainEqual(expect.objectContaining({ kind: 'iam-role', name, action: 'left-alone' }));
    expect(sandbox.iam.getRole(name).assumeRolePolicyDocument).toBe(handTrust);
    expect(tagsOf(name)).toEqual({ owner: 'alice' });
    expect(sandbox.k8s.serviceAccount('anyscale-operator', value)).toBeUndefined();
    expect(sandbox.calls.mutatingCount(mark)).toBe(0);
  });

  it('with adopt_role: true it is adopted: ownership tags added, trust policy replaced, SA created', async () => {
    const name = roleName(cloud, value);
    const r = await provision(cloud, yamlConfig(cloud, [value], `provisioning:\n  service_accounts:\n    ${value}:\n      adopt_role: true\n`));
    expect(r.status, JSON.stringify(r)).toBe('SUCCEEDED');
    expect(rolesOf(r)).toEqual([expect.objectContaining({ name, action: 'adopted' })]);
    expect(tagsOf(name)).toMatchObject({ owner: 'alice', [MANAGED_BY_TAG]: MANAGER, [CLOUD_TAG]: cloud });
    expect(trustOf(name).Statement[0].Condition.StringEquals[`${issuerHost()}:sub`]).toBe(`system:serviceaccount:anyscale-operator:${value}`);
    expect(sandbox.k8s.serviceAccount('anyscale-operator', value)?.metadata.annotations?.[ROLE_ARN_ANNOTATION]).toBe(sandbox.iam.getRole(name).arn);
  });
});

describe('(f) seed 001 AWS VM example', () => {
  it('instance profiles role_name1/2 exist, each holding its owned role', async () => {
    const r = await provision(SEED_CLOUD, SEED_EXAMPLES.awsVm);
    expect(r.status, JSON.stringify(r)).toBe('SUCCEEDED');
    for (const profile of ['role_name1', 'role_name2']) {
      const ip = sandbox.iam.getInstanceProfile(profile);
      expect(ip.roleNames).toEqual([roleName(SEED_CLOUD, profile)]);
      expect(Object.fromEntries(ip.tags.map((t) => [t.Key, t.Value]))).toMatchObject({ [MANAGED_BY_TAG]: MANAGER, [CLOUD_TAG]: SEED_CLOUD });
      const role = sandbox.iam.getRole(ip.roleNames[0]);
      expect(JSON.parse(role.assumeRolePolicyDocument).Statement[0].Principal).toEqual({ Service: 'ec2.amazonaws.com' });
      expect(role.inlinePolicies['iam-mapping-default-bucket']).toContain(`arn:aws:s3:::${BUCKET}/*`);
    }
    expect(r.resources.filter((x) => x.kind === 'instance-profile').map((x) => [x.name, x.action])).toEqual([
      ['role_name1', 'created'],
      ['role_name2', 'created'],
    ]);
  });
});

describe('(g) a newer version while an older run is in flight', () => {
  it('the older run ends SUPERSEDED, the latest version reports its own run, the sandbox matches the newer config', async () => {
    const cloud = 'cldrsrc_race';
    const values = Array.from({ length: 12 }, (_, i) => `race-sa-${i}`);
    sandbox.k8s.createNamespace('race-ns');
    const v1Body = yamlConfig(cloud, values, 'provisioning:\n  default_bucket: race-bucket-one\n');
    const v2Body = yamlConfig(cloud, values, 'provisioning:\n  default_bucket: race-bucket-two\n  namespaces: [race-ns]\n');
    sandbox.setLatency(15);
    try {
      const mark = sandbox.calls.mark();
      const v1 = await put(cloud, v1Body);
      // Let v1 get going (some roles created), then supersede it.
      const deadline = Date.now() + 20_000;
      while (sandbox.calls.count({ sinceSeq: mark, action: 'CreateRole' }) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const v2 = await put(cloud, v2Body);
      await h.server.workflow.idle();
      const older = await runOf(cloud, v1);
      const latest = await runOf(cloud);
      expect(older.status).toBe('SUPERSEDED');
      expect(latest.version).toBe(v2);
      expect(latest.status, JSON.stringify(latest)).toBe('SUCCEEDED');
      expect(latest.items).toHaveLength(values.length);
      expect(latest.items.every((i) => i.status === 'SUCCEEDED')).toBe(true);
    } finally {
      sandbox.setLatency(undefined);
    }
    expect(rolesOfCloud(cloud)).toHaveLength(values.length);
    for (const v of values) {
      const role = sandbox.iam.getRole(roleName(cloud, v));
      expect(role.inlinePolicies['iam-mapping-default-bucket']).toContain('arn:aws:s3:::race-bucket-two');
      expect(role.inlinePolicies['iam-mapping-default-bucket']).not.toContain('race-bucket-one');
      expect(trustOf(role.roleName).Statement[0].Condition.StringEquals[`${issuerHost()}:sub`]).toBe(`system:serviceaccount:race-ns:${v}`);
      expect(sandbox.k8s.serviceAccount('race-ns', v)?.metadata.annotations?.[ROLE_ARN_ANNOTATION]).toBe(role.arn);
    }
  });
});

describe('(h) faults', () => {
  it('throttling on the first IAM writes (and lost answers of committed creates) → SUCCEEDED through retries, no duplicates', async () => {
    const cloud = 'cldrsrc_throttle';
    const values = ['thr-a', 'thr-b', 'thr-c', 'thr-d'];
    const mark = sandbox.calls.mark();
    sandbox.setFaults(
      faults.combine(
        faults.throttle({ service: 'iam', mutating: true }, 6),
        // Committed, but the caller sees a 5xx: the retry meets EntityAlreadyExists / 409 and must re-read.
        faults.failTimes(1, (c) => ({ ...serverErrorFor(c), afterExecute: true }), { service: 'iam', action: 'CreateRole' }),
        faults.failTimes(1, (c) => ({ ...serverErrorFor(c), afterExecute: true }), { service: 'k8s', action: 'POST serviceaccounts' }),
      ),
    );
    let r: Run;
    try {
      r = await provision(cloud, yamlConfig(cloud, values));
    } finally {
      sandbox.setFaults(undefined);
    }
    expect(r.status, JSON.stringify(r)).toBe('SUCCEEDED');
    const faulted = sandbox.calls.since(mark).filter((c) => c.faulted);
    expect(faulted.filter((c) => c.errorCode === 'Throttling')).toHaveLength(6);
    expect(faulted.filter((c) => c.action === 'CreateRole' && c.status === 500)).toHaveLength(1);
    expect(faulted.filter((c) => c.action === 'POST serviceaccounts' && c.status === 503)).toHaveLength(1);
    expect(
      rolesOfCloud(cloud)
        .map((x) => x.roleName)
        .sort(),
    ).toEqual(values.map((v) => roleName(cloud, v)).sort());
    const sas = sandbox.k8s.serviceAccounts('anyscale-operator').filter((s) => values.includes(s.metadata.name));
    expect(sas).toHaveLength(values.length);
    for (const v of values) expect(Object.keys(sandbox.iam.getRole(roleName(cloud, v)).inlinePolicies)).toEqual(['iam-mapping-default-bucket']);
    // Every role was created exactly once (one committed CreateRole each).
    const created = sandbox.calls
      .since(mark)
      .filter((c) => c.action === 'CreateRole' && (c.status === 200 || (c.faulted && c.status === 500 && c.errorCode !== 'Throttling')));
    expect(created.map((c) => c.params.RoleName).sort()).toEqual(values.map((v) => roleName(cloud, v)).sort());
  });

  it('5xx beyond the retries → FAILED with the cause recorded; fault removed + re-PUT → converges', async () => {
    const cloud = 'cldrsrc_outage';
    const body = yamlConfig(cloud, ['out-a']);
    sandbox.setFaults(faults.serverError({ service: 'iam', action: 'PutRolePolicy' }));
    let failed: Run;
    try {
      failed = await provision(cloud, body);
    } finally {
      sandbox.setFaults(undefined);
    }
    expect(failed.status).toBe('FAILED');
    expect(failed.error?.message).toMatch(/1 of 1 items failed/);
    expect(failed.items[0]).toMatchObject({
      name: 'out-a',
      status: 'FAILED',
      error: { name: 'TransientError', message: expect.stringContaining('ServiceFailure') },
    });
    expect(failed.items[0]!.error!.message).toContain('PutRolePolicy');

    // Retried as a new version (an identical document would be `unchanged` and start no run).
    const fixed = await provision(
      cloud,
      body.replace(/fallback_rule: (\w+)/, (_m, f: string) => `fallback_rule: ${f === 'FAIL' ? 'CLOUD_DEFAULT' : 'FAIL'}`),
    );
    expect(fixed.status, JSON.stringify(fixed)).toBe('SUCCEEDED');
    expect(rolesOf(fixed)).toEqual([expect.objectContaining({ action: 'unchanged' })]);
    expect(fixed.resources).toContainEqual(expect.objectContaining({ kind: 'permission-policy', action: 'created' }));
    expect(rolesOfCloud(cloud)).toHaveLength(1);
    expect(sandbox.k8s.serviceAccount('anyscale-operator', 'out-a')).toBeDefined();
  });
});
