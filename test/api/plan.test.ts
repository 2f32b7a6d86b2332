/**
 * POST /v1/clouds/{cloud}/iam-mapping/plan: a draft validated and linted as PUT does it, planned
 * against what the sandbox's IAM and Kubernetes hold now — creates, updates (policies as diffs),
 * deletes, what provisioning would leave alone, and the sample launches whose identity changes.
 * Nothing is stored, no run starts, and the sandbox serves no mutating call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE_ARN_ANNOTATION } from '../../lib/provisioning/ownership.js';
import { mintToken, loadOrCreateSecret } from '../../local/auth.js';
import { operator, type Operator } from '../drift/operator.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

const CLOUD = 'cldrsrc_XXXX';
const BASE = `/v1/clouds/${CLOUD}/iam-mapping`;
const NS = 'anyscale-operator';
const SA1 = 'kubernetes-service-account-name1';
const SA2 = 'kubernetes-service-account-name2';

type Change = { action: string; kind: string; name: string; diff?: string; reason?: string; deferred?: boolean; namespace?: string };
const brief = (changes: Change[]) => changes.map((c) => `${c.action} ${c.kind} ${c.name}`);

let h: Harness;
let op: Operator;

beforeAll(async () => {
  h = await startHarness({ driftIntervalSeconds: 0 });
  op = operator(h.server.url, h.server.sandbox!, { useCli: false });
});
afterAll(async () => {
  op?.close();
  await h?.stop();
});

/** Plans `body` and checks that nothing was written anywhere: no version, no run, no mutating target call. */
async function plan(body: string, cloud = CLOUD) {
  const mark = h.server.sandbox!.calls.mark();
  const versionsBefore = await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/versions`, { role: 'viewer' });
  const res = await h.api('POST', `/v1/clouds/${cloud}/iam-mapping/plan`, { body });
  expect(h.server.sandbox!.calls.mutatingCount(mark), 'mutating sandbox calls').toBe(0);
  const versionsAfter = await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/versions`, { role: 'viewer' });
  expect(versionsAfter.json).toEqual(versionsBefore.json);
  return res;
}

describe('plan before apply', () => {
  it('a cloud without a config: everything is a create; no launches compared; nothing stored', async () => {
    const res = await plan(SEED_EXAMPLES.eks);
    expect(res.status).toBe(200);
    expect(res.json.current_version).toBeNull();
    expect(brief(res.json.changes)).toEqual([
      expect.stringMatching(new RegExp(`^create iam-role iam-mapping-.*-${SA1}$`)),
      expect.stringMatching(new RegExp(`^create permission-policy iam-mapping-.*-${SA1}/iam-mapping-default-bucket$`)),
      `create service-account ${NS}/${SA1}`,
      expect.stringMatching(new RegExp(`^create iam-role iam-mapping-.*-${SA2}$`)),
      expect.stringMatching(new RegExp(`^create permission-policy iam-mapping-.*-${SA2}/iam-mapping-default-bucket$`)),
      `create service-account ${NS}/${SA2}`,
    ]);
    expect(res.json.summary).toEqual({ create: 6, update: 0, delete: 0, left_alone: 0 });
    const role = res.json.changes[0] as Change;
    expect(role.diff).toMatch(/^\+ \{\n\+ {3}"Action": "sts:AssumeRoleWithWebIdentity"/);
    expect(role.diff).toContain(`system:serviceaccount:${NS}:${SA1}`);
    expect(res.json.changes[2].diff).toContain(`+ ${ROLE_ARN_ANNOTATION}: arn:aws:iam::`);
    expect(res.json).toMatchObject({ launches: [], launches_checked: 0, warnings: [] });
    expect((await h.api('GET', BASE, { role: 'viewer' })).status).toBe(404);
    expect((await h.api('GET', `${BASE}/provisioning`, { role: 'viewer' })).status).toBe(404);
  });

  it('after provisioning, the same document plans no change', async () => {
    expect((await h.api('PUT', BASE, { body: SEED_EXAMPLES.eks })).status).toBe(200);
    await h.server.workflow.idle();
    expect((await h.api('GET', `${BASE}/provisioning`, { role: 'viewer' })).json.status).toBe('SUCCEEDED');
    const res = await plan(SEED_EXAMPLES.eks);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ current_version: 1, changes: [], left_alone: [], launches: [], summary: { create: 0, update: 0, delete: 0 } });
    expect(res.json.launches_checked).toBe(2);
  });

  it('a changed draft: creates, a trust-policy diff, deferred deletes, left-alone items and the launches that change identity', async () => {
    const draft = `${SEED_EXAMPLES.eks
      .replace('workload-type in (job, service),user=user2@example.com', 'workload-type in (job),user=user2@example.com')
      .replace(`value: ${SA2}`, 'value: ml-team-b')}provisioning:
  service_accounts:
    ${SA1}:
      namespaces: [${NS}, team-a]
`;
    const res = await plan(draft);
    expect(res.status).toBe(200);
    const changes = res.json.changes as Change[];
    expect(brief(changes)).toEqual([
      expect.stringMatching(/^create iam-role iam-mapping-.*-ml-team-b$/),
      expect.stringMatching(/^create permission-policy iam-mapping-.*-ml-team-b\/iam-mapping-default-bucket$/),
      `create service-account ${NS}/ml-team-b`,
      expect.stringMatching(new RegExp(`^update trust-policy iam-mapping-.*-${SA1}$`)),
      expect.stringMatching(new RegExp(`^delete iam-role iam-mapping-.*-${SA2}$`)),
      `delete service-account ${NS}/${SA2}`,
    ]);
    const trust = changes[3]!;
    // The statement as it is now is removed, the one with both namespaces is written.
    expect(trust.diff).toMatch(/^\+ \{/);
    expect(trust.diff).toContain(`+         "system:serviceaccount:team-a:${SA1}"`);
    expect(trust.diff).toContain(`-       "oidc.eks.`);
    for (const d of changes.filter((c) => c.action === 'delete')) {
      expect(d).toMatchObject({ deferred: true, reason: expect.stringContaining('delete_orphans: true') });
    }
    // team-a does not exist in the sandbox cluster: provisioning would fail that ServiceAccount.
    expect(res.json.left_alone).toEqual([
      expect.objectContaining({ kind: 'service-account', name: `team-a/${SA1}`, reason: expect.stringMatching(/namespace team-a does not exist/) }),
    ]);
    expect(res.json.summary).toEqual({ create: 3, update: 1, delete: 2, left_alone: 1 });
    expect(res.json.launches).toEqual([
      expect.objectContaining({
        workload_type: 'job',
        user: 'user2@example.com',
        from: SA2,
        to: 'ml-team-b',
        from_source: 'RULE',
        to_source: 'RULE',
        from_rule: 1,
        to_rule: 1,
        derived_from: 'rule 1 of the draft',
      }),
    ]);
  });

  it('with delete_orphans the deletes are not deferred', async () => {
    const draft = `${SEED_EXAMPLES.eks.replace(`value: ${SA2}`, `value: ${SA1}`)}provisioning:
  drift: { mode: repair, delete_orphans: true }
`;
    const res = await plan(draft);
    const deletes = (res.json.changes as Change[]).filter((c) => c.action === 'delete');
    expect(deletes).toHaveLength(2);
    for (const d of deletes) {
      expect(d.deferred).toBeUndefined();
      expect(d.reason).toMatch(/the next drift repair removes it/);
    }
  });

  it('what exists now counts: a tampered annotation and trust policy are updates, a hand-made ServiceAccount is left alone', async () => {
    const planned = (await plan(SEED_EXAMPLES.eks)).json;
    expect(planned.changes).toEqual([]);
    const role2 = h.server
      .sandbox!.iam.listRoles()
      .map((r) => r.roleName)
      .find((n) => n.endsWith(SA2))!;
    await op.annotate(NS, SA1, ROLE_ARN_ANNOTATION, 'arn:aws:iam::123456789012:role/someone-else');
    const before = await op.getTrust(role2);
    const trust = structuredClone(before);
    delete trust.Statement[0].Condition.StringEquals;
    trust.Statement[0].Condition.StringLike = { [Object.keys(trust.Statement[0].Condition.StringLike ?? {})[0] ?? 'x:sub']: '*' };
    await op.putTrust(role2, trust);
    await op.deleteServiceAccount(NS, SA2);
    h.server.sandbox!.k8s.create('serviceaccounts', NS, {
      metadata: { name: SA2, annotations: { [ROLE_ARN_ANNOTATION]: 'arn:aws:iam::123456789012:role/x' } },
    });

    const res = await plan(SEED_EXAMPLES.eks);
    expect(res.status).toBe(200);
    const sa1 = (res.json.changes as Change[]).find((c) => c.kind === 'service-account' && c.name === `${NS}/${SA1}`);
    expect(sa1).toMatchObject({ action: 'update' });
    expect(sa1!.diff).toContain(`- ${ROLE_ARN_ANNOTATION}: arn:aws:iam::123456789012:role/someone-else`);
    expect(sa1!.diff).toMatch(new RegExp(`\\+ ${ROLE_ARN_ANNOTATION.replace(/\./g, '\\.')}: arn:aws:iam::\\d+:role/iam-mapping/`));
    const trustChange = (res.json.changes as Change[]).find((c) => c.kind === 'trust-policy');
    expect(trustChange).toMatchObject({ action: 'update', name: role2 });
    expect(trustChange!.diff).toContain('+     "StringEquals"');
    expect(trustChange!.diff).toContain('-     "StringLike"');
    expect(res.json.left_alone).toEqual([
      expect.objectContaining({
        kind: 'service-account',
        name: `${NS}/${SA2}`,
        reason: expect.stringMatching(/without the ownership label .*adopt_service_account: true/),
      }),
    ]);
    // Put things back for the next tests.
    await op.deleteServiceAccount(NS, SA2);
    await op.annotate(
      NS,
      SA1,
      ROLE_ARN_ANNOTATION,
      sa1!
        .diff!.split('\n')
        .find((l) => l.startsWith('+'))!
        .split(': ')[1]!,
    );
    await op.putTrust(role2, before);
  });

  it('pinned clusters are sample launches: their kept identity against the draft’s', async () => {
    const launch = { workload_type: 'service', project: 'p', user: 'user2@example.com' };
    expect((await h.api('POST', `${BASE}/resolve`, { role: 'control-plane', body: { ...launch, cluster_id: 'ses_1' } })).json.value).toBe(SA2);
    const draft = SEED_EXAMPLES.eks.replace('workload-type in (job, service),user=user2@example.com', 'workload-type in (job),user=user2@example.com');
    const res = await plan(draft);
    expect(res.json.launches).toContainEqual({
      ...launch,
      from: SA2,
      to: null,
      from_source: 'RULE',
      to_source: 'CLOUD_DEFAULT',
      from_rule: 1,
      to_rule: null,
      derived_from: 'pinned cluster ses_1',
      cluster_id: 'ses_1',
    });
    expect((await h.api('DELETE', `${BASE}/bindings/ses_1`)).status).toBe(204);
  });

  it('validated and linted exactly as PUT: every problem in one 400, lint warnings in `warnings`', async () => {
    const bad = SEED_EXAMPLES.eks.replace('fallback_rule: CLOUD_DEFAULT', 'fallback_rule: NONE').replace('user=user2@example.com', 'user in (a,');
    const planned = await plan(bad);
    const put = await h.api('PUT', BASE, { body: bad });
    expect(planned.status).toBe(400);
    expect(planned.json.error.code).toBe('INVALID_CONFIG');
    expect(planned.json.error.details.length).toBeGreaterThanOrEqual(2);
    expect(planned.json.error).toEqual(put.json.error);

    const shadowed = SEED_EXAMPLES.eks.replace('workload-type in (job, service),user=user2@example.com', 'workload-type in (workspace),user=user1@example.com');
    const res = await plan(shadowed);
    expect(res.status).toBe(200);
    expect(res.json.warnings.map((w: { code: string }) => w.code)).toContain('SHADOWED_RULE');
    expect((await plan(`${SEED_EXAMPLES.eks}provisioning:\n  clusters: [{ name: nowhere }]\n`)).json.error).toMatchObject({
      code: 'INVALID_CONFIG',
      details: [{ path: 'provisioning.clusters[0]', message: expect.stringMatching(/nowhere/) }],
    });
    expect((await plan(SEED_EXAMPLES.eks.replace(`cloud_deployment_id: ${CLOUD}`, 'cloud_deployment_id: cldrsrc_other'))).status).toBe(400);
  });

  it('owner only, in the token’s cloud scope', async () => {
    for (const role of ['viewer', 'control-plane'] as const) {
      expect((await h.api('POST', `${BASE}/plan`, { role, body: SEED_EXAMPLES.eks })).status, role).toBe(403);
    }
    expect((await h.api('POST', `${BASE}/plan`, { role: null, body: SEED_EXAMPLES.eks })).status).toBe(401);
    const scoped = await mintToken(loadOrCreateSecret(h.dataDir), 'owner', 'scoped@example.com', { clouds: ['cldrsrc_other'] });
    expect((await h.api('POST', `${BASE}/plan`, { token: scoped, body: SEED_EXAMPLES.eks })).status).toBe(403);
  });
});
