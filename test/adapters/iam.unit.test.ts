import {
  CreateRoleCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  IAMServiceException,
  LimitExceededException,
  ListRolesCommand,
  ListRoleTagsCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutRolePolicyCommand,
  ServiceFailureException,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  DeleteRoleCommand,
} from '@aws-sdk/client-iam';
import type { PolicyDocument } from '../../lib/provisioning/policies.js';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsIam, decodePolicyDocument } from '../../adapters/aws/iam.js';
import { mapAwsError } from '../../adapters/aws/errors.js';
import { TargetError } from '../../lib/target-errors.js';

const iamMock = mockClient(IAMClient);
const iam = new AwsIam(new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));

const trust: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Federated: 'arn:aws:iam::1:oidc-provider/x' }, Action: 'sts:AssumeRoleWithWebIdentity' }],
};
const encoded = (doc: unknown): string => encodeURIComponent(JSON.stringify(doc));
const meta = { $metadata: { httpStatusCode: 400 } };

async function failure(promise: Promise<unknown>): Promise<TargetError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(TargetError);
    return err as TargetError;
  }
  throw new Error('expected a failure');
}

beforeEach(() => {
  iamMock.reset();
});

describe('AwsIam (mocked IAMClient)', () => {
  it('maps Throttling to a retryable ThrottledError', async () => {
    iamMock.on(GetRoleCommand).rejects(new IAMServiceException({ name: 'Throttling', $fault: 'client', message: 'Rate exceeded', ...meta }));
    const err = await failure(iam.getRole('r'));
    expect(err.name).toBe('ThrottledError');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('Rate exceeded');
    expect((err as { cause?: unknown }).cause).toBeInstanceOf(IAMServiceException);
  });

  it('returns null for NoSuchEntity on reads, NotFoundError (retryable) on writes', async () => {
    iamMock.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'The role with name r cannot be found.', ...meta }));
    iamMock.on(GetRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'nope', ...meta }));
    iamMock.on(UpdateAssumeRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'The role with name r cannot be found.', ...meta }));
    iamMock.on(DeleteRoleCommand).rejects(new NoSuchEntityException({ message: 'gone', ...meta }));
    expect(await iam.getRole('r')).toBeNull();
    expect(await iam.getInlinePolicy('r', 'p')).toBeNull();
    const err = await failure(iam.updateTrustPolicy('r', trust));
    expect(err.name).toBe('NotFoundError');
    expect(err.retryable).toBe(true);
    await expect(iam.deleteRole('r')).resolves.toBeUndefined();
  });

  it('maps EntityAlreadyExists on create to AlreadyExistsError', async () => {
    iamMock.on(CreateRoleCommand).rejects(new EntityAlreadyExistsException({ message: 'Role with name r already exists.', ...meta }));
    const err = await failure(iam.createRole({ name: 'r', path: '/', trustPolicy: trust, tags: {} }));
    expect(err.name).toBe('AlreadyExistsError');
    expect(err.retryable).toBe(false);
  });

  it('maps LimitExceeded (ACLSizePerRole) to LimitExceededError keeping the message', async () => {
    iamMock.on(PutRolePolicyCommand).rejects(new LimitExceededException({ message: 'Cannot exceed quota for ACLSizePerRole: 2048', ...meta }));
    const err = await failure(iam.putInlinePolicy('r', 'p', { Version: '2012-10-17', Statement: [] }));
    expect(err.name).toBe('LimitExceededError');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('Cannot exceed quota for ACLSizePerRole: 2048');
  });

  it('maps MalformedPolicyDocument to MalformedPolicyError', async () => {
    iamMock
      .on(UpdateAssumeRolePolicyCommand)
      .rejects(new MalformedPolicyDocumentException({ message: 'Invalid principal in policy: "Federated":"x"', ...meta }));
    const err = await failure(iam.updateTrustPolicy('r', trust));
    expect(err.name).toBe('MalformedPolicyError');
    expect(err.message).toContain('Invalid principal');
  });

  it('maps ServiceFailure, AccessDenied, ValidationError and network errors', () => {
    expect(mapAwsError(new ServiceFailureException({ message: 'x', $metadata: { httpStatusCode: 500 } }), 'c').name).toBe('TransientError');
    expect(mapAwsError(new IAMServiceException({ name: 'AccessDenied', $fault: 'client', message: 'no', ...meta }), 'c').name).toBe('AccessDeniedError');
    expect(mapAwsError(new IAMServiceException({ name: 'ValidationError', $fault: 'client', message: 'bad', ...meta }), 'c').name).toBe('InvalidInputError');
    expect(mapAwsError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'c').name).toBe('TransientError');
    expect(mapAwsError(Object.assign(new Error('x'), { name: 'TimeoutError' }), 'c').name).toBe('TransientError');
    expect(mapAwsError(new IAMServiceException({ name: 'RequestLimitExceeded', $fault: 'client', message: 'slow', ...meta }), 'c').name).toBe('ThrottledError');
  });

  it('paginates ListRoles (two pages) and reads tags per role', async () => {
    iamMock
      .on(ListRolesCommand, { PathPrefix: '/irsa/' })
      .resolvesOnce({
        Roles: [{ RoleName: 'a', Arn: 'arn:a', Path: '/irsa/', RoleId: 'A', CreateDate: new Date(0), AssumeRolePolicyDocument: encoded(trust) }],
        IsTruncated: true,
        Marker: 'm1',
      })
      .resolvesOnce({
        Roles: [{ RoleName: 'b', Arn: 'arn:b', Path: '/irsa/', RoleId: 'B', CreateDate: new Date(0), AssumeRolePolicyDocument: encoded(trust) }],
        IsTruncated: false,
      });
    iamMock.on(ListRoleTagsCommand, { RoleName: 'a' }).resolves({ Tags: [{ Key: 'owner', Value: 'svc' }], IsTruncated: false });
    iamMock.on(ListRoleTagsCommand, { RoleName: 'b' }).resolves({ Tags: [], IsTruncated: false });
    const roles = await iam.listRoles('/irsa/');
    expect(roles.map((r) => r.name)).toEqual(['a', 'b']);
    expect(roles[0]?.tags).toEqual({ owner: 'svc' });
    expect(roles[0]?.trustPolicy).toEqual(trust);
    expect(iamMock).toHaveReceivedCommandTimes(ListRolesCommand, 2);
    expect(iamMock).toHaveReceivedNthCommandWith(ListRolesCommand, 2, { PathPrefix: '/irsa/', Marker: 'm1' });
  });

  it('URL-decodes trust and inline policy documents; tags become a record', async () => {
    const inline: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/a b+c*' }] };
    iamMock.on(GetRoleCommand).resolves({
      Role: {
        RoleName: 'r',
        Arn: 'arn:aws:iam::1:role/irsa/r',
        Path: '/irsa/',
        RoleId: 'R',
        CreateDate: new Date('2024-01-01T00:00:00Z'),
        AssumeRolePolicyDocument: encoded(trust),
        Tags: [{ Key: 'k', Value: 'v' }],
      },
    });
    iamMock.on(GetRolePolicyCommand).resolves({ RoleName: 'r', PolicyName: 'p', PolicyDocument: encoded(inline) });
    expect(await iam.getRole('r')).toEqual({
      name: 'r',
      arn: 'arn:aws:iam::1:role/irsa/r',
      path: '/irsa/',
      trustPolicy: trust,
      tags: { k: 'v' },
      createdAt: '2024-01-01T00:00:00.000Z',
      id: 'R',
    });
    expect(await iam.getInlinePolicy('r', 'p')).toEqual(inline);
    expect(decodePolicyDocument(JSON.stringify(inline))).toEqual(inline);
  });

  it('sends JSON documents and tags as the IAM API expects', async () => {
    iamMock
      .on(CreateRoleCommand)
      .resolves({ Role: { RoleName: 'r', Arn: 'arn:r', Path: '/irsa/', RoleId: 'R', CreateDate: new Date(0), AssumeRolePolicyDocument: encoded(trust) } });
    iamMock.on(TagRoleCommand).resolves({});
    const role = await iam.createRole({ name: 'r', path: '/irsa/', trustPolicy: trust, tags: { team: 'ml' }, description: 'd' });
    expect(role.tags).toEqual({ team: 'ml' });
    expect(iamMock).toHaveReceivedCommandWith(CreateRoleCommand, {
      RoleName: 'r',
      Path: '/irsa/',
      AssumeRolePolicyDocument: JSON.stringify(trust),
      Tags: [{ Key: 'team', Value: 'ml' }],
      Description: 'd',
    });
    await iam.tagRole('r', {});
    expect(iamMock).not.toHaveReceivedCommand(TagRoleCommand);
  });
});
