import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxServer, type SandboxServer } from '../../local/sandbox/index.js';
import { awsCliEnv } from '../helpers/cli-env.js';
import { irsaTrust, onPath } from './helpers.js';

const run = promisify(execFile);
const hasAws = onPath('aws');

let server: SandboxServer;
let dir: string;
let providerArn: string;

/** Runs the AWS CLI (v1) against the sandbox with dummy credentials and no user config. */
async function aws(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = awsCliEnv(dir);
  try {
    const { stdout, stderr } = await run('aws', ['--endpoint-url', `${server.url}/sandbox/aws`, '--output', 'json', ...args], { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  server = await startSandboxServer({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'sandbox-aws-cli-'));
  providerArn = server.sandbox.eks.oidcProviderArn('sandbox') as string;
  server.sandbox.iam.createRole({ roleName: 'cli-role', assumeRolePolicyDocument: irsaTrust(providerArn) });
});
afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasAws)('AWS CLI v1 against the sandbox', () => {
  it('iam get-role prints the decoded trust policy', async () => {
    const { code, stdout } = await aws('iam', 'get-role', '--role-name', 'cli-role');
    expect(code).toBe(0);
    const role = JSON.parse(stdout).Role;
    expect(role.Arn).toBe('arn:aws:iam::123456789012:role/cli-role');
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal.Federated).toBe(providerArn);
  });

  it('iam update-assume-role-policy --policy-document file://…', async () => {
    const file = join(dir, 'trust.json');
    writeFileSync(file, JSON.stringify(JSON.parse(irsaTrust(providerArn, 'system:serviceaccount:default:cli')), null, 2));
    const { code } = await aws('iam', 'update-assume-role-policy', '--role-name', 'cli-role', '--policy-document', `file://${file}`);
    expect(code).toBe(0);
    expect(JSON.stringify(server.sandbox.iam.trustPolicy('cli-role'))).toContain('system:serviceaccount:default:cli');
    expect(server.sandbox.calls.count({ action: 'UpdateAssumeRolePolicy', mutating: true })).toBe(1);
  });

  it('reports IAM errors the way the CLI expects', async () => {
    const missing = await aws('iam', 'get-role', '--role-name', 'nope');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('(NoSuchEntity)');

    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"Version":"2012-10-17"');
    const malformed = await aws('iam', 'update-assume-role-policy', '--role-name', 'cli-role', '--policy-document', `file://${file}`);
    expect(malformed.stderr).toContain('(MalformedPolicyDocument)');
  });

  it('lists roles and OIDC providers, describes the cluster, and answers sts get-caller-identity', async () => {
    expect(JSON.parse((await aws('iam', 'list-roles')).stdout).Roles.map((r: { RoleName: string }) => r.RoleName)).toEqual(['cli-role']);
    expect(JSON.parse((await aws('iam', 'list-open-id-connect-providers')).stdout).OpenIDConnectProviderList).toEqual([{ Arn: providerArn }]);
    const cluster = JSON.parse((await aws('eks', 'describe-cluster', '--name', 'sandbox')).stdout).cluster;
    expect(cluster.identity.oidc.issuer).toMatch(/^https:\/\/oidc\.eks\.us-east-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
    expect(JSON.parse((await aws('sts', 'get-caller-identity')).stdout).Account).toBe('123456789012');
  });
});
