/**
 * What a drift check covers beyond the plan's own resources: each cluster's IAM OIDC provider
 * (deleted with the AWS CLI → a critical finding naming the cluster and the ARN), and everything a
 * cloud owns whatever its current stack — after K8S → VM the old roles and ServiceAccounts, after
 * VM → K8S the old instance profile and its role, are orphans, removed with delete_orphans.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { roleNameFor } from '../../lib/provisioning/naming.js';
import { awsCliEnv, onPath } from '../helpers/cli-env.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

const run = promisify(execFile);
const NS = 'anyscale-operator';
const kindsOf = (report: any): string[] => report.findings.map((f: any) => `${f.kind} ${f.name}`).sort();

let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await startHarness({ driftIntervalSeconds: 0 });
  dir = mkdtempSync(join(tmpdir(), 'drift-coverage-'));
});
afterAll(async () => {
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function check(cloud: string) {
  const res = await h.api('POST', `/v1/clouds/${cloud}/drift-checks`, { body: {}, contentType: 'application/json' });
  expect(res.status, res.text).toBe(200);
  return res.json;
}

/** Stores a version and provisions it (the workflow, as a PUT would start it). */
async function provision(cloud: string, yaml: string): Promise<number> {
  const document = parse(yaml.replaceAll('cldrsrc_XXXX', cloud));
  const meta = await h.server.deps.configs.putVersion({
    cloudId: cloud,
    document,
    createdBy: 'test@example.com',
    ruleCount: document.dataplane_iam_mapping.rules.length,
  });
  await h.server.deps.runs.createRun(cloud, meta.version);
  await h.server.workflow.start({ cloudId: cloud, version: meta.version });
  await h.server.workflow.idle();
  const status = await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/provisioning`);
  expect(status.json.status, status.text).toBe('SUCCEEDED');
  return meta.version;
}

describe('OIDC provider of each cluster', () => {
  it('a deleted provider is a critical finding naming the cluster and the ARN; back again → clean', async () => {
    const cloud = 'cldrsrc_oidc';
    await provision(cloud, SEED_EXAMPLES.eks.replace('kubernetes-service-account-name1', 'oidc-a').replace('kubernetes-service-account-name2', 'oidc-b'));
    expect((await check(cloud)).drifted).toBe(false);
    const sandbox = h.server.sandbox!;
    const arn = sandbox.eks.oidcProviderArn('sandbox')!;
    const provider = sandbox.iam.getOpenIdConnectProvider(arn);
    if (onPath('aws')) {
      await run('aws', ['--endpoint-url', `${h.server.url}/sandbox/aws`, 'iam', 'delete-open-id-connect-provider', '--open-id-connect-provider-arn', arn], {
        env: awsCliEnv(dir),
        timeout: 30_000,
      });
    } else {
      sandbox.iam.deleteOpenIdConnectProvider(arn);
    }
    const report = await check(cloud);
    expect(kindsOf(report)).toEqual(['oidc-provider-missing sandbox']);
    expect(report.findings[0]).toMatchObject({
      severity: 'critical',
      cluster: 'sandbox',
      expected: arn,
      actual: 'missing',
      resource: 'oidc-provider',
      repairable: false,
    });
    expect(report.findings[0].message).toContain(`cluster sandbox (${arn}) no longer exists`);
    sandbox.iam.createOpenIdConnectProvider({ url: `https://${provider.url}`, clientIds: provider.clientIds, thumbprints: provider.thumbprints });
    expect((await check(cloud)).drifted).toBe(false);
  });
});

describe('everything a cloud owns, whatever its current stack', () => {
  const cloud = 'cldrsrc_restack';
  const eks = SEED_EXAMPLES.eks.replace('kubernetes-service-account-name1', 'restack-a').replace('kubernetes-service-account-name2', 'restack-b');
  const vm = SEED_EXAMPLES.awsVm.replace('role_name1', 'restack-prof').replace('role_name2', 'restack-prof');
  const withDrift = (yaml: string, drift: string) => `${yaml}provisioning: { drift: ${drift} }\n`;
  const role = (sa: string) => roleNameFor('iam-mapping-', cloud, sa);

  it('K8S → VM: the old roles and ServiceAccounts are orphans, deleted only with delete_orphans', async () => {
    const sandbox = h.server.sandbox!;
    await provision(cloud, eks);
    await provision(cloud, vm);
    const report = await check(cloud);
    expect(kindsOf(report)).toEqual([
      `orphan-role ${role('restack-a')}`,
      `orphan-role ${role('restack-b')}`,
      `orphan-service-account ${NS}/restack-a`,
      `orphan-service-account ${NS}/restack-b`,
    ]);
    expect(sandbox.k8s.serviceAccount(NS, 'restack-a')).toBeDefined();

    await provision(cloud, withDrift(vm, '{ mode: repair, delete_orphans: true }'));
    const cleanup = await check(cloud);
    expect(cleanup.repair.deleted.sort()).toEqual([
      `iam-role ${role('restack-a')}`,
      `iam-role ${role('restack-b')}`,
      `service-account sandbox:${NS}/restack-a`,
      `service-account sandbox:${NS}/restack-b`,
    ]);
    expect(sandbox.iam.findRole(role('restack-a'))).toBeUndefined();
    expect(sandbox.k8s.serviceAccount(NS, 'restack-b')).toBeUndefined();
    expect(sandbox.iam.getInstanceProfile('restack-prof').roleNames).toHaveLength(1);
    expect((await check(cloud)).drifted).toBe(false);
  });

  it('VM → K8S: the old instance profile and its role are orphans; delete_orphans removes both', async () => {
    const sandbox = h.server.sandbox!;
    const vmRole = sandbox.iam.getInstanceProfile('restack-prof').roleNames[0]!;
    await provision(cloud, eks);
    const report = await check(cloud);
    expect(kindsOf(report)).toEqual([`orphan-instance-profile restack-prof`, `orphan-role ${vmRole}`]);
    expect(report.findings.find((f: any) => f.kind === 'orphan-instance-profile').message).toContain('AWS/K8S');

    await provision(cloud, withDrift(eks, '{ mode: repair, delete_orphans: true }'));
    const cleanup = await check(cloud);
    expect(cleanup.repair).toMatchObject({ errors: [] });
    expect(cleanup.repair.deleted.sort()).toEqual([`iam-role ${vmRole}`, 'instance-profile restack-prof']);
    expect(() => sandbox.iam.getInstanceProfile('restack-prof')).toThrow(/cannot be found/);
    expect(sandbox.iam.findRole(vmRole)).toBeUndefined();
    expect(sandbox.iam.findRole(role('restack-a'))).toBeDefined();
    expect((await check(cloud)).drifted).toBe(false);
  });

  it('AWS → GCP: the AWS roles and ServiceAccounts are orphans of the GCP cloud; none left → nothing to compare', async () => {
    const gcpCloud = 'cldrsrc_togcp';
    const sandbox = h.server.sandbox!;
    await provision(gcpCloud, eks.replaceAll('restack-', 'togcp-'));
    await provision(gcpCloud, SEED_EXAMPLES.gke);
    const report = await check(gcpCloud);
    const gcpRole = (sa: string) => roleNameFor('iam-mapping-', gcpCloud, sa);
    expect(kindsOf(report)).toEqual([
      `orphan-role ${gcpRole('togcp-a')}`,
      `orphan-role ${gcpRole('togcp-b')}`,
      `orphan-service-account ${NS}/togcp-a`,
      `orphan-service-account ${NS}/togcp-b`,
    ]);
    expect(report.reason).toMatch(/GCP.*left over/);
    await provision(gcpCloud, withDrift(SEED_EXAMPLES.gke, '{ mode: repair, delete_orphans: true }'));
    expect((await check(gcpCloud)).repair.deleted).toHaveLength(4);
    expect(sandbox.iam.findRole(gcpRole('togcp-a'))).toBeUndefined();
    // Nothing of AWS is left; the GKE identities themselves are compared (issue 14; was nothing-to-compare).
    expect(await check(gcpCloud)).toMatchObject({ status: 'clean', findings: [] });
  });
});
