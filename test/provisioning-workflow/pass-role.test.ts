/**
 * AWS VM: may the control plane pass each instance-profile role to EC2? End to end over the local
 * server (API, dynalite, the ASL, the sandbox IAM with its SimulatePrincipalPolicy): the run's
 * warnings and the drift findings for a missing control-plane role, one without the permission
 * (with the statement to add — pasted back as the operator would, after which all is clean), an
 * explicit Deny and a permissions boundary in the way; K8S configs are not checked; PUT refuses a
 * malformed role and, when the deployment lists its control-plane roles, one not listed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreatePolicyCommand, CreateRoleCommand, DeleteRolePolicyCommand, PutRolePermissionsBoundaryCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_DEFAULTS } from '../../local/server.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { awsClients } from '../sandbox/helpers.js';
import { awsCliEnv, awsSandboxArgs, onPath } from '../helpers/cli-env.js';

const exec = promisify(execFile);
const BIN = join(import.meta.dirname, '../../cli/bin.mjs');

let h: Harness;
let clients: ReturnType<typeof awsClients>;
let account: string;
const CP = 'anyscale-control-plane';
const trust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::525325868955:root' }, Action: 'sts:AssumeRole' }],
});

beforeAll(async () => {
  h = await startHarness({ workflow: { retryIntervalMs: 5, waitMs: 5 } });
  clients = awsClients(h.server.url);
  account = h.server.sandbox!.accountId;
});
afterAll(async () => {
  await h?.stop();
});

function vmConfig(cloud: string, values: string[], provisioning: string): string {
  const rules = values.map((v, i) => `    - selector: project=p${i}\n      value: ${v}`).join('\n');
  return `cloud_deployment_id: ${cloud}
cloud_provider: AWS
compute_stack: VM
dataplane_iam_mapping:
  rules:
${rules}
  fallback_rule: FAIL
provisioning:
${provisioning}`;
}

async function provision(cloud: string, body: string): Promise<any> {
  const res = await h.api('PUT', `/v1/clouds/${cloud}/iam-mapping`, { body });
  expect(res.status, res.text).toBe(200);
  await h.server.workflow.idle();
  const run = await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/provisioning`, { role: 'viewer' });
  expect(run.status, run.text).toBe(200);
  return run.json;
}

async function drift(cloud: string): Promise<any> {
  const res = await h.api('POST', `/v1/clouds/${cloud}/drift-checks`);
  expect(res.status, res.text).toBe(200);
  return res.json;
}

const roleArnsOf = (run: any): string[] =>
  run.resources
    .filter((r: any) => r.kind === 'iam-role')
    .map((r: any) => r.detail as string)
    .sort();

describe('the control plane may pass the instance-profile roles to EC2', () => {
  const cloud = 'cld_passrole';
  let arns: string[] = [];

  it('a control-plane role that does not exist: the run SUCCEEDS with PASS_ROLE_UNCHECKED, drift says pass-role-unchecked', async () => {
    const run = await provision(cloud, vmConfig(cloud, ['vm-a', 'vm-b'], `  control_plane_role: ${CP}`));
    expect(run.status).toBe('SUCCEEDED');
    arns = roleArnsOf(run);
    expect(arns).toHaveLength(2);
    expect(run.warnings).toEqual([
      expect.objectContaining({ code: 'PASS_ROLE_UNCHECKED', message: expect.stringContaining(`the control-plane role ${CP} does not exist`) }),
    ]);
    const report = await drift(cloud);
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: 'pass-role-unchecked', name: CP, severity: 'medium', resource: 'control-plane-role', repairable: false }),
    ]);
  });

  let statement: any;
  it('without iam:PassRole: PASS_ROLE_DENIED with the statement to add; drift says pass-role-denied (high)', async () => {
    await clients.iam.send(new CreateRoleCommand({ RoleName: CP, AssumeRolePolicyDocument: trust }));
    await clients.iam.send(
      new PutRolePolicyCommand({
        RoleName: CP,
        PolicyName: 'launch',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['ec2:RunInstances', 'ec2:Describe*'], Resource: '*' }],
        }),
      }),
    );
    const report = await drift(cloud);
    const cpArn = `arn:aws:iam::${account}:role/${CP}`;
    statement = {
      Sid: 'PassIamMappingInstanceProfileRolesToEc2',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: arns,
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    };
    expect(report.status).toBe('drifted');
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: 'pass-role-denied',
        name: cpArn,
        severity: 'high',
        expected: statement,
        actual: { decision: 'implicitDeny', roles: arns },
        message: expect.stringContaining(JSON.stringify(statement)),
        repairable: false,
      }),
    ]);

    // A new version's run says the same on its status (it is not FAILED: the profiles exist and work).
    const run = await provision(cloud, vmConfig(cloud, ['vm-a', 'vm-b'], `  control_plane_role: ${CP}\n  drift: { mode: report }`));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.warnings).toEqual([{ code: 'PASS_ROLE_DENIED', message: expect.stringContaining('Add this statement'), resources: arns, statement }]);

    // The iam-mapping CLI shows it under the run's headline.
    const cli = await exec(process.execPath, [BIN, 'provisioning', 'status', '-n', cloud], {
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), IAM_MAPPING_ENDPOINT: h.server.url, IAM_MAPPING_TOKEN: await h.token('viewer') },
    });
    expect(cli.stdout).toMatch(
      /: SUCCEEDED.*\nwarning PASS_ROLE_DENIED: the control-plane role arn:aws:iam::\d+:role\/anyscale-control-plane may not iam:PassRole 2 of 2/,
    );
  });

  it('the statement pasted into the control-plane role: the next run has no warning and drift is clean', async () => {
    await clients.iam.send(
      new PutRolePolicyCommand({ RoleName: CP, PolicyName: 'pass-roles', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }) }),
    );
    const report = await drift(cloud);
    expect(report.status, JSON.stringify(report.findings)).toBe('clean');
    const run = await provision(cloud, vmConfig(cloud, ['vm-a', 'vm-b'], `  control_plane_role: ${CP}\n  drift: { mode: report, delete_orphans: false }`));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.warnings).toBeUndefined();
  });

  it('an explicit Deny on one role: named, with no statement to add (an Allow cannot override it)', async () => {
    const denied = arns[1] as string;
    await clients.iam.send(
      new PutRolePolicyCommand({
        RoleName: CP,
        PolicyName: 'guardrail',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'iam:PassRole', Resource: denied }] }),
      }),
    );
    const report = await drift(cloud);
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: 'pass-role-denied',
        actual: { decision: 'explicitDeny', roles: [denied] },
        message: expect.stringMatching(/explicit Deny in guardrail matches.*narrow or remove/),
      }),
    ]);
    expect(report.findings[0].expected).not.toHaveProperty('Effect');
    await clients.iam.send(new DeleteRolePolicyCommand({ RoleName: CP, PolicyName: 'guardrail' }));
  });

  it('a permissions boundary without iam:PassRole: the boundary is named as what is in the way', async () => {
    const boundary = await clients.iam.send(
      new CreatePolicyCommand({
        PolicyName: 'cp-boundary',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }] }),
      }),
    );
    await clients.iam.send(new PutRolePermissionsBoundaryCommand({ RoleName: CP, PermissionsBoundary: boundary.Policy?.Arn }));
    const report = await drift(cloud);
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: 'pass-role-denied',
        actual: { decision: 'implicitDeny', blocked_by: 'permissions boundary', roles: arns },
        message: expect.stringContaining('its permissions boundary does not allow it'),
      }),
    ]);
  });

  it('K8S configs are not checked (the setting is about VMs)', async () => {
    const k8s = `cloud_deployment_id: cld_passrole_k8s
cloud_provider: AWS
compute_stack: K8S
dataplane_iam_mapping:
  rules:
    - selector: project=p
      value: sa-x
  fallback_rule: FAIL
provisioning:
  control_plane_role: nobody-at-all
`;
    const run = await provision('cld_passrole_k8s', k8s);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.warnings).toBeUndefined();
  });

  it('a malformed control_plane_role is a 400 naming the field', async () => {
    const cases: Array<[string, string]> = [
      ['arn:aws:iam::123:role/x', 'IAM role ARN'],
      ['arn:aws:iam::123456789012:user/x', 'IAM role ARN'],
      ['a'.repeat(65), 'IAM role ARN'],
      ['role"x', 'must not contain quotes'],
    ];
    for (const [bad, why] of cases) {
      const res = await h.api('PUT', `/v1/clouds/cld_passrole_bad/iam-mapping`, {
        body: vmConfig('cld_passrole_bad', ['vm-a'], `  control_plane_role: '${bad.replace(/'/g, "''")}'`),
      });
      expect(res.status, bad).toBe(400);
      expect(res.json.error.details).toEqual([expect.objectContaining({ path: 'provisioning.control_plane_role', message: expect.stringContaining(why) })]);
    }
  });
});

describe.skipIf(!onPath('aws'))("the README's local steps, with the AWS CLI", () => {
  it('create-role + put-role-policy, PUT: denied; the statement pasted with put-role-policy: simulate-principal-policy allows, drift is clean', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'passrole-cli-'));
    const aws = async (...args: string[]) =>
      JSON.parse((await exec('aws', [...awsSandboxArgs(h.server.url), 'iam', ...args], { env: awsCliEnv(dir) })).stdout || '{}');
    try {
      const name = 'cli-control-plane';
      const created = await aws('create-role', '--role-name', name, '--assume-role-policy-document', trust);
      await aws(
        'put-role-policy',
        '--role-name',
        name,
        '--policy-name',
        'launch',
        '--policy-document',
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*"}]}',
      );
      const cloud = 'cld_passrole_cli';
      const status = await provision(cloud, vmConfig(cloud, ['vm-cli'], `  control_plane_role: ${name}`));
      expect(status.warnings.map((w: any) => w.code)).toEqual(['PASS_ROLE_DENIED']);
      const roleArn = status.warnings[0].resources[0] as string;
      const simulate = () =>
        aws(
          'simulate-principal-policy',
          '--policy-source-arn',
          created.Role.Arn,
          '--action-names',
          'iam:PassRole',
          '--resource-arns',
          roleArn,
          '--context-entries',
          'ContextKeyName=iam:PassedToService,ContextKeyType=string,ContextKeyValues=ec2.amazonaws.com',
        );
      expect((await simulate()).EvaluationResults).toEqual([expect.objectContaining({ EvalResourceName: roleArn, EvalDecision: 'implicitDeny' })]);
      const policy = join(dir, 'pass-roles.json');
      writeFileSync(policy, JSON.stringify({ Version: '2012-10-17', Statement: [status.warnings[0].statement] }));
      await aws('put-role-policy', '--role-name', name, '--policy-name', 'pass-instance-profile-roles', '--policy-document', `file://${policy}`);
      expect((await simulate()).EvaluationResults).toEqual([
        expect.objectContaining({
          EvalDecision: 'allowed',
          MatchedStatements: [expect.objectContaining({ SourcePolicyId: 'pass-instance-profile-roles', SourcePolicyType: 'role' })],
        }),
      ]);
      expect((await drift(cloud)).status).toBe('clean');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a deployment that lists its control-plane roles (CONTROL_PLANE_ROLES)', () => {
  let d: Harness;
  const listed = 'arn:aws:iam::123456789012:role/team/anyscale-cp';
  beforeAll(async () => {
    d = await startHarness({ workflow: { retryIntervalMs: 5, waitMs: 5 }, defaults: { ...SANDBOX_DEFAULTS, controlPlaneRoles: [listed] } });
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('refuses a role it does not list (400 naming the field and the listed ones), accepts one by ARN or by name', async () => {
    const refused = await d.api('PUT', '/v1/clouds/cld_listed/iam-mapping', { body: vmConfig('cld_listed', ['vm-a'], '  control_plane_role: other-role') });
    expect(refused.status).toBe(400);
    expect(refused.json.error.details).toEqual([
      expect.objectContaining({
        path: 'provisioning.control_plane_role',
        message: expect.stringContaining(`not one of the deployment's control-plane roles (${listed})`),
      }),
    ]);
    for (const ok of [listed, 'anyscale-cp']) {
      const res = await d.api('PUT', '/v1/clouds/cld_listed/iam-mapping', { body: vmConfig('cld_listed', ['vm-a'], `  control_plane_role: ${ok}`) });
      expect(res.status, res.text).toBe(200);
    }
  });

  it('checks the listed role by default (no control_plane_role in the config)', async () => {
    const res = await d.api('PUT', '/v1/clouds/cld_default/iam-mapping', { body: vmConfig('cld_default', ['vm-default'], '  drift: { mode: report }') });
    expect(res.status, res.text).toBe(200);
    await d.server.workflow.idle();
    const run = await d.api('GET', '/v1/clouds/cld_default/iam-mapping/provisioning', { role: 'viewer' });
    expect(run.json.status).toBe('SUCCEEDED');
    expect(run.json.warnings).toEqual([expect.objectContaining({ code: 'PASS_ROLE_UNCHECKED', resources: [listed] })]);
  });
});
