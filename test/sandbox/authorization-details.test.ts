/**
 * GetAccountAuthorizationDetails as IAM serves it: the same roles, policies, tags and instance
 * profiles created with the AWS CLI in the sandbox and in moto_server (the Python AWS emulator) read
 * back with `aws iam get-account-authorization-details --filter Role` — same fields (the permissions
 * boundary included), documents
 * URL-encoded on the wire, Marker/IsTruncated/MaxItems paging (which moto does not implement for this
 * API: it always answers in one page) — and the adapter's bulk read
 * (`AwsIam.listRoleDetails`) gives the same answer from both. Skipped without moto_server / aws.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsIam } from '../../adapters/aws/iam.js';
import { startSandboxServer, type SandboxServer } from '../../local/sandbox/index.js';
import { awsCliEnv } from '../helpers/cli-env.js';
import { hasMoto, startMoto, type Moto } from './moto.js';
import { onPath } from './helpers.js';

const run = promisify(execFile);
const enabled = hasMoto && onPath('aws');

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const INLINE = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/a b+c*' }] });
const BOUNDARY = 'arn:aws:iam::123456789012:policy/boundary';
const MANAGED = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b' }] });

let sandbox: SandboxServer;
let moto: Moto;
let dir: string;

async function aws(endpoint: string, ...args: string[]): Promise<any> {
  const { stdout } = await run('aws', ['--endpoint-url', endpoint, '--output', 'json', ...args], { env: awsCliEnv(dir), timeout: 30_000 });
  return stdout.trim() === '' ? undefined : JSON.parse(stdout);
}

/** The same account content, made with the AWS CLI. */
async function seed(endpoint: string): Promise<void> {
  await aws(endpoint, 'iam', 'create-policy', '--policy-name', 'boundary', '--policy-document', MANAGED);
  await aws(
    endpoint,
    'iam',
    'create-role',
    '--role-name',
    'app-a',
    '--path',
    '/iam-mapping/',
    '--assume-role-policy-document',
    TRUST,
    '--tags',
    'Key=team,Value=a',
    'Key=iam-mapping.anyscale.io/cloud,Value=c1',
    '--permissions-boundary',
    BOUNDARY,
  );
  await aws(endpoint, 'iam', 'put-role-policy', '--role-name', 'app-a', '--policy-name', 'bucket', '--policy-document', INLINE);
  const policy = await aws(endpoint, 'iam', 'create-policy', '--policy-name', 'extra', '--policy-document', MANAGED);
  await aws(endpoint, 'iam', 'attach-role-policy', '--role-name', 'app-a', '--policy-arn', policy.Policy.Arn);
  await aws(endpoint, 'iam', 'create-instance-profile', '--instance-profile-name', 'prof-a', '--path', '/iam-mapping/', '--tags', 'Key=team,Value=a');
  await aws(endpoint, 'iam', 'add-role-to-instance-profile', '--instance-profile-name', 'prof-a', '--role-name', 'app-a');
  await aws(endpoint, 'iam', 'create-role', '--role-name', 'app-b', '--assume-role-policy-document', TRUST);
}

/** Field names, recursively (arrays: the union of their members' shapes); values dropped. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [Object.assign({}, ...value.map((v) => shape(v) as object))];
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shape((value as any)[k])]),
    );
  return typeof value;
}

/** What must agree between the two: everything but generated ids and dates. */
const comparable = (details: any) =>
  details.RoleDetailList.map((r: any) => ({
    RoleName: r.RoleName,
    Path: r.Path,
    Arn: r.Arn,
    AssumeRolePolicyDocument: r.AssumeRolePolicyDocument,
    RolePolicyList: r.RolePolicyList,
    AttachedManagedPolicies: r.AttachedManagedPolicies,
    PermissionsBoundary: r.PermissionsBoundary,
    Tags: r.Tags,
    InstanceProfileList: r.InstanceProfileList.map((p: any) => ({
      Name: p.InstanceProfileName,
      Path: p.Path,
      Arn: p.Arn,
      Roles: p.Roles.map((x: any) => x.RoleName),
      Tags: p.Tags,
    })),
  }));

beforeAll(async () => {
  if (!enabled) return;
  dir = mkdtempSync(join(tmpdir(), 'gaad-'));
  [sandbox, moto] = await Promise.all([startSandboxServer({ port: 0, clusters: [] }), startMoto()]);
  await Promise.all([seed(`${sandbox.url}/sandbox/aws`), seed(moto.url)]);
}, 60_000);
afterAll(async () => {
  await Promise.all([sandbox?.close(), moto?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!enabled)('GetAccountAuthorizationDetails: sandbox vs moto', () => {
  it('same fields and the same content (documents decoded by the CLI)', async () => {
    const [ours, theirs] = await Promise.all([
      aws(`${sandbox.url}/sandbox/aws`, 'iam', 'get-account-authorization-details', '--filter', 'Role'),
      aws(moto.url, 'iam', 'get-account-authorization-details', '--filter', 'Role'),
    ]);
    expect(ours.RoleDetailList.map((r: any) => r.RoleName)).toEqual(['app-a', 'app-b']);
    expect(shape(ours)).toEqual(shape(theirs));
    expect(comparable(ours)).toEqual(comparable(theirs));
    expect(ours.RoleDetailList[0].RolePolicyList[0].PolicyDocument).toEqual(JSON.parse(INLINE));
    expect(ours.RoleDetailList[0].AttachedManagedPolicies).toEqual([{ PolicyName: 'extra', PolicyArn: 'arn:aws:iam::123456789012:policy/extra' }]);
    // The boundary is part of RoleDetail (drift reads it from here); a role without one has no field.
    expect(ours.RoleDetailList[0].PermissionsBoundary).toEqual({ PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: BOUNDARY });
    expect(ours.RoleDetailList[1].PermissionsBoundary).toBeUndefined();
  });

  it('documents are URL-encoded on the wire (RFC 3986), as IAM sends them', async () => {
    const body = new URLSearchParams({ Action: 'GetAccountAuthorizationDetails', Version: '2010-05-08', 'Filter.member.1': 'Role' });
    const xml = await (await fetch(`${sandbox.url}/sandbox/aws/`, { method: 'POST', body })).text();
    const inline = /<PolicyDocument>([^<]*)<\/PolicyDocument>/.exec(xml)?.[1] ?? '';
    expect(inline.startsWith('%7B%22Version%22')).toBe(true);
    expect(inline).toContain('b%2Fa%20b%2Bc%2A');
    expect(decodeURIComponent(inline)).toBe(INLINE);
    expect(/<AssumeRolePolicyDocument>%7B/.test(xml)).toBe(true);
    expect(xml).toContain('<IsTruncated>false</IsTruncated>');
  });

  it('pages with MaxItems / Marker / IsTruncated as IAM documents it (moto does not page it); the call log counts each page', async () => {
    const page = async (endpoint: string, args: string[]) => aws(endpoint, 'iam', 'get-account-authorization-details', '--filter', 'Role', ...args);
    // --no-paginate: the CLI sends MaxItems / Marker as given and shows IsTruncated / Marker.
    const first = await page(`${sandbox.url}/sandbox/aws`, ['--no-paginate', '--max-items', '1']);
    expect(first.RoleDetailList.map((r: any) => r.RoleName)).toEqual(['app-a']);
    expect(first.IsTruncated).toBe(true);
    expect(typeof first.Marker).toBe('string');
    const second = await page(`${sandbox.url}/sandbox/aws`, ['--no-paginate', '--max-items', '1', '--marker', first.Marker]);
    expect(second.RoleDetailList.map((r: any) => r.RoleName)).toEqual(['app-b']);
    expect(second.IsTruncated).toBe(false);
    expect(second.Marker).toBeUndefined();
    // moto answers every request in one page (IsTruncated false: moto/iam/responses.py does not page
    // this API); its last page has the same envelope as ours.
    const motoPage = await page(moto.url, ['--no-paginate', '--max-items', '1']);
    expect(motoPage.IsTruncated).toBe(false);
    expect(Object.keys(motoPage).sort()).toEqual(Object.keys(second).sort());
    const since = ((await (await fetch(`${sandbox.url}/sandbox/calls?since=0`)).json()) as any).last;
    const all = await page(`${sandbox.url}/sandbox/aws`, ['--page-size', '1']);
    expect(all.RoleDetailList).toHaveLength(2);
    const log = (await (await fetch(`${sandbox.url}/sandbox/calls?since=${since}`)).json()) as any;
    expect(log.calls.map((c: any) => [c.service, c.action, c.status, c.mutating])).toEqual([
      ['iam', 'GetAccountAuthorizationDetails', 200, false],
      ['iam', 'GetAccountAuthorizationDetails', 200, false],
    ]);
    expect(log.last).toBe(since + 2);
    const bad = await fetch(`${sandbox.url}/sandbox/aws/`, {
      method: 'POST',
      body: new URLSearchParams({ Action: 'GetAccountAuthorizationDetails', Version: '2010-05-08', MaxItems: '1001' }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('maxItems');
  });

  it('the adapter reads the same details from both, one call per 1,000 roles', async () => {
    const read = (endpoint: string) =>
      new AwsIam({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 }).listRoleDetails();
    const mark = sandbox.sandbox.calls.mark();
    const [ours, theirs] = await Promise.all([read(`${sandbox.url}/sandbox/aws`), read(moto.url)]);
    const strip = (ds: Awaited<ReturnType<typeof read>>) =>
      // Ids (RoleId, InstanceProfileId) are generated by each emulator: present in both, equal in neither.
      ds.map((d) => ({
        ...d,
        role: { ...d.role, createdAt: undefined, id: typeof d.role.id },
        instanceProfiles: d.instanceProfiles.map((p) => ({ ...p, id: typeof p.id })),
      }));
    expect(strip(ours)).toEqual(strip(theirs));
    expect(ours[0]).toMatchObject({
      inlinePolicies: { bucket: JSON.parse(INLINE) },
      role: {
        name: 'app-a',
        path: '/iam-mapping/',
        tags: { team: 'a', 'iam-mapping.anyscale.io/cloud': 'c1' },
        trustPolicy: JSON.parse(TRUST),
        permissionsBoundaryArn: BOUNDARY,
      },
      attachedPolicyArns: ['arn:aws:iam::123456789012:policy/extra'],
      instanceProfiles: [{ name: 'prof-a', roleNames: ['app-a'], tags: { team: 'a' } }],
    });
    expect(sandbox.sandbox.calls.countsByAction({ sinceSeq: mark })).toEqual({ 'iam:GetAccountAuthorizationDetails': 1 });
  });
});
