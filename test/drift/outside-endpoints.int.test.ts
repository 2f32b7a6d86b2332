/**
 * `npm start` against outside endpoints instead of the embedded ones: IAM, EKS and STS of moto_server
 * through the SDK's own AWS_ENDPOINT_URL_* variables (nothing in the service overrides them), the
 * Kubernetes API of a separate sandbox named by URL (with a trailing slash, which must not become
 * `//api/v1`), and an existing DynamoDB table. Provisioning and drift (bulk read + OIDC provider
 * check) then run against moto. Skipped where moto_server is not installed. Also: a kubeconfig file
 * names the Kubernetes API instead.
 */
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import {
  CreateOpenIDConnectProviderCommand,
  CreatePolicyCommand,
  DeleteOpenIDConnectProviderCommand,
  GetRoleCommand,
  IAMClient,
  paginateListRoles,
} from '@aws-sdk/client-iam';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargets } from '../../adapters/targets.js';
import { startDynalite } from '../../local/dynalite.js';
import { startLocalServer } from '../../local/server.js';
import { startSandboxServer, type SandboxServer } from '../../local/sandbox/index.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';
import { hasMoto, startMoto, type Moto } from '../sandbox/moto.js';

const ENV_KEYS = ['AWS_ENDPOINT_URL_IAM', 'AWS_ENDPOINT_URL_EKS', 'AWS_ENDPOINT_URL_STS', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const CLOUD = 'cldrsrc_outside';

let moto: Moto;
let k8s: SandboxServer;
let dynamo: { endpoint: string; close(): Promise<void> };
let dynamoDir: string;
let h: Harness;
let providerArn: string;
let providerUrl: string;
let boundaryArn: string;

describe.skipIf(!hasMoto)('local server against moto (AWS) and an outside Kubernetes API', () => {
  beforeAll(async () => {
    dynamoDir = mkdtempSync(join(tmpdir(), 'outside-dynamo-'));
    [moto, k8s, dynamo] = await Promise.all([startMoto(), startSandboxServer({ port: 0, clusters: [] }), startDynalite({ dataDir: dynamoDir, port: 0 })]);
    const aws = { region: 'us-east-1', endpoint: moto.url, credentials };
    const cluster = await new EKSClient(aws).send(
      new CreateClusterCommand({ name: 'prod', roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-1'] } }),
    );
    providerUrl = cluster.cluster!.identity!.oidc!.issuer!;
    const created = await new IAMClient(aws).send(
      new CreateOpenIDConnectProviderCommand({
        Url: providerUrl,
        ClientIDList: ['sts.amazonaws.com'],
        ThumbprintList: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'],
      }),
    );
    providerArn = created.OpenIDConnectProviderArn!;
    const boundary = await new IAMClient(aws).send(
      new CreatePolicyCommand({
        PolicyName: 'workload-boundary',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
      }),
    );
    boundaryArn = boundary.Policy!.Arn!;
    for (const k of ['AWS_ENDPOINT_URL_IAM', 'AWS_ENDPOINT_URL_EKS', 'AWS_ENDPOINT_URL_STS'] as const) process.env[k] = moto.url;
    process.env.AWS_ACCESS_KEY_ID = 'x';
    process.env.AWS_SECRET_ACCESS_KEY = 'x';
    h = await startHarness({
      driftIntervalSeconds: 0,
      dynamoEndpoint: dynamo.endpoint,
      tableName: 'iam-mapping-outside',
      targets: { mode: 'aws', region: 'us-east-1', clusterName: 'prod', k8sServer: `${k8s.url}/sandbox/k8s/` },
      defaults: { region: 'us-east-1', clusterName: 'prod', defaultBucket: 'outside-bucket', permissionsBoundaryArn: boundaryArn },
    });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    await Promise.all([moto?.close(), k8s?.close(), dynamo?.close()]);
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    if (dynamoDir) rmSync(dynamoDir, { recursive: true, force: true });
  });

  it('provisions into moto and the outside Kubernetes; drift is clean, then finds the deleted OIDC provider', async () => {
    expect(h.server.sandbox).toBeUndefined();
    const put = await h.api('PUT', `/v1/clouds/${CLOUD}/iam-mapping`, { body: SEED_EXAMPLES.eks.replace('cldrsrc_XXXX', CLOUD) });
    expect(put.status, put.text).toBe(200);
    await h.server.workflow.idle();
    const status = await h.api('GET', `/v1/clouds/${CLOUD}/iam-mapping/provisioning`);
    expect(status.json.status, status.text).toBe('SUCCEEDED');

    const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.url, credentials });
    const roles = [];
    for await (const page of paginateListRoles({ client: iam }, { PathPrefix: '/iam-mapping/' })) roles.push(...(page.Roles ?? []));
    expect(roles).toHaveLength(2);
    const issuerHost = providerUrl.replace('https://', '');
    expect(decodeURIComponent(roles[0]!.AssumeRolePolicyDocument!)).toContain(`${issuerHost}:sub`);
    for (const r of roles) {
      const got = await iam.send(new GetRoleCommand({ RoleName: r.RoleName }));
      expect(got.Role?.PermissionsBoundary?.PermissionsBoundaryArn).toBe(boundaryArn);
    }
    const sa = k8s.sandbox.k8s.serviceAccount('anyscale-operator', 'kubernetes-service-account-name1');
    expect(sa?.metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(/^arn:aws:iam::123456789012:role\/iam-mapping\//);
    // Every Kubernetes call reached a real route (a `//api/v1` path would be a 404).
    const actions = new Set(k8s.sandbox.calls.filter({ service: 'k8s' }).map((c) => c.action));
    for (const action of actions) expect(action).toMatch(/^(GET|LIST|POST|PATCH|DELETE) (serviceaccounts|namespaces)$/);
    expect(k8s.sandbox.calls.count({ service: 'k8s', action: 'POST serviceaccounts' })).toBe(2);

    const clean = await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`);
    expect(clean.status, clean.text).toBe(200);
    expect(clean.json).toMatchObject({ status: 'clean', observed: { roles: 2, clusters: 1 } });

    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn }));
    const drifted = await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`);
    expect(drifted.json.findings.map((f: any) => [f.kind, f.name, f.expected])).toEqual([['oidc-provider-missing', 'prod', providerArn]]);
  });
});

describe('outside AWS endpoints without a permissions boundary', () => {
  it('are refused at start: no role is ever created without the deployment boundary', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'outside-noboundary-'));
    try {
      await expect(
        startLocalServer({
          port: 0,
          dataDir,
          targets: { mode: 'aws', region: 'us-east-1', clusterName: 'prod' },
          defaults: { region: 'us-east-1', clusterName: 'prod' },
        }),
      ).rejects.toThrow(/IAM_MAPPING_TARGETS=aws needs PERMISSIONS_BOUNDARY_ARN/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('Kubernetes named by a kubeconfig file', () => {
  it('uses its current context, a trailing slash in the server URL included', async () => {
    const server = await startSandboxServer({ port: 0, clusters: [] });
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    try {
      server.sandbox.k8s.create('serviceaccounts', 'anyscale-operator', {
        metadata: { name: 'from-kubeconfig', labels: { 'iam-mapping.anyscale.io/cloud': 'c1' } },
      });
      const file = join(dir, 'config');
      writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          `- name: other`,
          `  cluster: { server: "https://unused.example" }`,
          `- name: sandbox`,
          `  cluster: { server: "${server.url}/sandbox/k8s/", insecure-skip-tls-verify: true }`,
          'users:',
          '- name: me',
          '  user: { token: kubeconfig-token }',
          'contexts:',
          '- name: sandbox',
          '  context: { cluster: sandbox, user: me }',
          'current-context: sandbox',
        ].join('\n'),
      );
      const targets = createTargets({ mode: 'aws', region: 'us-east-1', clusterName: 'prod', kubeconfig: file });
      const k8s = targets.kubernetes({ name: 'prod', issuerHost: 'h', oidcProviderArn: 'arn', accountId: '1' });
      expect((await k8s.listServiceAccounts('anyscale-operator')).map((s) => s.name)).toContain('from-kubeconfig');
      expect((await k8s.listServiceAccountsInAllNamespaces!('iam-mapping.anyscale.io/cloud=c1')).map((s) => `${s.namespace}/${s.name}`)).toEqual([
        'anyscale-operator/from-kubeconfig',
      ]);
      expect([...new Set(server.sandbox.calls.filter({ service: 'k8s' }).map((c) => c.action))]).toEqual(['LIST serviceaccounts']);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
