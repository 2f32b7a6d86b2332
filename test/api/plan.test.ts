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

type Change = { action: string; kind: string; name: string; diff?: string; reason?: string; deferred?: boolean; namespace?: string; item?: string };
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
    expect(trust.diff).toMatch(/^ {2}\{\n  {3}"Action"/);
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

  it('a name another cloud holds is left alone naming that cloud, never a change', async () => {
    const draft = SEED_EXAMPLES.eks.replace(`value: ${SA2}`, 'value: ml-team-c');
    const wanted = (await plan(draft)).json.changes.find((c: Change) => c.kind === 'iam-role' && c.action === 'create') as Change;
    expect(wanted.name).toMatch(/-ml-team-c$/);
    const other = 'cldrsrc_other';
    const theirs = `${SEED_EXAMPLES.eks.replace(/cldrsrc_XXXX/g, other).replace(`value: ${SA2}`, 'value: theirs')}provisioning:
  service_accounts:
    theirs:
      role_name: ${wanted.name}
`;
    const put = await h.api('PUT', `/v1/clouds/${other}/iam-mapping`, { body: theirs });
    expect(put.status, put.text).toBe(200);
    await h.server.workflow.idle();
    const res = await plan(draft);
    expect((res.json.changes as Change[]).filter((c) => c.item === 'ml-team-c')).toEqual([]);
    expect(res.json.left_alone).toContainEqual(
      expect.objectContaining({ kind: 'iam-role', name: wanted.name, item: 'ml-team-c', reason: expect.stringContaining(`already wanted by cloud ${other}`) }),
    );
  });

  it('AWS/VM: instance profiles with their roles, then nothing, then the role put back into a tampered profile', async () => {
    const vm = 'cldrsrc_vm';
    const body = SEED_EXAMPLES.awsVm.replace(/cldrsrc_XXXX/g, vm);
    const first = await plan(body, vm);
    expect(first.status, first.text).toBe(200);
    expect(brief(first.json.changes)).toEqual([
      expect.stringMatching(/^create iam-role iam-mapping-\S+-role-name1_[0-9a-f]+$/),
      expect.stringMatching(/^create permission-policy /),
      'create instance-profile role_name1',
      expect.stringMatching(/^create iam-role iam-mapping-\S+-role-name2_[0-9a-f]+$/),
      expect.stringMatching(/^create permission-policy /),
      'create instance-profile role_name2',
    ]);
    expect(first.json.changes[0].diff).toContain('"Service": "ec2.amazonaws.com"');
    expect((await h.api('PUT', `/v1/clouds/${vm}/iam-mapping`, { body })).status).toBe(200);
    await h.server.workflow.idle();
    expect((await plan(body, vm)).json.changes).toEqual([]);
    const roleName = (first.json.changes[0] as Change).name;
    h.server.sandbox!.iam.removeRoleFromInstanceProfile('role_name1', roleName);
    const res = await plan(body, vm);
    expect(res.json.changes).toEqual([{ action: 'update', kind: 'instance-profile', name: 'role_name1', item: 'role_name1', diff: `+ role: ${roleName}` }]);
  });

  it('GCP/GKE: the Google accounts, their workloadIdentityUser bindings, the bucket grants and the KSAs; then nothing; a lost member is an update', async () => {
    const gke = 'cldrsrc_gkeplan';
    const body = `${SEED_EXAMPLES.gke.replace(/cldrsrc_XXXX/g, gke)}provisioning:\n  namespaces: [gke-plan]\n`;
    h.server.sandbox!.gke.createNamespace('gke-plan');
    const first = await plan(body, gke);
    expect(first.json.reason).toBeUndefined();
    expect(first.status, first.text).toBe(200);
    const kinds = brief(first.json.changes);
    for (const kind of ['gcp-service-account', 'gcp-iam-binding', 'gcs-bucket-binding', 'service-account'])
      expect(kinds.filter((k) => k.startsWith(`create ${kind} `)).length, kind).toBe(2);
    const binding = (first.json.changes as Change[]).find((c) => c.kind === 'gcp-iam-binding')!;
    expect(binding.diff).toMatch(/^\+ serviceAccount:[a-z0-9-]+\.svc\.id\.goog\[gke-plan\/kubernetes-service-account-name[12]\]$/);
    expect((await h.api('PUT', `/v1/clouds/${gke}/iam-mapping`, { body })).status).toBe(200);
    await h.server.workflow.idle();
    expect((await h.api('GET', `/v1/clouds/${gke}/iam-mapping/provisioning`, { role: 'viewer' })).json.status).toBe('SUCCEEDED');
    const again = await plan(body, gke);
    expect(again.json.changes).toEqual([]);
    // Someone removes the workloadIdentityUser member of one account: the plan puts it back.
    const sandbox = h.server.sandbox!;
    const email = binding.name.split('/')[0]!;
    const project = email.split('@')[1]!.split('.')[0]!;
    sandbox.gcp.setServiceAccountPolicy(project, email, { policy: { version: 1, bindings: [] } });
    const third = await plan(body, gke);
    expect(brief(third.json.changes)).toEqual([`update gcp-iam-binding ${email}`]);
    expect(third.json.changes[0].diff).toBe(binding.diff);
  });

  it('EKS Pod Identity: an association per (cluster, namespace, ServiceAccount) and no role annotation', async () => {
    const pid = 'cldrsrc_pidplan';
    const body = `${SEED_EXAMPLES.eks.replace(/cldrsrc_XXXX/g, pid)}provisioning:\n  mechanism: pod-identity\n  namespaces: [pid-plan]\n`;
    h.server.sandbox!.k8s.createNamespace('pid-plan');
    const res = await plan(body, pid);
    expect(res.status, res.text).toBe(200);
    const assoc = (res.json.changes as Change[]).filter((c) => c.kind === 'pod-identity-association');
    expect(assoc.map((c) => `${c.action} ${c.name}`)).toEqual([`create pid-plan/${SA1}`, `create pid-plan/${SA2}`]);
    const sa = (res.json.changes as Change[]).find((c) => c.kind === 'service-account')!;
    expect(sa.diff ?? '').not.toContain(ROLE_ARN_ANNOTATION);
    expect((await h.api('PUT', `/v1/clouds/${pid}/iam-mapping`, { body })).status).toBe(200);
    await h.server.workflow.idle();
    expect((await h.api('GET', `/v1/clouds/${pid}/iam-mapping/provisioning`, { role: 'viewer' })).json.status).toBe('SUCCEEDED');
    expect((await plan(body, pid)).json.changes).toEqual([]);
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

/**
 * The plan says what the run would do: an item the run refuses because another cloud owns what it
 * names is `left_alone` only — naming the owning cloud, with the run's own message, no create or
 * update of it and no adoption advice — and the run then refuses it before any write.
 */
describe('plan and run agree on what another cloud owns', () => {
  const A = 'cldrsrc_owna'; // AWS/K8S, owns ServiceAccount shared-sa
  const B = 'cldrsrc_ownb'; // AWS/K8S
  const G = 'cldrsrc_owng'; // GCP/K8S, owns g-sa and its Google account
  const G2 = 'cldrsrc_owng2'; // GCP/K8S on the same GKE cluster, owns shared-gke
  const V = 'cldrsrcgcp_ownv'; // GCP/VM
  const eksOf = (cloud: string, v1: string, v2: string) =>
    SEED_EXAMPLES.eks
      .replace(/cldrsrc_XXXX/g, cloud)
      .replace(`value: ${SA1}`, `value: ${v1}`)
      .replace(`value: ${SA2}`, `value: ${v2}`);
  const gkeOf = (cloud: string, v1: string, v2: string) =>
    SEED_EXAMPLES.gke
      .replace(/cldrsrc_XXXX/g, cloud)
      .replace(`value: ${SA1}`, `value: ${v1}`)
      .replace(`value: ${SA2}`, `value: ${v2}`);
  type Item = { name: string; status: string; error?: { name: string; message: string } };
  const runOf = async (cloud: string, body: string) => {
    const put = await h.api('PUT', `/v1/clouds/${cloud}/iam-mapping`, { body });
    expect(put.status, put.text).toBe(200);
    await h.server.workflow.idle();
    return (await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/provisioning`, { role: 'viewer' })).json as {
      status: string;
      items: Item[];
      resources: Array<{ kind: string; name: string; action: string }>;
    };
  };
  /** The plan's only word on `item`: one left-alone entry naming `owner`, no change, no adoption advice. */
  const refusedInPlan = async (cloud: string, body: string, item: string, owner: string) => {
    const res = await plan(body, cloud);
    expect(res.status, res.text).toBe(200);
    expect((res.json.changes as Change[]).filter((c) => c.item === item)).toEqual([]);
    const entries = (res.json.left_alone as Array<{ item?: string; reason: string }>).filter((l) => l.item === item);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.reason).toContain(`cloud ${owner}`);
    expect(entries[0]!.reason).not.toMatch(/adopt_|to adopt|take it over/);
    return entries[0]!.reason;
  };

  it('AWS/K8S: another cloud’s ServiceAccount — no role or policy planned; the run refuses it with the same message before any write', async () => {
    expect((await runOf(A, eksOf(A, 'shared-sa', 'a-only'))).status).toBe('SUCCEEDED');
    const draft = eksOf(B, 'shared-sa', 'b-only');
    const reason = await refusedInPlan(B, draft, 'shared-sa', A);
    const run = await runOf(B, draft);
    const item = run.items.find((i) => i.name === 'shared-sa')!;
    expect(item).toMatchObject({ status: 'FAILED', error: { name: 'OwnershipConflict' } });
    expect(run.resources.filter((r) => r.name.endsWith('shared-sa') && r.action !== 'failed')).toEqual([]);
    expect(reason).toContain(item.error!.message);
    expect(run.items.find((i) => i.name === 'b-only')!.status).toBe('SUCCEEDED');
    expect(h.server.sandbox!.iam.listRoles().filter((r) => r.roleName.endsWith('-shared-sa'))).toHaveLength(1); // A's only
  });

  it('GCP/K8S: another cloud’s ServiceAccount — no Google account, binding or bucket grant planned, nor an update when adopting', async () => {
    // Another GCP cloud on the same GKE cluster holds shared-gke.
    expect((await runOf(G2, gkeOf(G2, 'shared-gke', 'g2-only'))).status).toBe('SUCCEEDED');
    const draft = gkeOf(G, 'shared-gke', 'g-sa');
    const reason = await refusedInPlan(G, draft, 'shared-gke', G2);
    await refusedInPlan(G, `${draft}provisioning:\n  service_accounts:\n    shared-gke:\n      adopt_service_account: true\n`, 'shared-gke', G2);
    const run = await runOf(G, draft);
    const item = run.items.find((i) => i.name === 'shared-gke')!;
    expect(item).toMatchObject({ status: 'FAILED', error: { name: 'OwnershipConflict' } });
    expect(reason).toContain(item.error!.message);
    expect(run.items.find((i) => i.name === 'g-sa')!.status).toBe('SUCCEEDED');
    // The EKS cluster is another cluster: an AWS cloud naming g-sa there takes nothing of G's.
    const other = eksOf(B, 'g-sa', 'b-only');
    const planned = await plan(other, B);
    expect((planned.json.left_alone as Array<{ item?: string }>).filter((l) => l.item === 'g-sa')).toEqual([]);
    expect((planned.json.changes as Change[]).some((c) => c.item === 'g-sa')).toBe(true);
    const again = await runOf(B, other);
    expect(again.items.find((i) => i.name === 'g-sa')!.status).toBe('SUCCEEDED');
  });

  it("GCP/VM: another cloud's Google account as a rule value — no binding planned; the advice is the rule's value", async () => {
    const gRun = (await h.api('GET', `/v1/clouds/${G}/iam-mapping/provisioning`, { role: 'viewer' })).json as {
      resources: Array<{ kind: string; name: string; action: string }>;
    };
    const email = gRun.resources.find((r) => r.kind === 'gcp-service-account' && r.action === 'created')!.name;
    const own = 'v-own@anyscale-sandbox.iam.gserviceaccount.com';
    h.server.sandbox!.gcp.addServiceAccount({ email: own });
    const draft = SEED_EXAMPLES.gcpVm
      .replace(/cldrsrcgcp_\w+/g, V)
      .replace('sa1@xxx.iam.gserviceaccount.com', email)
      .replace('sa2@xxx.iam.gserviceaccount.com', own);
    const reason = await refusedInPlan(V, draft, email, G);
    expect(reason).toContain("change the rule's value");
    const run = await runOf(V, draft);
    const item = run.items.find((i) => i.name === email)!;
    expect(item).toMatchObject({ status: 'FAILED', error: { name: 'NotOwnedError' } });
    expect(reason).toContain(item.error!.message);
    expect(run.resources.filter((r) => r.name === email && r.action !== 'left-alone' && r.action !== 'failed')).toEqual([]);
    expect(run.items.find((i) => i.name === own)!.status).toBe('SUCCEEDED');
  });
});
