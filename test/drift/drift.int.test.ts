/**
 * Drift checks over HTTP against the whole local system: provision the seed EKS config into the
 * sandbox, tamper as an operator would (AWS CLI / kubectl when installed), and check that one
 * drift check finds each change with the right kind — and, in mode repair, that the state
 * converges back while what is not ours stays untouched; orphans are deleted only when asked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runScheduledPass } from '../../app/use-cases/drift.js';
import { roleNameFor } from '../../lib/provisioning/naming.js';
import { MANAGED_BY_LABEL, ROLE_ARN_ANNOTATION } from '../../lib/provisioning/ownership.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';
import { operator, type Operator } from './operator.js';

const NS = 'anyscale-operator';
const SA1 = 'kubernetes-service-account-name1';
const SA2 = 'kubernetes-service-account-name2';
const OTHER_ROLE = 'arn:aws:iam::123456789012:role/other';
const FOREIGN = { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'sts:AssumeRole' };

/** The seed EKS config for `cloud` (other clouds use other SA names: the sandbox namespace is shared). */
function eksConfig(cloud: string, extra = '', names = [SA1, SA2]): string {
  return (
    SEED_EXAMPLES.eks
      .replace('cldrsrc_XXXX', cloud)
      .replace(SA1, names[0]!)
      .replace(SA2, names[1] ?? names[0]!) + (extra ? `${extra}\n` : '')
  );
}
const role = (cloud: string, sa: string) => roleNameFor('iam-mapping-', cloud, sa);

async function put(h: Harness, cloud: string, body: string): Promise<void> {
  const res = await h.api('PUT', `/v1/clouds/${cloud}/iam-mapping`, { body });
  expect(res.status, res.text).toBe(200);
  await h.server.workflow.idle();
  const status = await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/provisioning`);
  expect(status.json.status, status.text).toBe('SUCCEEDED');
}

async function check(h: Harness, cloud: string, body?: unknown) {
  const res = await h.api('POST', `/v1/clouds/${cloud}/drift-checks`, body === undefined ? {} : { body, contentType: 'application/json' });
  expect(res.status, res.text).toBe(200);
  return res.json;
}

/** Widen role's sub to any SA in any namespace (StringLike). */
async function widen(op: Operator, roleName: string): Promise<void> {
  const doc = await op.getTrust(roleName);
  const st = doc.Statement[0];
  const subKey = Object.keys(st.Condition.StringEquals).find((k) => k.endsWith(':sub'))!;
  delete st.Condition.StringEquals[subKey];
  st.Condition.StringLike = { [subKey]: 'system:serviceaccount:*:*' };
  await op.putTrust(roleName, doc);
}

/** Drop the aud condition and add a statement trusting another account. */
async function dropAudAddForeign(op: Operator, roleName: string): Promise<void> {
  const doc = await op.getTrust(roleName);
  const st = doc.Statement[0];
  const audKey = Object.keys(st.Condition.StringEquals).find((k) => k.endsWith(':aud'))!;
  delete st.Condition.StringEquals[audKey];
  doc.Statement.push(FOREIGN);
  await op.putTrust(roleName, doc);
}

const kindsOf = (report: any) => report.findings.map((f: any) => `${f.kind} ${f.name}`).sort();

describe('drift checks (mode report)', () => {
  const CLOUD = 'cldrsrc_XXXX';
  let h: Harness;
  let op: Operator;
  beforeAll(async () => {
    h = await startHarness({ driftIntervalSeconds: 0 });
    op = operator(h.server.url, h.server.sandbox!);
  });
  afterAll(async () => {
    op?.close();
    await h?.stop();
  });

  it('404 before any config or report; a clean report after provisioning; authz', async () => {
    expect((await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`)).status).toBe(404);
    await put(h, CLOUD, eksConfig(CLOUD));
    const latest404 = await h.api('GET', `/v1/clouds/${CLOUD}/drift-checks/latest`, { role: 'viewer' });
    expect(latest404.status).toBe(404);
    expect(latest404.json.error.code).toBe('NOT_FOUND');

    expect((await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`, { role: 'viewer' })).status).toBe(403);
    expect((await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`, { role: 'control-plane' })).status).toBe(403);
    expect((await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`, { role: null })).status).toBe(401);
    expect((await h.api('GET', `/v1/clouds/${CLOUD}/drift-checks/latest`, { role: null })).status).toBe(401);

    const report = await check(h, CLOUD);
    expect(report).toMatchObject({ cloud_deployment_id: CLOUD, drifted: false, status: 'clean', config_version: 1, mode: 'report', findings: [] });
    for (const r of ['viewer', 'control-plane', 'owner'] as const) {
      const got = await h.api('GET', `/v1/clouds/${CLOUD}/drift-checks/latest`, { role: r });
      expect(got.status).toBe(200);
      expect(got.json).toMatchObject({ checked_at: report.checked_at, drifted: false, findings: [] });
    }
    const bad = await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`, { body: { repair: 'yes' }, contentType: 'application/json' });
    expect(bad.status).toBe(400);
  });

  it('finds every operator change in one check, with the right kind, reading each thing once', async () => {
    console.log(`tampering via aws: ${op.via.aws}, kubectl: ${op.via.kubectl}`);
    await widen(op, role(CLOUD, SA1));
    await dropAudAddForeign(op, role(CLOUD, SA2));
    await op.annotate(NS, SA1, ROLE_ARN_ANNOTATION, OTHER_ROLE);
    await op.deleteServiceAccount(NS, SA2);

    const mark = h.server.sandbox!.calls.mark();
    const report = await check(h, CLOUD);
    const calls = h.server.sandbox!.calls.countsByAction({ sinceSeq: mark });
    expect(report.drifted).toBe(true);
    expect(kindsOf(report)).toEqual([
      `annotation-mismatch ${NS}/${SA1}`,
      `service-account-missing ${NS}/${SA2}`,
      `trust-policy-aud-removed ${role(CLOUD, SA2)}`,
      `trust-policy-foreign-statement ${role(CLOUD, SA2)}`,
      `trust-policy-widened ${role(CLOUD, SA1)}`,
    ]);
    const widened = report.findings.find((f: any) => f.kind === 'trust-policy-widened');
    expect(widened).toMatchObject({ severity: 'critical', expected: `system:serviceaccount:${NS}:${SA1}`, actual: 'system:serviceaccount:*:*' });
    expect(widened.message).toBe(
      `trust policy of role ${role(CLOUD, SA1)} now allows any service account in any namespace (sub system:serviceaccount:*:*) — was only ${NS}/${SA1}`,
    );
    expect(report.findings.find((f: any) => f.kind === 'annotation-mismatch')).toMatchObject({
      expected: `arn:aws:iam::123456789012:role/iam-mapping/${role(CLOUD, SA1)}`,
      actual: OTHER_ROLE,
    });
    for (const f of report.findings) for (const k of ['kind', 'name', 'expected', 'actual', 'severity', 'message']) expect(f).toHaveProperty(k);
    // Mode report: nothing is changed, and each thing is read once.
    expect(report.repair).toBeUndefined();
    expect(h.server.sandbox!.calls.mutatingCount(mark)).toBe(0);
    // IAM at bulk-read cost: one GetAccountAuthorizationDetails page (roles with policies, tags and
    // instance profiles) and one ListOpenIDConnectProviders — nothing per role.
    expect(Object.entries(calls).filter(([k]) => k.startsWith('iam:'))).toEqual([
      ['iam:GetAccountAuthorizationDetails', 1],
      ['iam:ListOpenIDConnectProviders', 1],
    ]);
    // Kubernetes: one LIST of the planned namespace, one cluster-wide LIST of this cloud's labelled SAs.
    expect(
      Object.entries(calls)
        .filter(([k]) => k.startsWith('k8s:'))
        .map(([k, n]) => [k, n]),
    ).toEqual([['k8s:LIST serviceaccounts', 2]]);
    const lists = h.server.sandbox!.calls.filter({ service: 'k8s', sinceSeq: mark }).map((c) => c.params.namespace ?? '(all)');
    expect(lists.sort()).toEqual(['(all)', NS]);

    const latest = await h.api('GET', `/v1/clouds/${CLOUD}/drift-checks/latest`, { role: 'viewer' });
    expect(latest.json.checked_at).toBe(report.checked_at);
    expect(latest.json.findings).toHaveLength(5);
    const history = await h.api('GET', `/v1/clouds/${CLOUD}/drift-checks?limit=5`, { role: 'viewer' });
    expect(history.json.reports.map((r: any) => r.drifted)).toEqual([true, false]);
  });

  it('a config stored again re-provisions and the next check is clean', async () => {
    await put(h, CLOUD, eksConfig(CLOUD, 'provisioning: { drift: { mode: report } }'));
    const report = await check(h, CLOUD);
    expect(report).toMatchObject({ drifted: false, config_version: 2 });
  });
});

describe('drift checks (mode repair)', () => {
  const CLOUD = 'cldrsrc_repair';
  const A = 'repair-sa-a';
  const B = 'repair-sa-b';
  let h: Harness;
  let op: Operator;
  beforeAll(async () => {
    h = await startHarness({ driftIntervalSeconds: 0 });
    // Through the sandbox's API: the fallback when aws / kubectl are not installed.
    op = operator(h.server.url, h.server.sandbox!, { useCli: false });
  });
  afterAll(async () => {
    op?.close();
    await h?.stop();
  });

  it('repairs what is ours, converges (second check clean), and leaves a hand-made role and SA alone', async () => {
    await put(h, CLOUD, eksConfig(CLOUD, 'provisioning: { drift: { mode: repair } }', [A, B]));
    const sandbox = h.server.sandbox!;
    // Next to ours: a hand-made role under the same path trusting every SA, and a hand-made SA.
    const provider = sandbox.eks.oidcProviderArn('sandbox')!;
    const issuer = provider.split(':oidc-provider/')[1]!;
    const handMadeTrust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: provider },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringLike: { [`${issuer}:sub`]: 'system:serviceaccount:*:*' } },
        },
      ],
    });
    sandbox.iam.createRole({ roleName: 'hand-made', path: '/iam-mapping/', assumeRolePolicyDocument: handMadeTrust });
    sandbox.k8s.create('serviceaccounts', NS, { metadata: { name: 'hand-made-sa', annotations: { [ROLE_ARN_ANNOTATION]: OTHER_ROLE } } });

    await widen(op, role(CLOUD, A));
    await dropAudAddForeign(op, role(CLOUD, B));
    await op.annotate(NS, A, ROLE_ARN_ANNOTATION, OTHER_ROLE);
    await op.deleteServiceAccount(NS, B);

    const mark = sandbox.calls.mark();
    const first = await check(h, CLOUD);
    expect(kindsOf(first)).toEqual([
      `annotation-mismatch ${NS}/${A}`,
      `service-account-missing ${NS}/${B}`,
      `trust-policy-aud-removed ${role(CLOUD, B)}`,
      `trust-policy-foreign-statement ${role(CLOUD, B)}`,
      `trust-policy-widened ${role(CLOUD, A)}`,
    ]);
    expect(first.repair).toMatchObject({ items: [A, B], deleted: [], errors: [] });
    expect(first.repair.execution_id).toBeTruthy();
    await h.server.workflow.idle();

    const second = await check(h, CLOUD);
    expect(second).toMatchObject({ drifted: false, status: 'clean', findings: [] });
    expect(second.repair).toBeUndefined();
    expect(sandbox.iam.getRole('hand-made').assumeRolePolicyDocument).toBe(handMadeTrust);
    expect(sandbox.k8s.serviceAccount(NS, 'hand-made-sa')!.metadata.annotations).toEqual({ [ROLE_ARN_ANNOTATION]: OTHER_ROLE });
    const touched = sandbox.calls
      .filter({ sinceSeq: mark, mutating: true })
      .filter((c) => c.params.RoleName === 'hand-made' || c.params.name === 'hand-made-sa');
    expect(touched).toEqual([]);
    // The repaired trust policy is the planned one again (no wildcard, aud back, no foreign statement).
    expect(JSON.stringify(sandbox.iam.trustPolicy(role(CLOUD, A)))).not.toContain('*');
    expect(JSON.stringify(sandbox.iam.trustPolicy(role(CLOUD, B)))).toContain(':aud');
    expect(JSON.stringify(sandbox.iam.trustPolicy(role(CLOUD, B)))).not.toContain('999999999999');
  });

  it('a service account stripped of its ownership label is reported, never repaired', async () => {
    await op.unlabel(NS, A, MANAGED_BY_LABEL);
    await op.annotate(NS, A, ROLE_ARN_ANNOTATION, OTHER_ROLE);
    const report = await check(h, CLOUD);
    expect(kindsOf(report)).toEqual([`annotation-mismatch ${NS}/${A}`, `ownership-label-removed ${NS}/${A}`]);
    expect(report.findings.every((f: any) => f.repairable === false)).toBe(true);
    expect(report.repair).toMatchObject({ items: [], skipped: 2 });
    await h.server.workflow.idle();
    expect(h.server.sandbox!.k8s.serviceAccount(NS, A)!.metadata.annotations?.[ROLE_ARN_ANNOTATION]).toBe(OTHER_ROLE);
    // {"repair": false} reports without repairing even in mode repair.
    const dry = await check(h, CLOUD, { repair: false });
    expect(dry.repair).toBeUndefined();
  });
});

describe('orphans and the schedule', () => {
  const CLOUD = 'cldrsrc_orphans';
  const A = 'orphan-sa-a';
  const B = 'orphan-sa-b';
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ driftIntervalSeconds: 0 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('after a rule is removed: orphans reported, deleted only with delete_orphans', async () => {
    const sandbox = h.server.sandbox!;
    await put(h, CLOUD, eksConfig(CLOUD, 'provisioning: { drift: { mode: repair } }', [A, B]));
    // Version 2 names only A.
    const onlyA = eksConfig(CLOUD, 'provisioning: { drift: { mode: repair } }', [A, A]);
    await put(h, CLOUD, onlyA);
    const report = await check(h, CLOUD);
    expect(kindsOf(report)).toEqual([`orphan-role ${role(CLOUD, B)}`, `orphan-service-account ${NS}/${B}`]);
    expect(report.repair).toMatchObject({ items: [], deleted: [] });
    for (const f of report.findings)
      expect(f.message).toMatch(/carries this cloud's ownership marks.*it is deleted only with provisioning\.drift\.delete_orphans: true \(mode repair\)$/);
    expect(sandbox.iam.findRole(role(CLOUD, B))).toBeDefined();
    expect(sandbox.k8s.serviceAccount(NS, B)).toBeDefined();

    // With delete_orphans on, a report-only check says what the next repair does (not "only with delete_orphans").
    await put(h, CLOUD, eksConfig(CLOUD, 'provisioning: { drift: { mode: report, delete_orphans: true } }', [A, A]));
    const told = (await h.api('POST', `/v1/clouds/${CLOUD}/drift-checks`)).json;
    expect(told.findings).toHaveLength(2);
    for (const f of told.findings)
      expect(f.message).toMatch(
        /with provisioning\.drift\.delete_orphans: true, a repair \(POST …\/drift-checks \{"repair": true\}\) deletes it, if the ownership inventory agrees/,
      );
    await put(h, CLOUD, eksConfig(CLOUD, 'provisioning: { drift: { mode: repair, delete_orphans: true } }', [A, A]));
    const cleanup = await check(h, CLOUD);
    expect(cleanup.repair.deleted.sort()).toEqual([`iam-role ${role(CLOUD, B)}`, `service-account sandbox:${NS}/${B}`]);
    expect(sandbox.iam.findRole(role(CLOUD, B))).toBeUndefined();
    expect(sandbox.k8s.serviceAccount(NS, B)).toBeUndefined();
    expect(sandbox.iam.findRole(role(CLOUD, A))).toBeDefined();
    expect((await check(h, CLOUD)).drifted).toBe(false);
  });

  it('the scheduled pass checks clouds whose mode is not off and restarts a lost start', async () => {
    const { deps } = h.server;
    // A second cloud with drift off, and a version whose workflow start was lost (committed, never started).
    await put(h, 'cldrsrc_off', eksConfig('cldrsrc_off', 'provisioning: { drift: { mode: off } }', ['off-sa', 'off-sa']));
    const meta = await deps.configs.putVersion({
      cloudId: 'cldrsrc_lost',
      document: parse(eksConfig('cldrsrc_lost', '', ['lost-sa', 'lost-sa'])) as Record<string, unknown>,
      createdBy: 'owner@example.com',
      ruleCount: 2,
    });
    await deps.runs.createRun('cldrsrc_lost', meta.version);

    const early = await runScheduledPass(h.server.app);
    expect(early.skipped.map((s) => s.cloudId).sort()).toEqual(['cldrsrc_lost', 'cldrsrc_off']);
    expect(early.checked.map((c) => c.cloudId)).toEqual([CLOUD]);
    expect(early.checked[0]!.report.trigger).toBe('schedule');

    const later = await runScheduledPass(h.server.app, { now: () => new Date(Date.now() + 6 * 60_000) });
    expect(later.restarted).toMatchObject([{ cloudId: 'cldrsrc_lost', version: 1 }]);
    expect(later.restarted[0]!.executionId).toBeTruthy();
    await h.server.workflow.idle();
    expect((await deps.runs.getRun('cldrsrc_lost', 1))!.status).toBe('SUCCEEDED');
    const after = await runScheduledPass(h.server.app);
    expect(after.checked.map((c) => c.cloudId).sort()).toEqual(['cldrsrc_lost', CLOUD]);
    expect(after.errors).toEqual([]);
  });
});
