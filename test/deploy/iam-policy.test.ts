/**
 * "Done when" (issue 10): the PACKAGED CloudFormation (`osls package`, offline) evaluated with a
 * third-party IAM evaluator (@cloud-copilot/iam-simulate). The intrinsics the template uses
 * (Fn::Sub, Ref, Fn::GetAtt, Fn::If over its Conditions, Fn::Split) are resolved into concrete
 * ARNs of a made-up account. Shows: the provisioning role cannot create a role without the
 * permissions boundary (or with another), cannot remove or replace it, cannot attach a policy
 * outside the allow-list (AdministratorAccess); it can create a role with the boundary; the
 * record/finalize and ServiceAccount steps have no IAM write; and the boundary caps whatever a
 * workload role is granted. (The template's evaluation: test/helpers/iam-template.ts.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { templateEvaluator, type Template, type TemplateEvaluator } from '../helpers/iam-template.js';
import { packagedTemplate } from '../helpers/osls.js';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const STAGE = 'ci';
const ALLOWED = `arn:aws:iam::${ACCOUNT}:policy/ml-team-read`;
const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';
const CONTROL_PLANE = `arn:aws:iam::${ACCOUNT}:role/anyscale/anyscale-cp`;

let template: Template;
let evaluator: TemplateEvaluator;
const boundaryArn = () => evaluator.boundaryArn();
const boundaryDocument = () => evaluator.boundaryDocument();
const decide: TemplateEvaluator['decide'] = (...args) => evaluator.decide(...args);

const role = (path: string, name = 'iam-mapping-c-sa') => `arn:aws:iam::${ACCOUNT}:role${path}${name}`;

beforeAll(async () => {
  template = await packagedTemplate<Template>({ stage: STAGE, env: { ALLOWED_POLICY_ARNS: ALLOWED, CONTROL_PLANE_ROLES: CONTROL_PLANE } });
  evaluator = templateEvaluator(template, { account: ACCOUNT, region: REGION, stage: STAGE });
}, 300_000);

describe('the packaged provisioning role (IAM steps)', () => {
  const R = 'ProvisioningRole';
  it('CreateRole without the boundary is denied', async () => {
    expect(await decide(R, 'iam:CreateRole', role('/iam-mapping/'))).toMatch(/Denied/);
  });
  it('CreateRole with another boundary (AdministratorAccess) is denied', async () => {
    expect(await decide(R, 'iam:CreateRole', role('/iam-mapping/'), { 'iam:PermissionsBoundary': ADMIN })).toMatch(/Denied/);
  });
  it('CreateRole with the boundary is allowed — under the service path only', async () => {
    expect(await decide(R, 'iam:CreateRole', role('/iam-mapping/'), { 'iam:PermissionsBoundary': boundaryArn() })).toBe('Allowed');
    expect(await decide(R, 'iam:CreateRole', role('/'), { 'iam:PermissionsBoundary': boundaryArn() })).toMatch(/Denied/);
    expect(await decide(R, 'iam:CreateRole', role('/admin/'), { 'iam:PermissionsBoundary': boundaryArn() })).toMatch(/Denied/);
  });
  it('DeleteRolePermissionsBoundary is denied; PutRolePermissionsBoundary only puts the boundary back', async () => {
    expect(await decide(R, 'iam:DeleteRolePermissionsBoundary', role('/iam-mapping/'))).toBe('ExplicitlyDenied');
    expect(await decide(R, 'iam:PutRolePermissionsBoundary', role('/iam-mapping/'), { 'iam:PermissionsBoundary': boundaryArn() })).toBe('Allowed');
    expect(await decide(R, 'iam:PutRolePermissionsBoundary', role('/iam-mapping/'), { 'iam:PermissionsBoundary': ADMIN })).toBe('ExplicitlyDenied');
  });
  it('AttachRolePolicy of AdministratorAccess is denied; an allow-listed policy is allowed', async () => {
    expect(await decide(R, 'iam:AttachRolePolicy', role('/iam-mapping/'), { 'iam:PolicyARN': ADMIN })).toMatch(/Denied/);
    expect(await decide(R, 'iam:AttachRolePolicy', role('/iam-mapping/'), { 'iam:PolicyARN': ALLOWED })).toBe('Allowed');
    expect(await decide(R, 'iam:AttachRolePolicy', role('/'), { 'iam:PolicyARN': ALLOWED })).toMatch(/Denied/);
  });
  it('PutRolePolicy only on its own role path; the boundary policy itself cannot be rewritten', async () => {
    expect(await decide(R, 'iam:PutRolePolicy', role('/iam-mapping/'))).toBe('Allowed');
    expect(await decide(R, 'iam:PutRolePolicy', role('/'))).toMatch(/Denied/);
    expect(await decide(R, 'iam:CreatePolicyVersion', boundaryArn())).toMatch(/Denied/);
  });
  it('GetRole is read-only on every role (the pre-create GetRole is authorised against a path-less ARN)', async () => {
    expect(await decide(R, 'iam:GetRole', role('/', 'iam-mapping-c-new'))).toBe('Allowed');
    expect(await decide(R, 'iam:UpdateAssumeRolePolicy', role('/', 'someone-elses'))).toMatch(/Denied/);
  });
  it('GetInstanceProfile is read-only on every instance profile (EnsureInstanceProfile first reads one that may not exist: path-less)', async () => {
    const ip = (path: string) => `arn:aws:iam::${ACCOUNT}:instance-profile${path}p`;
    expect(await decide(R, 'iam:GetInstanceProfile', ip('/'))).toBe('Allowed');
    expect(await decide(R, 'iam:GetInstanceProfile', ip('/iam-mapping/'))).toBe('Allowed');
    expect(await decide(R, 'iam:AddRoleToInstanceProfile', ip('/'))).toMatch(/Denied/);
    expect(await decide(R, 'iam:RemoveRoleFromInstanceProfile', ip('/'))).toMatch(/Denied/);
  });
  it('instance profiles only under the service path; no unused grants', async () => {
    const ip = (path: string) => `arn:aws:iam::${ACCOUNT}:instance-profile${path}p`;
    expect(await decide(R, 'iam:CreateInstanceProfile', ip('/iam-mapping/'))).toBe('Allowed');
    expect(await decide(R, 'iam:CreateInstanceProfile', ip('/'))).toMatch(/Denied/);
    expect(await decide(R, 'iam:ListRoles', '*')).toMatch(/Denied/);
    expect(await decide(R, 'dynamodb:BatchGetItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/iam-mapping-${STAGE}`)).toMatch(/Denied/);
  });
});

describe('the other workflow steps have no IAM write', () => {
  const writes = [
    'iam:CreateRole',
    'iam:PutRolePolicy',
    'iam:AttachRolePolicy',
    'iam:UpdateAssumeRolePolicy',
    'iam:TagRole',
    'iam:DeleteRolePermissionsBoundary',
  ];
  const fnRole = (fn: string) => {
    const f = template.Resources[`${fn}LambdaFunction`]!;
    return (f.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  };
  it('record/finalize steps run as ProvisioningRecordRole, Plan and the ServiceAccount step as ProvisioningClusterRole', () => {
    for (const fn of ['ProvisionRecordItem', 'ProvisionRecordItemFailure', 'ProvisionFinalize', 'ProvisionRecordRunFailure'])
      expect(fnRole(fn)).toBe('ProvisioningRecordRole');
    for (const fn of ['ProvisionPlan', 'ProvisionEnsureServiceAccount']) expect(fnRole(fn)).toBe('ProvisioningClusterRole');
    for (const fn of [
      'ProvisionEnsureRole',
      'ProvisionEnsureTrustPolicy',
      'ProvisionEnsurePermissions',
      'ProvisionAwaitRole',
      'ProvisionEnsureInstanceProfile',
    ])
      expect(fnRole(fn)).toBe('ProvisioningRole');
  });
  it.each(['ProvisioningRecordRole', 'ProvisioningClusterRole'])('%s: every IAM write denied', async (name) => {
    for (const action of writes) {
      expect(
        await decide(name, action, role('/iam-mapping/'), { 'iam:PermissionsBoundary': boundaryArn(), 'iam:PolicyARN': ALLOWED }),
        `${name} ${action}`,
      ).toMatch(/Denied/);
    }
    expect(await decide(name, 'dynamodb:UpdateItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/iam-mapping-${STAGE}`)).toBe('Allowed');
  });
  it('Plan may read roles and instance profiles (claims still held, whose the role is), write none', async () => {
    for (const [action, arn] of [
      ['iam:GetRole', role('/iam-mapping/')],
      ['iam:GetRole', `arn:aws:iam::${ACCOUNT}:role/iam-mapping-c.1234abcd-gone`], // a missing role: path-less
      ['iam:GetInstanceProfile', `arn:aws:iam::${ACCOUNT}:instance-profile/iam-mapping/p1`],
      ['iam:GetInstanceProfile', `arn:aws:iam::${ACCOUNT}:instance-profile/p1`],
    ] as const)
      expect(await decide('ProvisioningClusterRole', action, arn), `${action} ${arn}`).toBe('Allowed');
    expect(await decide('ProvisioningRecordRole', 'iam:GetRole', role('/iam-mapping/'))).toMatch(/Denied/);
  });
  it('the ServiceAccount step may describe clusters; the record steps may not', async () => {
    const cluster = `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/prod`;
    expect(await decide('ProvisioningClusterRole', 'eks:DescribeCluster', cluster)).toBe('Allowed');
    expect(await decide('ProvisioningRecordRole', 'eks:DescribeCluster', cluster)).toMatch(/Denied/);
  });
});

describe('the pass-role check (AWS VM) may simulate the control-plane roles only', () => {
  it.each(['ProvisioningRecordRole', 'DriftRole'])('%s: iam:SimulatePrincipalPolicy on CONTROL_PLANE_ROLES, nowhere else', async (name) => {
    expect(await decide(name, 'iam:SimulatePrincipalPolicy', CONTROL_PLANE)).toBe('Allowed');
    expect(await decide(name, 'iam:SimulatePrincipalPolicy', `arn:aws:iam::${ACCOUNT}:role/admin`)).toMatch(/Denied/);
    expect(await decide(name, 'iam:SimulatePrincipalPolicy', role('/iam-mapping/'))).toMatch(/Denied/);
    expect(await decide(name, 'iam:PassRole', role('/iam-mapping/'), { 'iam:PassedToService': 'ec2.amazonaws.com' })).toMatch(/Denied/);
  });
  it('the IAM steps and the cluster role do not simulate', async () => {
    for (const name of ['ProvisioningRole', 'ProvisioningClusterRole'])
      expect(await decide(name, 'iam:SimulatePrincipalPolicy', CONTROL_PLANE)).toMatch(/Denied/);
  });
  it('the functions see the list as CONTROL_PLANE_ROLES', () => {
    const fn = template.Resources.ProvisionFinalizeLambdaFunction!;
    expect(((fn.Properties.Environment as any).Variables as Record<string, string>).CONTROL_PLANE_ROLES).toBe(CONTROL_PLANE);
  });
});

describe('the EKS Pod Identity steps (ProvisioningPodIdentityRole)', () => {
  const fnRole = (fn: string) => (template.Resources[`${fn}LambdaFunction`]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const R = 'ProvisioningPodIdentityRole';
  const cluster = `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/prod`;
  const association = `arn:aws:eks:${REGION}:${ACCOUNT}:podidentityassociation/prod/a-abcdefghijklmnopq`;
  it('EnsureAssociation and FinishMigration run as it', () => {
    expect(fnRole('ProvisionEnsureAssociation')).toBe(R);
    expect(fnRole('ProvisionFinishMigration')).toBe(R);
  });
  it('manages associations and reads the agent add-on', async () => {
    for (const action of ['eks:CreatePodIdentityAssociation', 'eks:ListPodIdentityAssociations', 'eks:DescribeCluster'])
      expect(await decide(R, action, cluster), action).toBe('Allowed');
    expect(await decide(R, 'eks:DescribeAddon', `arn:aws:eks:${REGION}:${ACCOUNT}:addon/prod/eks-pod-identity-agent/x`)).toBe('Allowed');
    for (const action of ['eks:DescribePodIdentityAssociation', 'eks:UpdatePodIdentityAssociation', 'eks:DeletePodIdentityAssociation', 'eks:TagResource'])
      expect(await decide(R, action, association), action).toBe('Allowed');
    expect(await decide(R, 'eks:DeleteCluster', cluster)).toMatch(/Denied/);
  });
  it('passes only roles under the service path, only to pods.eks.amazonaws.com', async () => {
    expect(await decide(R, 'iam:PassRole', role('/iam-mapping/'), { 'iam:PassedToService': 'pods.eks.amazonaws.com' })).toBe('Allowed');
    expect(await decide(R, 'iam:PassRole', role('/iam-mapping/'), { 'iam:PassedToService': 'ec2.amazonaws.com' })).toMatch(/Denied/);
    expect(await decide(R, 'iam:PassRole', role('/', 'admin'), { 'iam:PassedToService': 'pods.eks.amazonaws.com' })).toMatch(/Denied/);
  });
  it('rewrites trust only under the path, and no other IAM write', async () => {
    expect(await decide(R, 'iam:UpdateAssumeRolePolicy', role('/iam-mapping/'))).toBe('Allowed');
    expect(await decide(R, 'iam:UpdateAssumeRolePolicy', role('/', 'admin'))).toMatch(/Denied/);
    for (const action of ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:DeleteRolePermissionsBoundary', 'iam:TagRole'])
      expect(await decide(R, action, role('/iam-mapping/'), { 'iam:PermissionsBoundary': boundaryArn(), 'iam:PolicyARN': ALLOWED }), action).toMatch(/Denied/);
  });
  it('the drift function reads any instance profile (a missing one: path-less), deletes only under the path', async () => {
    const ip = (path: string) => `arn:aws:iam::${ACCOUNT}:instance-profile${path}p`;
    expect(await decide('DriftRole', 'iam:GetInstanceProfile', ip('/'))).toBe('Allowed');
    // An orphan role gone between the bulk read and its repair: its GetRole answers NoSuchEntity, not AccessDenied.
    expect(await decide('DriftRole', 'iam:GetRole', role('/', 'iam-mapping-c-gone'))).toBe('Allowed');
    expect(await decide('DriftRole', 'iam:DeleteRole', role('/', 'iam-mapping-c-gone'))).toMatch(/Denied/);
    expect(await decide('DriftRole', 'iam:GetInstanceProfile', ip('/iam-mapping/'))).toBe('Allowed');
    expect(await decide('DriftRole', 'iam:DeleteInstanceProfile', ip('/'))).toMatch(/Denied/);
    expect(await decide('DriftRole', 'iam:DeleteInstanceProfile', ip('/iam-mapping/'))).toBe('Allowed');
  });
  it('the drift function reads associations, and deletes only (an orphan ServiceAccount with it): never creates, rebinds or retags one', async () => {
    for (const action of ['eks:DescribePodIdentityAssociation', 'eks:DeletePodIdentityAssociation'])
      expect(await decide('DriftRole', action, association), action).toBe('Allowed');
    for (const action of ['eks:UpdatePodIdentityAssociation', 'eks:TagResource'])
      expect(await decide('DriftRole', action, association), action).toMatch(/Denied/);
    expect(await decide('DriftRole', 'eks:CreatePodIdentityAssociation', cluster)).toMatch(/Denied/);
  });
});

describe('the permissions boundary caps a workload role', () => {
  const everything = [{ name: 'admin', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }];
  const asWorkload = (action: string, resource: string) =>
    decide(
      'iam-mapping/iam-mapping-c-sa',
      action,
      resource,
      {},
      { identityPolicies: everything, permissionBoundaryPolicies: [{ name: 'boundary', policy: boundaryDocument() }] },
    );
  it('even with AdministratorAccess attached: no IAM, no role chaining, no Organizations', async () => {
    expect(await asWorkload('iam:CreateUser', `arn:aws:iam::${ACCOUNT}:user/x`)).toMatch(/Denied/);
    expect(await asWorkload('iam:PutRolePolicy', role('/iam-mapping/'))).toMatch(/Denied/);
    expect(await asWorkload('sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/admin`)).toMatch(/Denied/);
    expect(await asWorkload('organizations:LeaveOrganization', '*')).toMatch(/Denied/);
    expect(await asWorkload('ec2:RunInstances', `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`)).toMatch(/Denied/);
  });
  it('the data access the service grants stays possible', async () => {
    expect(await asWorkload('s3:GetObject', 'arn:aws:s3:::my-anyscale-bucket/k')).toBe('Allowed');
    expect(await asWorkload('s3:ListBucket', 'arn:aws:s3:::my-anyscale-bucket')).toBe('Allowed');
  });
});

describe('the drift worker: long on-demand checks are queued to the drift schedule function', () => {
  const fn = (logicalId: string) => template.Resources[logicalId]?.Properties as Record<string, any>;
  const workerArn = () => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${String(fn('DriftScheduleLambdaFunction').FunctionName)}`;

  it('the drift function names the deployed schedule function as its worker, with the deadline', () => {
    const env = fn('DriftLambdaFunction').Environment.Variables as Record<string, string>;
    expect(env.DRIFT_WORKER_FUNCTION).toBe(fn('DriftScheduleLambdaFunction').FunctionName);
    expect(env.DRIFT_DEADLINE_SECONDS).toBe('20');
    expect(fn('DriftLambdaFunction').Timeout).toBe(29);
    expect(fn('DriftScheduleLambdaFunction').Timeout).toBe(900);
  });
  it('Lambda does not retry a failed or timed-out pass (the next scheduled one follows)', () => {
    const configs = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig');
    const worker = configs.find((c) => JSON.stringify(c.Properties.FunctionName).includes('DriftScheduleLambdaFunction'));
    expect(worker?.Properties.MaximumRetryAttempts).toBe(0);
  });
  it('DriftRole may invoke exactly that function', async () => {
    expect(await decide('DriftRole', 'lambda:InvokeFunction', workerArn())).toBe('Allowed');
    expect(await decide('DriftRole', 'lambda:InvokeFunction', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:iam-mapping-${STAGE}-resolve`)).toMatch(/Denied/);
    expect(await decide('DriftRole', 'lambda:UpdateFunctionCode', workerArn())).toMatch(/Denied/);
  });
});
