/**
 * The sandbox's SimulatePrincipalPolicy through the AWS SDK: decisions for a set of control-plane
 * policies (expected values written out, and compared with @cloud-copilot/iam-simulate run directly
 * on the same documents), IAM's answer shape (MatchedStatements with positions,
 * MissingContextValues, PermissionsBoundaryDecisionDetail), Marker paging and IAM's errors.
 * moto (5.x) does not implement SimulatePrincipalPolicy, so there is no moto comparison here.
 */
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  IAMServiceException,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  SimulatePrincipalPolicyCommand,
  paginateSimulatePrincipalPolicy,
  type EvaluationResult,
} from '@aws-sdk/client-iam';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsIam } from '../../adapters/aws/iam.js';
import { startSandboxServer, type SandboxServer } from '../../local/sandbox/index.js';
import { statementPositions } from '../../local/sandbox/iam-simulate.js';
import { awsClients } from './helpers.js';

let server: SandboxServer;
let clients: ReturnType<typeof awsClients>;
let account: string;

const EC2 = [{ ContextKeyName: 'iam:PassedToService', ContextKeyType: 'string' as const, ContextKeyValues: ['ec2.amazonaws.com'] }];
const trust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const roleArn = (name: string) => `arn:aws:iam::${account}:role/iam-mapping/${name}`;

beforeAll(async () => {
  server = await startSandboxServer({ port: 0 });
  clients = awsClients(server.url);
  account = server.sandbox.accountId;
});
afterAll(async () => {
  await server.close();
});

let n = 0;
/** A control-plane role with these inline policies (and optionally a boundary); returns its ARN. */
async function controlPlane(policies: object[], boundary?: object): Promise<string> {
  const name = `cp-${++n}`;
  let boundaryArn: string | undefined;
  if (boundary) {
    const out = await clients.iam.send(new CreatePolicyCommand({ PolicyName: `${name}-boundary`, PolicyDocument: JSON.stringify(boundary) }));
    boundaryArn = out.Policy?.Arn;
  }
  const out = await clients.iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
  if (boundaryArn) await clients.iam.send(new PutRolePermissionsBoundaryCommand({ RoleName: name, PermissionsBoundary: boundaryArn }));
  for (const [i, doc] of policies.entries()) {
    await clients.iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: `p${i + 1}`, PolicyDocument: JSON.stringify(doc, null, 2) }));
  }
  return out.Role?.Arn as string;
}

const doc = (...Statement: object[]) => ({ Version: '2012-10-17', Statement });
const passRole = (extra: object = {}) => ({ Effect: 'Allow', Action: 'iam:PassRole', Resource: `arn:aws:iam::*:role/iam-mapping/*`, ...extra });
const toEc2 = { Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } };

async function simulate(source: string, resources: string[], context = EC2): Promise<EvaluationResult[]> {
  const out = await clients.iam.send(
    new SimulatePrincipalPolicyCommand({ PolicySourceArn: source, ActionNames: ['iam:PassRole'], ResourceArns: resources, ContextEntries: context }),
  );
  return out.EvaluationResults ?? [];
}

/** iam-simulate run directly on the documents (not through the sandbox's state). */
async function reference(policies: object[], resource: string, boundary?: object): Promise<string> {
  const result = await runSimulation(
    {
      identityPolicies: policies.map((policy, i) => ({ name: `p${i + 1}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(boundary ? { permissionBoundaryPolicies: [{ name: 'b', policy: boundary }] } : {}),
      request: {
        action: 'iam:PassRole',
        principal: `arn:aws:iam::${account}:role/reference`,
        resource: { accountId: account, resource },
        contextVariables: { 'iam:PassedToService': 'ec2.amazonaws.com' },
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return { Allowed: 'allowed', ExplicitlyDenied: 'explicitDeny', ImplicitlyDenied: 'implicitDeny' }[result.overallResult];
}

const CASES: Array<{ name: string; policies: object[]; boundary?: object; expect: Record<string, string> }> = [
  { name: 'PassRole to ec2 on the role path', policies: [doc(passRole(toEc2))], expect: { a: 'allowed', b: 'allowed' } },
  {
    name: 'PassRole to another service only (StringEquals)',
    policies: [doc(passRole({ Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } } }))],
    expect: { a: 'implicitDeny' },
  },
  { name: 'StringLike ec2.*', policies: [doc(passRole({ Condition: { StringLike: { 'iam:PassedToService': 'ec2.*' } } }))], expect: { a: 'allowed' } },
  { name: 'no policy at all', policies: [doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' })], expect: { a: 'implicitDeny' } },
  { name: 'NotAction s3:* (everything else)', policies: [doc({ Effect: 'Allow', NotAction: 's3:*', Resource: '*' })], expect: { a: 'allowed' } },
  { name: 'NotAction iam:* (not PassRole)', policies: [doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' })], expect: { a: 'implicitDeny' } },
  {
    name: 'NotResource leaves one role out',
    policies: [doc({ Effect: 'Allow', Action: 'iam:PassRole', NotResource: `arn:aws:iam::*:role/iam-mapping/b`, ...toEc2 })],
    expect: { a: 'allowed', b: 'implicitDeny' },
  },
  {
    name: 'explicit Deny on one role beats Allow *',
    policies: [
      doc({ Effect: 'Allow', Action: '*', Resource: '*' }),
      doc({ Sid: 'NoB', Effect: 'Deny', Action: 'iam:PassRole', Resource: `arn:aws:iam::*:role/iam-mapping/b` }),
    ],
    expect: { a: 'allowed', b: 'explicitDeny' },
  },
  {
    name: 'Deny unless passed to ec2 (StringNotEquals)',
    policies: [
      doc(passRole(), {
        Effect: 'Deny',
        Action: 'iam:PassRole',
        Resource: '*',
        Condition: { StringNotEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
    ],
    expect: { a: 'allowed' },
  },
  {
    name: 'permissions boundary without iam:PassRole',
    policies: [doc(passRole(toEc2))],
    boundary: doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }),
    expect: { a: 'implicitDeny' },
  },
  {
    name: 'permissions boundary that allows it',
    policies: [doc(passRole(toEc2))],
    boundary: doc({ Effect: 'Allow', Action: ['s3:*', 'iam:PassRole'], Resource: '*' }),
    expect: { a: 'allowed' },
  },
];

describe('SimulatePrincipalPolicy (sandbox) over a set of policies', () => {
  for (const c of CASES) {
    it(`${c.name}: as written, and as iam-simulate answers`, async () => {
      const source = await controlPlane(c.policies, c.boundary);
      const names = Object.keys(c.expect);
      const results = await simulate(source, names.map(roleArn));
      expect(results.map((r) => [r.EvalResourceName, r.EvalDecision])).toEqual(names.map((x) => [roleArn(x), c.expect[x]]));
      for (const x of names) expect(await reference(c.policies, roleArn(x), c.boundary)).toBe(c.expect[x]);
      if (c.boundary) {
        expect(results[0]?.PermissionsBoundaryDecisionDetail?.AllowedByPermissionsBoundary).toBe(c.expect[names[0] as string] === 'allowed');
      } else expect(results[0]?.PermissionsBoundaryDecisionDetail).toBeUndefined();
    });
  }
});

describe('SimulatePrincipalPolicy answers as IAM does', () => {
  it('names the deciding statements with their positions, and the context keys the request lacked', async () => {
    const allow = doc({ Sid: 'Other', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }, passRole(toEc2));
    const deny = doc({ Effect: 'Deny', Action: 'iam:PassRole', Resource: roleArn('b') });
    const source = await controlPlane([allow, deny]);
    const [a, b] = await simulate(source, [roleArn('a'), roleArn('b')]);
    expect(a?.EvalDecision).toBe('allowed');
    const text = JSON.stringify(allow, null, 2);
    const [, second] = statementPositions(text);
    expect(a?.MatchedStatements).toEqual([{ SourcePolicyId: 'p1', SourcePolicyType: 'role', StartPosition: second?.start, EndPosition: second?.end }]);
    // The second statement of p1 starts on its own line, at its brace.
    const lines = text.split('\n');
    expect(lines[(second?.start.Line ?? 0) - 1]?.[(second?.start.Column ?? 0) - 1]).toBe('{');
    expect(b?.EvalDecision).toBe('explicitDeny');
    expect(b?.MatchedStatements?.map((m) => m.SourcePolicyId)).toEqual(['p2']);
    expect(b?.ResourceSpecificResults?.[0]).toMatchObject({ EvalResourceName: roleArn('b'), EvalResourceDecision: 'explicitDeny' });

    // Without the context key, the Allow's condition cannot match: implicitDeny, and the key is named missing.
    const [bare] = await simulate(source, [roleArn('a')], []);
    expect(bare?.EvalDecision).toBe('implicitDeny');
    expect(bare?.MissingContextValues).toEqual(['iam:PassedToService']);
    expect(bare?.MatchedStatements ?? []).toEqual([]);
  });

  it('evaluates attached customer-managed policies (user-managed)', async () => {
    const source = await controlPlane([doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' })]);
    const policy = await clients.iam.send(new CreatePolicyCommand({ PolicyName: `pass-${n}`, PolicyDocument: JSON.stringify(doc(passRole(toEc2))) }));
    await clients.iam.send(new AttachRolePolicyCommand({ RoleName: source.split('/').pop(), PolicyArn: policy.Policy?.Arn }));
    const [r] = await simulate(source, [roleArn('a')]);
    expect(r?.EvalDecision).toBe('allowed');
    expect(r?.MatchedStatements?.map((m) => [m.SourcePolicyId, m.SourcePolicyType])).toEqual([[`pass-${n}`, 'user-managed']]);
  });

  it('pages EvaluationResults with MaxItems/Marker (the SDK paginator)', async () => {
    const source = await controlPlane([doc(passRole(toEc2))]);
    const arns = ['a', 'b', 'c', 'd', 'e'].map(roleArn);
    const pages: EvaluationResult[][] = [];
    for await (const page of paginateSimulatePrincipalPolicy(
      { client: clients.iam, pageSize: 2 },
      { PolicySourceArn: source, ActionNames: ['iam:PassRole'], ResourceArns: arns, ContextEntries: EC2 },
    )) {
      pages.push(page.EvaluationResults ?? []);
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((r) => r.EvalResourceName)).toEqual(arns);
  });

  it('refuses what IAM refuses: a principal that does not exist, no action, a bad MaxItems', async () => {
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return (e as IAMServiceException).name;
      }
      return 'no error';
    };
    expect(await code(simulate(`arn:aws:iam::${account}:role/nobody`, [roleArn('a')]))).toBe('NoSuchEntityException');
    expect(await code(simulate(`arn:aws:iam::${account}:user/someone`, [roleArn('a')]))).toBe('NoSuchEntityException');
    const source = await controlPlane([doc(passRole(toEc2))]);
    expect(await code(clients.iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: source, ActionNames: [] })))).toBe('ValidationError');
    expect(await code(clients.iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: source, ActionNames: ['iam:PassRole'], MaxItems: 1001 })))).toBe(
      'ValidationError',
    );
  });
});

describe('AwsIam.simulatePrincipalPolicy', () => {
  it('sends ResourceArns in batches of 100 and reads every page', async () => {
    const source = await controlPlane([doc({ ...passRole(toEc2), Resource: `arn:aws:iam::*:role/iam-mapping/r1*` })]);
    const iam = new AwsIam({
      region: 'us-east-1',
      endpoint: `${server.url}/sandbox/aws`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const arns = Array.from({ length: 250 }, (_, i) => roleArn(`r${i}`));
    const mark = server.sandbox.calls.mark();
    const results = await iam.simulatePrincipalPolicy({
      policySourceArn: source,
      actionNames: ['iam:PassRole'],
      resourceArns: arns,
      contextEntries: [{ key: 'iam:PassedToService', type: 'string', values: ['ec2.amazonaws.com'] }],
    });
    expect(results).toHaveLength(250);
    expect(results.filter((r) => r.decision === 'allowed').map((r) => r.resource)).toEqual(arns.filter((a) => /\/r1\d*$/.test(a)));
    expect(results[0]).toEqual({ action: 'iam:PassRole', resource: roleArn('r0'), decision: 'implicitDeny', matchedStatements: [] });
    expect(server.sandbox.calls.since(mark).filter((c) => c.action === 'SimulatePrincipalPolicy')).toHaveLength(3);
  });
});
