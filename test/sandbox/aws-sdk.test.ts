import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMServiceException,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListInstanceProfileTagsCommand,
  ListOpenIDConnectProvidersCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  ListRolesCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagInstanceProfileCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  paginateListRoles,
} from '@aws-sdk/client-iam';
import { DescribeClusterCommand, ListClustersCommand, ResourceNotFoundException } from '@aws-sdk/client-eks';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxServer, type SandboxServer } from '../../local/sandbox/index.js';
import { awsClients, irsaTrust, s3Policy } from './helpers.js';

let server: SandboxServer;
let clients: ReturnType<typeof awsClients>;
let providerArn: string;

beforeAll(async () => {
  server = await startSandboxServer({ port: 0, clusters: [{ name: 'sandbox' }, { name: 'other', issuer: 'https://oidc.example.com/id/abc' }] });
  clients = awsClients(server.url);
  providerArn = server.sandbox.eks.oidcProviderArn('sandbox') as string;
});
afterAll(async () => {
  await server.close();
});

/** Captures the IAM error of a failing command. */
async function iamError(promise: Promise<unknown>): Promise<IAMServiceException> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(IAMServiceException);
    return err as IAMServiceException;
  }
  throw new Error('expected the call to fail');
}

describe('IAM roles (AWS SDK v3)', () => {
  it('creates and gets a role; the trust document round-trips URL-encoded', async () => {
    const trust = irsaTrust(providerArn);
    const created = await clients.iam.send(
      new CreateRoleCommand({
        RoleName: 'irsa-a',
        Path: '/irsa/',
        AssumeRolePolicyDocument: trust,
        Description: 'd',
        MaxSessionDuration: 7200,
        Tags: [{ Key: 'team', Value: 'ml' }],
      }),
    );
    expect(created.Role?.Arn).toBe('arn:aws:iam::123456789012:role/irsa/irsa-a');
    expect(created.Role?.RoleId).toMatch(/^AROA[A-Z0-9]{17}$/);
    expect(created.Role?.CreateDate).toBeInstanceOf(Date);

    const { Role } = await clients.iam.send(new GetRoleCommand({ RoleName: 'irsa-a' }));
    expect(Role?.AssumeRolePolicyDocument).toMatch(/^%7B%22Version%22/);
    expect(JSON.parse(decodeURIComponent(Role?.AssumeRolePolicyDocument as string))).toEqual(JSON.parse(trust));
    expect(Role?.Path).toBe('/irsa/');
    expect(Role?.Description).toBe('d');
    expect(Role?.MaxSessionDuration).toBe(7200);
    expect(Role?.Tags).toEqual([{ Key: 'team', Value: 'ml' }]);
  });

  it('updates the assume-role policy', async () => {
    const next = irsaTrust(providerArn, 'system:serviceaccount:anyscale-operator:other');
    await clients.iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'irsa-a', PolicyDocument: next }));
    const { Role } = await clients.iam.send(new GetRoleCommand({ RoleName: 'irsa-a' }));
    expect(decodeURIComponent(Role?.AssumeRolePolicyDocument as string)).toBe(next);
    expect(server.sandbox.iam.trustPolicy('irsa-a').Statement[0]?.Condition).toBeDefined();
  });

  it('enforces the 2048-character trust policy quota (whitespace not counted)', async () => {
    const subjects = Array.from({ length: 40 }, (_, i) => `system:serviceaccount:anyscale-operator:sa-${i}`);
    const host = providerArn.split(':oidc-provider/')[1];
    const doc = (subs: string[]) =>
      JSON.stringify(
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Federated: providerArn },
              Action: 'sts:AssumeRoleWithWebIdentity',
              Condition: { StringEquals: { [`${host}:sub`]: subs } },
            },
          ],
        },
        null,
        8,
      );
    const big = doc(subjects);
    expect(big.replace(/\s+/g, '').length).toBeGreaterThan(2048);
    const err = await iamError(clients.iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'irsa-a', PolicyDocument: big })));
    expect(err.name).toBe('LimitExceededException');
    expect(err.$metadata.httpStatusCode).toBe(409);
    expect(err.message).toBe('Cannot exceed quota for ACLSizePerRole: 2048');

    // Indented far beyond 2048 raw characters, but small once whitespace is removed: accepted.
    const small = doc(subjects.slice(0, 5));
    expect(small.length).toBeGreaterThan(2048 / 4);
    await clients.iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'irsa-a', PolicyDocument: small }));
  });

  it('rejects invalid names, duplicates, unknown roles and malformed documents', async () => {
    const trust = irsaTrust(providerArn);
    let err = await iamError(clients.iam.send(new CreateRoleCommand({ RoleName: 'r'.repeat(65), AssumeRolePolicyDocument: trust })));
    expect(err.name).toBe('ValidationError');
    expect(err.message).toContain('length less than or equal to 64');
    expect(err.$metadata.httpStatusCode).toBe(400);

    err = await iamError(clients.iam.send(new CreateRoleCommand({ RoleName: 'bad/name', AssumeRolePolicyDocument: trust })));
    expect(err.name).toBe('ValidationError');

    err = await iamError(clients.iam.send(new CreateRoleCommand({ RoleName: 'IRSA-A', AssumeRolePolicyDocument: trust })));
    expect(err.name).toBe('EntityAlreadyExistsException');
    expect(err.$metadata.httpStatusCode).toBe(409);

    err = await iamError(clients.iam.send(new GetRoleCommand({ RoleName: 'missing' })));
    expect(err.name).toBe('NoSuchEntityException');
    expect(err.message).toBe('The role with name missing cannot be found.');
    expect(err.$metadata.httpStatusCode).toBe(404);

    for (const bad of [
      '{not json',
      JSON.stringify({ Statement: [] }),
      JSON.stringify({ Version: '2012-10-17' }),
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } }] }),
    ]) {
      err = await iamError(clients.iam.send(new CreateRoleCommand({ RoleName: 'malformed', AssumeRolePolicyDocument: bad })));
      expect(err.name).toBe('MalformedPolicyDocumentException');
    }
    // A trust policy naming an OIDC provider that does not exist in the account is rejected, as in IAM.
    err = await iamError(
      clients.iam.send(
        new CreateRoleCommand({ RoleName: 'ghost', AssumeRolePolicyDocument: irsaTrust('arn:aws:iam::123456789012:oidc-provider/oidc.example.com/id/nope') }),
      ),
    );
    expect(err.name).toBe('MalformedPolicyDocumentException');
    expect(err.message).toContain('Invalid principal');
    // So is a role of the account that does not exist (with its path); the account, its root and roles that exist are fine.
    const awsTrust = (principal: string) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }] });
    for (const missing of ['arn:aws:iam::123456789012:role/doesnotexist', 'arn:aws:iam::123456789012:role/wrong-path/irsa-a']) {
      err = await iamError(clients.iam.send(new CreateRoleCommand({ RoleName: 'ghost2', AssumeRolePolicyDocument: awsTrust(missing) })));
      expect(err.name).toBe('MalformedPolicyDocumentException');
      expect(err.message).toBe(`Invalid principal in policy: "AWS":"${missing}"`);
    }
    const { Role: existing } = await clients.iam.send(new GetRoleCommand({ RoleName: 'irsa-a' }));
    expect(existing?.RoleLastUsed).toEqual({}); // as IAM shows a role never used
    for (const [i, ok] of ['123456789012', 'arn:aws:iam::123456789012:root', existing!.Arn!, 'arn:aws:iam::999999999999:role/x'].entries())
      await clients.iam.send(new CreateRoleCommand({ RoleName: `trusts-${i}`, AssumeRolePolicyDocument: awsTrust(ok) }));
    for (let i = 0; i < 4; i++) await clients.iam.send(new DeleteRoleCommand({ RoleName: `trusts-${i}` }));
  });

  it('tags and untags roles (50-tag quota)', async () => {
    await clients.iam.send(
      new TagRoleCommand({
        RoleName: 'irsa-a',
        Tags: [
          { Key: 'owner', Value: 'a@b.c' },
          { Key: 'team', Value: 'infra' },
        ],
      }),
    );
    await clients.iam.send(new UntagRoleCommand({ RoleName: 'irsa-a', TagKeys: ['owner'] }));
    const { Tags } = await clients.iam.send(new ListRoleTagsCommand({ RoleName: 'irsa-a' }));
    expect(Tags).toEqual([{ Key: 'team', Value: 'infra' }]);
    const many = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    const err = await iamError(clients.iam.send(new TagRoleCommand({ RoleName: 'irsa-a', Tags: many })));
    expect(err.name).toBe('LimitExceededException');
  });

  it('puts, gets, lists and deletes inline policies; enforces the 10,240 aggregate', async () => {
    await clients.iam.send(new PutRolePolicyCommand({ RoleName: 'irsa-a', PolicyName: 'read', PolicyDocument: s3Policy() }));
    const got = await clients.iam.send(new GetRolePolicyCommand({ RoleName: 'irsa-a', PolicyName: 'read' }));
    expect(decodeURIComponent(got.PolicyDocument as string)).toBe(s3Policy());
    expect((await clients.iam.send(new ListRolePoliciesCommand({ RoleName: 'irsa-a' }))).PolicyNames).toEqual(['read']);

    const bigResources = Array.from({ length: 400 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`);
    const big = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: bigResources }] });
    const err = await iamError(clients.iam.send(new PutRolePolicyCommand({ RoleName: 'irsa-a', PolicyName: 'big', PolicyDocument: big })));
    expect(err.name).toBe('LimitExceededException');
    expect(err.message).toContain('10240');

    const malformed = await iamError(
      clients.iam.send(
        new PutRolePolicyCommand({
          RoleName: 'irsa-a',
          PolicyName: 'x',
          PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*' }] }),
        }),
      ),
    );
    expect(malformed.name).toBe('MalformedPolicyDocumentException');

    const conflict = await iamError(clients.iam.send(new DeleteRoleCommand({ RoleName: 'irsa-a' })));
    expect(conflict.name).toBe('DeleteConflictException');
    await clients.iam.send(new DeleteRolePolicyCommand({ RoleName: 'irsa-a', PolicyName: 'read' }));
    expect((await clients.iam.send(new ListRolePoliciesCommand({ RoleName: 'irsa-a' }))).PolicyNames).toEqual([]);
  });

  it('attaches AWS-managed and customer-managed policies (10 per role)', async () => {
    const { Policy } = await clients.iam.send(new CreatePolicyCommand({ PolicyName: 'extra', PolicyDocument: s3Policy('extra') }));
    expect(Policy?.Arn).toBe('arn:aws:iam::123456789012:policy/extra');
    await clients.iam.send(new AttachRolePolicyCommand({ RoleName: 'irsa-a', PolicyArn: Policy?.Arn }));
    await clients.iam.send(new AttachRolePolicyCommand({ RoleName: 'irsa-a', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
    const { AttachedPolicies } = await clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'irsa-a' }));
    expect(AttachedPolicies?.map((p) => p.PolicyName)).toEqual(['extra', 'AmazonS3ReadOnlyAccess']);
    expect((await clients.iam.send(new GetPolicyCommand({ PolicyArn: Policy?.Arn }))).Policy?.AttachmentCount).toBe(1);

    const missing = await iamError(clients.iam.send(new AttachRolePolicyCommand({ RoleName: 'irsa-a', PolicyArn: 'arn:aws:iam::123456789012:policy/none' })));
    expect(missing.name).toBe('NoSuchEntityException');

    for (let i = 0; i < 8; i++) {
      await clients.iam.send(new AttachRolePolicyCommand({ RoleName: 'irsa-a', PolicyArn: `arn:aws:iam::aws:policy/P${i}` }));
    }
    const limit = await iamError(clients.iam.send(new AttachRolePolicyCommand({ RoleName: 'irsa-a', PolicyArn: 'arn:aws:iam::aws:policy/P8' })));
    expect(limit.name).toBe('LimitExceededException');

    for (const p of server.sandbox.iam.getRole('irsa-a').attachedPolicyArns) {
      await clients.iam.send(new DetachRolePolicyCommand({ RoleName: 'irsa-a', PolicyArn: p }));
    }
    const notAttached = await iamError(clients.iam.send(new DetachRolePolicyCommand({ RoleName: 'irsa-a', PolicyArn: Policy?.Arn })));
    expect(notAttached.name).toBe('NoSuchEntityException');
  });

  it('manages instance profiles', async () => {
    await clients.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'ip-a', Tags: [{ Key: 'a', Value: '1' }] }));
    await clients.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'ip-a', RoleName: 'irsa-a' }));
    const again = await iamError(clients.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'ip-a', RoleName: 'irsa-a' })));
    expect(again.name).toBe('LimitExceededException');

    const { InstanceProfile } = await clients.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'ip-a' }));
    expect(InstanceProfile?.Arn).toBe('arn:aws:iam::123456789012:instance-profile/ip-a');
    expect(InstanceProfile?.Roles?.map((r) => r.RoleName)).toEqual(['irsa-a']);
    const forRole = await clients.iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'irsa-a' }));
    expect(forRole.InstanceProfiles?.map((p) => p.InstanceProfileName)).toEqual(['ip-a']);

    await clients.iam.send(new TagInstanceProfileCommand({ InstanceProfileName: 'ip-a', Tags: [{ Key: 'b', Value: '2' }] }));
    expect((await clients.iam.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: 'ip-a' }))).Tags).toEqual([
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: '2' },
    ]);

    expect((await iamError(clients.iam.send(new DeleteRoleCommand({ RoleName: 'irsa-a' })))).name).toBe('DeleteConflictException');
    expect((await iamError(clients.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: 'ip-a' })))).name).toBe('DeleteConflictException');
    await clients.iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'ip-a', RoleName: 'irsa-a' }));
    await clients.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: 'ip-a' }));
    expect((await iamError(clients.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'ip-a' })))).name).toBe('NoSuchEntityException');
  });

  it('paginates ListRoles with Marker/MaxItems and filters by PathPrefix', async () => {
    for (let i = 0; i < 7; i++) {
      await clients.iam.send(new CreateRoleCommand({ RoleName: `page-${i}`, Path: '/paged/', AssumeRolePolicyDocument: irsaTrust(providerArn) }));
    }
    const first = await clients.iam.send(new ListRolesCommand({ PathPrefix: '/paged/', MaxItems: 3 }));
    expect(first.IsTruncated).toBe(true);
    expect(first.Marker).toBeTruthy();
    expect(first.Roles?.map((r) => r.RoleName)).toEqual(['page-0', 'page-1', 'page-2']);
    expect(first.Roles?.[0]?.Tags).toBeUndefined();

    const names: string[] = [];
    for await (const page of paginateListRoles({ client: clients.iam, pageSize: 2 }, { PathPrefix: '/paged/' })) {
      names.push(...(page.Roles ?? []).map((r) => r.RoleName as string));
    }
    expect(names).toEqual(Array.from({ length: 7 }, (_, i) => `page-${i}`));

    const all = await clients.iam.send(new ListRolesCommand({}));
    expect(all.IsTruncated).toBe(false);
    expect(all.Roles?.length).toBe(8);
  });

  it('deletes a role once it is detached from everything', async () => {
    await clients.iam.send(new DeleteRoleCommand({ RoleName: 'irsa-a' }));
    expect((await iamError(clients.iam.send(new DeleteRoleCommand({ RoleName: 'irsa-a' })))).name).toBe('NoSuchEntityException');
  });
});

describe('OIDC providers, EKS and STS', () => {
  it('auto-registers an IAM OIDC provider per cluster', async () => {
    const { OpenIDConnectProviderList } = await clients.iam.send(new ListOpenIDConnectProvidersCommand({}));
    expect(OpenIDConnectProviderList?.map((p) => p.Arn).sort()).toEqual(
      [providerArn, 'arn:aws:iam::123456789012:oidc-provider/oidc.example.com/id/abc'].sort(),
    );
    const provider = await clients.iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn }));
    expect(provider.Url).toMatch(/^oidc\.eks\.us-east-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
    expect(provider.ClientIDList).toEqual(['sts.amazonaws.com']);
    expect(provider.ThumbprintList?.length).toBe(1);
  });

  it('describes clusters with their OIDC issuer', async () => {
    const { cluster } = await clients.eks.send(new DescribeClusterCommand({ name: 'sandbox' }));
    expect(cluster?.name).toBe('sandbox');
    expect(cluster?.arn).toBe('arn:aws:eks:us-east-1:123456789012:cluster/sandbox');
    expect(cluster?.status).toBe('ACTIVE');
    expect(cluster?.createdAt).toBeInstanceOf(Date);
    expect(cluster?.identity?.oidc?.issuer).toMatch(/^https:\/\/oidc\.eks\.us-east-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
    expect(`arn:aws:iam::123456789012:oidc-provider/${cluster?.identity?.oidc?.issuer?.slice('https://'.length)}`).toBe(providerArn);

    const other = await clients.eks.send(new DescribeClusterCommand({ name: 'other' }));
    expect(other.cluster?.identity?.oidc?.issuer).toBe('https://oidc.example.com/id/abc');
    expect((await clients.eks.send(new ListClustersCommand({}))).clusters).toEqual(['other', 'sandbox']);

    await expect(clients.eks.send(new DescribeClusterCommand({ name: 'nope' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers STS GetCallerIdentity with the sandbox account', async () => {
    const id = await clients.sts.send(new GetCallerIdentityCommand({}));
    expect(id.Account).toBe('123456789012');
    expect(id.Arn).toMatch(/^arn:aws:iam::123456789012:/);
  });

  it('records every call by service and action', () => {
    const counts = server.sandbox.calls.countsByAction();
    expect(counts['eks:DescribeCluster']).toBe(3);
    expect(counts['sts:GetCallerIdentity']).toBe(1);
    expect(counts['iam:CreateRole']).toBeGreaterThan(1);
    expect(server.sandbox.calls.count({ service: 'iam', mutating: false, action: 'GetRole' })).toBeGreaterThan(0);
  });
});
