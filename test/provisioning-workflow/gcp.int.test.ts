/**
 * Google Cloud provisioning end to end under the local server (issue 14): seed 001's GKE and GCP VM
 * examples provision into the sandbox's Google Cloud, and the result is read back through the
 * sandbox's REST API with Google's own clients (@googleapis/iam, @google-cloud/storage): only the
 * intended KSA is a workloadIdentityUser, every account has object read/write on the default
 * bucket, the control plane may attach the VM accounts. Members someone else added are never
 * dropped; a stale etag is re-read; drift finds a widened binding (critical) and repairs what the
 * service owns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemResult, ResourceResult } from '../../lib/ports.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';
import { BUCKET, iamClient, PROJECT, storageClient, type IamClient } from '../sandbox/gcp-helpers.js';
import type { Storage } from '@google-cloud/storage';

const WI = 'roles/iam.workloadIdentityUser';
const OBJECT_USER = 'roles/storage.objectUser';
const SA_USER = 'roles/iam.serviceAccountUser';
const NS = 'anyscale-operator';
const CONTROL_PLANE = `anyscale-control-plane@${PROJECT}.iam.gserviceaccount.com`;
const wiMember = (ns: string, ksa: string) => `serviceAccount:${PROJECT}.svc.id.goog[${ns}/${ksa}]`;

let h: Harness;
let iam: IamClient;
let storage: Storage;

beforeAll(async () => {
  h = await startHarness({ driftIntervalSeconds: 0 });
  iam = iamClient(h.server.url);
  storage = storageClient(h.server.url);
});
afterAll(async () => {
  await h?.stop();
});

interface Run {
  status: string;
  items: ItemResult[];
  resources: ResourceResult[];
}

async function putAndWait(cloud: string, body: string): Promise<Run> {
  const res = await h.api('PUT', `/v1/clouds/${cloud}/iam-mapping`, { body });
  expect(res.status, res.text).toBe(200);
  await h.server.workflow.idle();
  return (await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/provisioning`)).json as Run;
}

const accountPolicy = async (email: string) =>
  (await iam.api.projects.serviceAccounts.getIamPolicy({ resource: `projects/${PROJECT}/serviceAccounts/${email}` }, iam.opts)).data;
const membersOf = (policy: { bindings?: Array<{ role?: string | null; members?: string[] | null }> | null }, role: string) =>
  (policy.bindings ?? []).filter((b) => b.role === role).flatMap((b) => b.members ?? []);
const bucketPolicy = async () => (await storage.bucket(BUCKET).iam.getPolicy({ requestedPolicyVersion: 3 }))[0];
const k8sServiceAccount = async (ns: string, name: string) =>
  (await (await fetch(`${h.server.url}/sandbox/gke/api/v1/namespaces/${ns}/serviceaccounts/${name}`)).json()) as {
    metadata: { annotations?: Record<string, string>; labels?: Record<string, string>; resourceVersion: string };
  };
const emailOf = (run: Run, ksa: string): string => {
  const sa = run.resources.find((r) => r.kind === 'service-account' && r.name === ksa);
  return (sa?.detail ?? '').replace('iam.gke.io/gcp-service-account: ', '');
};

/** Adds `member` to `role` on an account's policy from outside the service (an operator with gcloud). */
async function addAccountMember(email: string, role: string, member: string): Promise<void> {
  const policy = await accountPolicy(email);
  const bindings = [...(policy.bindings ?? [])];
  const b = bindings.find((x) => x.role === role);
  if (b) b.members = [...(b.members ?? []), member];
  else bindings.push({ role, members: [member] });
  await iam.api.projects.serviceAccounts.setIamPolicy(
    { resource: `projects/${PROJECT}/serviceAccounts/${email}`, requestBody: { policy: { ...policy, bindings } } },
    iam.opts,
  );
}

describe('GKE (seed 001 example, verbatim)', () => {
  const cloud = 'cldrsrc_XXXX';
  let run: Run;
  let email1: string;
  let email2: string;

  beforeAll(async () => {
    run = await putAndWait(cloud, SEED_EXAMPLES.gke);
    email1 = emailOf(run, 'kubernetes-service-account-name1');
    email2 = emailOf(run, 'kubernetes-service-account-name2');
  });

  it('provisions: a Google service account per KSA, its binding, the bucket grant and the annotated KSA', () => {
    expect(run.status).toBe('SUCCEEDED');
    expect(run.items.map((i) => [i.name, i.kind, i.status])).toEqual([
      ['kubernetes-service-account-name1', 'gcp-gke', 'SUCCEEDED'],
      ['kubernetes-service-account-name2', 'gcp-gke', 'SUCCEEDED'],
    ]);
    const kinds = run.resources.map((r) => `${r.kind} ${r.action}`);
    expect(kinds.filter((k) => k.startsWith('gcp-service-account'))).toEqual(['gcp-service-account created', 'gcp-service-account created']);
    expect(run.resources.filter((r) => r.kind === 'gcs-bucket-binding').map((r) => r.name)).toEqual([BUCKET, BUCKET]);
    expect(run.resources.filter((r) => r.kind === 'gcp-iam-binding')).toHaveLength(2);
    for (const email of [email1, email2]) {
      const id = email.split('@')[0]!;
      expect(id).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])$/);
      expect(id.length).toBeGreaterThanOrEqual(6);
      expect(id.length).toBeLessThanOrEqual(30);
      expect(email.endsWith(`@${PROJECT}.iam.gserviceaccount.com`)).toBe(true);
    }
    expect(email1).not.toBe(email2);
  });

  it("Google's clients read back: only the intended KSA is a workloadIdentityUser of each account", async () => {
    expect(membersOf(await accountPolicy(email1), WI)).toEqual([wiMember(NS, 'kubernetes-service-account-name1')]);
    expect(membersOf(await accountPolicy(email2), WI)).toEqual([wiMember(NS, 'kubernetes-service-account-name2')]);
    const account = (await iam.api.projects.serviceAccounts.get({ name: `projects/${PROJECT}/serviceAccounts/${email1}` }, iam.opts)).data;
    expect(account.description).toContain(`iam-mapping.anyscale.io/cloud=${cloud}`);
    expect(account.description).toContain('app.kubernetes.io/managed-by=iam-mapping-service');
  });

  it('every account has object read/write on the default bucket; the KSAs are annotated with their account', async () => {
    const objectUsers = membersOf(await bucketPolicy(), OBJECT_USER);
    expect(objectUsers).toEqual(expect.arrayContaining([`serviceAccount:${email1}`, `serviceAccount:${email2}`]));
    const ksa = await k8sServiceAccount(NS, 'kubernetes-service-account-name1');
    expect(ksa.metadata.annotations?.['iam.gke.io/gcp-service-account']).toBe(email1);
    expect(ksa.metadata.labels?.['iam-mapping.anyscale.io/cloud']).toBe(cloud);
  });

  it('a member someone else added is never dropped: a re-run keeps it and reports it (left-alone)', async () => {
    const foreign = wiMember('default', 'someone-else');
    await addAccountMember(email1, WI, foreign);
    const bucket = await bucketPolicy();
    bucket.bindings.push({ role: 'roles/storage.objectViewer', members: ['user:auditor@example.com'] });
    await storage.bucket(BUCKET).iam.setPolicy(bucket);
    // A second namespace for the first KSA: the binding must gain exactly that member.
    h.server.sandbox!.gke.createNamespace('team-b');
    const v2 = `${SEED_EXAMPLES.gke}\nprovisioning:\n  service_accounts:\n    kubernetes-service-account-name1:\n      namespaces: [${NS}, team-b]\n`;
    const again = await putAndWait(cloud, v2);
    expect(again.status).toBe('SUCCEEDED');
    expect(membersOf(await accountPolicy(email1), WI).sort()).toEqual(
      [wiMember(NS, 'kubernetes-service-account-name1'), wiMember('team-b', 'kubernetes-service-account-name1'), foreign].sort(),
    );
    const leftAlone = again.resources.find((r) => r.kind === 'gcp-iam-binding' && r.action === 'left-alone');
    expect(leftAlone?.detail).toContain(foreign);
    expect(membersOf(await bucketPolicy(), 'roles/storage.objectViewer')).toEqual(['user:auditor@example.com']);
    // Back to one namespace: the member the service added is removed, the foreign one stays.
    const v3 = await putAndWait(cloud, `${SEED_EXAMPLES.gke}\nprovisioning:\n  drift: { mode: report }\n`);
    expect(v3.status).toBe('SUCCEEDED');
    expect(membersOf(await accountPolicy(email1), WI).sort()).toEqual([wiMember(NS, 'kubernetes-service-account-name1'), foreign].sort());
  });

  it('drift: the widened workloadIdentityUser is a critical finding the service does not "repair" away', async () => {
    const report = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`)).json;
    expect(report.drifted).toBe(true);
    const widened = report.findings.find((f: { kind: string }) => f.kind === 'gcp-workload-identity-widened');
    expect(widened).toMatchObject({ severity: 'critical', name: email1, repairable: false, resource: 'gcp-iam-binding' });
    expect(widened.actual).toContain(wiMember('default', 'someone-else'));
    // The remedy names the member found, ready to run.
    expect(widened.message).toContain(`remove-iam-policy-binding ${email1} --role=${WI} --member=${wiMember('default', 'someone-else')}`);
    expect(widened.message).not.toContain('<member>');
  });

  it('drift: bucket access removed and annotation changed are found and repaired within ownership', async () => {
    const bucket = await bucketPolicy();
    bucket.bindings = bucket.bindings.map((b) => (b.role === OBJECT_USER ? { ...b, members: b.members.filter((m) => m !== `serviceAccount:${email2}`) } : b));
    await storage.bucket(BUCKET).iam.setPolicy(bucket);
    const sa = await k8sServiceAccount(NS, 'kubernetes-service-account-name2');
    const patched = await fetch(`${h.server.url}/sandbox/gke/api/v1/namespaces/${NS}/serviceaccounts/kubernetes-service-account-name2`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { resourceVersion: sa.metadata.resourceVersion, annotations: { 'iam.gke.io/gcp-service-account': email1 } } }),
    });
    expect(patched.status).toBe(200);
    const report = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`, { body: { repair: true } })).json;
    const kinds = report.findings.map((f: { kind: string; severity: string }) => `${f.kind} ${f.severity}`).sort();
    // The KSA left in team-b when v3 dropped that namespace is this cloud's orphan there (deleted only with delete_orphans).
    expect(kinds).toEqual([
      'gcp-annotation-changed high',
      'gcp-bucket-access-removed high',
      'gcp-workload-identity-widened critical',
      'orphan-service-account low',
    ]);
    expect(report.findings.find((f: { kind: string }) => f.kind === 'orphan-service-account')).toMatchObject({
      name: 'team-b/kubernetes-service-account-name1',
      namespace: 'team-b',
      cluster: 'sandbox-gke',
      repairable: false,
    });
    expect(report.repair.items).toEqual(['kubernetes-service-account-name2']);
    await h.server.workflow.idle();
    expect(membersOf(await bucketPolicy(), OBJECT_USER)).toContain(`serviceAccount:${email2}`);
    expect((await k8sServiceAccount(NS, 'kubernetes-service-account-name2')).metadata.annotations?.['iam.gke.io/gcp-service-account']).toBe(email2);
    const after = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`)).json;
    expect(after.findings.map((f: { kind: string }) => f.kind).sort()).toEqual(['gcp-workload-identity-widened', 'orphan-service-account']);
  });

  it('a stale etag (someone wrote the policy between read and write: 409 ABORTED) is re-read and re-applied', async () => {
    const other = 'cldrsrc_etag';
    const sandbox = h.server.sandbox!;
    let raced = false;
    // Only the account of etag-ksa-1 (the two items run at once; the assertions read that account).
    sandbox.setFaults((call) => {
      if (!raced && call.service === 'gcp' && call.action === 'iam.serviceAccounts.setIamPolicy' && call.params.email?.startsWith('iamm-etag-ksa-1-')) {
        raced = true;
        // Another writer changes the account's policy first: the service's write now carries a stale etag.
        const id = call.params.email;
        const current = sandbox.gcp.getServiceAccountPolicy(PROJECT, id);
        sandbox.gcp.setServiceAccountPolicy(PROJECT, id, {
          policy: { etag: current.etag, bindings: [...current.bindings, { role: SA_USER, members: ['user:racer@example.com'] }] },
        });
      }
      return undefined;
    });
    try {
      const r = await putAndWait(other, SEED_EXAMPLES.gke.replace('cldrsrc_XXXX', other).replaceAll('kubernetes-service-account-name', 'etag-ksa-'));
      expect(r.status).toBe('SUCCEEDED');
      expect(raced).toBe(true);
      const email = emailOf(r, 'etag-ksa-1');
      const policy = await accountPolicy(email);
      expect(membersOf(policy, WI)).toEqual([wiMember(NS, 'etag-ksa-1')]);
      expect(membersOf(policy, SA_USER)).toEqual(['user:racer@example.com']);
      const conflicts = sandbox.calls.filter({ service: 'gcp', action: 'iam.serviceAccounts.setIamPolicy', failed: true }).filter((c) => c.status === 409);
      expect(conflicts.length).toBeGreaterThanOrEqual(1);
    } finally {
      sandbox.setFaults(undefined);
    }
  });
});

describe('GCP orphans: a Google account and a GKE ServiceAccount the config no longer names', () => {
  const cloud = 'cldrsrc_orph';
  const v1 = SEED_EXAMPLES.gke.replace('cldrsrc_XXXX', cloud).replaceAll('kubernetes-service-account-name', 'orph-ksa-');
  const v2 = v1.replace('    - selector: workload-type in (job, service),user=user2@example.com\n      value: orph-ksa-2\n', '');
  let kept: string;
  let orphan: string;
  const getAccount = (email: string) =>
    iam.api.projects.serviceAccounts.get({ name: `projects/-/serviceAccounts/${email}` }, iam.opts).then(
      (r) => r.data,
      (e: { code?: number; status?: number }) => {
        if ((e.code ?? e.status) === 404) return null;
        throw e;
      },
    );
  const createAccount = async (accountId: string, description: string) =>
    (
      await iam.api.projects.serviceAccounts.create(
        { name: `projects/${PROJECT}`, requestBody: { accountId, serviceAccount: { displayName: accountId, description } } },
        iam.opts,
      )
    ).data.email!;
  const orphansOf = (report: { findings: Array<{ kind: string; name: string }> }) =>
    report.findings.filter((f) => f.kind === 'gcp-account-orphan').map((f) => f.name);

  beforeAll(async () => {
    expect(v2).not.toBe(v1);
    const first = await putAndWait(cloud, v1);
    expect(first.status).toBe('SUCCEEDED');
    kept = emailOf(first, 'orph-ksa-1');
    orphan = emailOf(first, 'orph-ksa-2');
    expect((await putAndWait(cloud, v2)).status).toBe('SUCCEEDED');
  });

  it("drift reports the dropped rule's account and KSA (low), not a hand-made account nor another cloud's", async () => {
    await createAccount('handmade-orph', 'made by hand');
    const report = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`)).json;
    expect(report.findings.filter((f: { kind: string }) => f.kind === 'orphan-service-account')).toEqual([
      expect.objectContaining({ name: `${NS}/orph-ksa-2`, cluster: 'sandbox-gke', severity: 'low', repairable: false }),
    ]);
    const found = report.findings.filter((f: { kind: string }) => f.kind === 'gcp-account-orphan');
    expect(found).toEqual([
      expect.objectContaining({ kind: 'gcp-account-orphan', severity: 'low', name: orphan, resource: 'gcp-service-account', repairable: false }),
    ]);
    expect(found[0].message).toContain('orph-ksa-2');
    expect(found[0].message).toContain('delete_orphans: true');
    // The other clouds of this file share the project: none of their accounts is this cloud's orphan.
    expect(orphansOf((await h.api('POST', '/v1/clouds/cldrsrc_XXXX/drift-checks')).json)).toEqual([]);
  });

  it('a project whose accounts cannot be listed: the rest of the check stands, and the report says orphans there are not looked for', async () => {
    const sandbox = h.server.sandbox!;
    sandbox.setFaults((call) =>
      call.service === 'gcp' && call.action === 'iam.serviceAccounts.list' ? { status: 403, code: 'PERMISSION_DENIED', message: 'list denied' } : undefined,
    );
    try {
      const res = await h.api('POST', `/v1/clouds/${cloud}/drift-checks`);
      expect(res.status).toBe(200);
      expect(orphansOf(res.json)).toEqual([]);
      expect(res.json.reason).toContain(`the Google service accounts of ${PROJECT}`);
      expect(res.json.reason).toContain('orphans there are not reported');
    } finally {
      sandbox.setFaults(undefined);
    }
  });

  it('the plan of a draft shows it as a delete, deferred until delete_orphans', async () => {
    const plan = (await h.api('POST', `/v1/clouds/${cloud}/iam-mapping/plan`, { body: v2 })).json;
    const deletes = plan.changes.filter((c: { action: string }) => c.action === 'delete');
    expect(deletes.sort((a: { kind: string }, b: { kind: string }) => a.kind.localeCompare(b.kind))).toEqual([
      expect.objectContaining({ kind: 'gcp-service-account', name: orphan, deferred: true, reason: expect.stringContaining('delete_orphans: true') }),
      expect.objectContaining({ kind: 'service-account', name: `${NS}/orph-ksa-2`, cluster: 'sandbox-gke', namespace: NS, deferred: true }),
    ]);
  });

  it('an account with copied marks is reported but never deleted; a repair with delete_orphans removes the real orphan and its bucket grant', async () => {
    // Someone copies this cloud's ownership marks onto an account of their own: the inventory does not agree.
    const marks = (await getAccount(kept))!.description!;
    const copied = await createAccount('copied-marks-orph', marks);
    expect((await putAndWait(cloud, `${v2}provisioning:\n  drift: { mode: report, delete_orphans: true }\n`)).status).toBe('SUCCEEDED');
    expect(membersOf(await bucketPolicy(), OBJECT_USER)).toContain(`serviceAccount:${orphan}`);

    const report = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`, { body: { repair: true } })).json;
    expect(orphansOf(report).sort()).toEqual([copied, orphan].sort());
    // The dropped rule's KSA goes too (an orphan ServiceAccount in the GKE cluster), then its Google account.
    expect(report.repair.deleted).toEqual([`service-account sandbox-gke:${NS}/orph-ksa-2`, `gcp-service-account ${orphan}`]);
    expect((await fetch(`${h.server.url}/sandbox/gke/api/v1/namespaces/${NS}/serviceaccounts/orph-ksa-2`)).status).toBe(404);
    expect((await k8sServiceAccount(NS, 'orph-ksa-1')).metadata.labels?.['iam-mapping.anyscale.io/cloud']).toBe(cloud);
    expect(report.repair.errors).toEqual([expect.stringContaining(`gcp-service-account ${copied} not deleted`)]);

    expect(await getAccount(orphan)).toBeNull();
    expect(await getAccount(copied)).not.toBeNull();
    expect(await getAccount(kept)).not.toBeNull();
    const objectUsers = membersOf(await bucketPolicy(), OBJECT_USER);
    expect(objectUsers.filter((m) => m.includes(orphan))).toEqual([]); // removed, not left as deleted:serviceAccount:…
    expect(objectUsers).toContain(`serviceAccount:${kept}`);

    const after = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`)).json;
    expect(orphansOf(after)).toEqual([copied]);
  });
});

describe('GCP → AWS: the Google identities of the old stack stay orphans of the cloud until removed', () => {
  const cloud = 'cldrsrc_move';
  const gke = SEED_EXAMPLES.gke.replace('cldrsrc_XXXX', cloud).replaceAll('kubernetes-service-account-name', 'move-ksa-');
  const eks = SEED_EXAMPLES.eks.replace('cldrsrc_XXXX', cloud).replaceAll('kubernetes-service-account-name', 'move-eks-');
  const ksas = [`${NS}/move-ksa-1`, `${NS}/move-ksa-2`];
  let accounts: string[];
  /** The GKE cluster the GCP version provisioned its ServiceAccounts in. */
  let gkeCluster: string;
  const orphansOf = (report: { findings: Array<{ kind: string; name: string }> }) =>
    report.findings
      .filter((f) => f.kind === 'gcp-account-orphan')
      .map((f) => f.name)
      .sort();
  // (The sandbox's GKE and EKS clusters are one Kubernetes API, so the old KSAs also show as
  // orphans of the EKS cluster; on real clusters they are apart. Those of the GKE cluster are the point.)
  const gkeOrphansOf = (report: { findings: Array<{ kind: string; name: string; cluster?: string }> }) =>
    report.findings
      .filter((f) => f.kind === 'orphan-service-account' && f.cluster === gkeCluster)
      .map((f) => f.name)
      .sort();

  beforeAll(async () => {
    const first = await putAndWait(cloud, gke);
    expect(first.status).toBe('SUCCEEDED');
    accounts = [emailOf(first, 'move-ksa-1'), emailOf(first, 'move-ksa-2')].sort();
    expect(accounts.every((a) => a.endsWith('.iam.gserviceaccount.com'))).toBe(true);
    gkeCluster = first.resources.find((r) => r.kind === 'service-account')?.cluster ?? '';
    expect(gkeCluster).not.toBe('');
    const res = await h.api('PUT', `/v1/clouds/${cloud}/iam-mapping?confirm_stack_change=true`, { body: eks });
    expect(res.status, res.text).toBe(200);
    await h.server.workflow.idle();
    const run = (await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/provisioning`)).json as Run & { lingering?: ResourceResult[] };
    expect(run.status).toBe('SUCCEEDED');
    // The run names what the old stack left: the Google accounts among them.
    expect(
      (run.lingering ?? [])
        .filter((r) => r.kind === 'gcp-service-account')
        .map((r) => r.name)
        .sort(),
    ).toEqual(accounts);
    // …and its GKE ServiceAccounts, checked in their cluster through Google (not "could not be checked").
    const lingeringKsas = (run.lingering ?? []).filter((r) => r.kind === 'service-account' && r.cluster === gkeCluster);
    expect(lingeringKsas.map((r) => `${r.namespace}/${r.name}`).sort()).toEqual(ksas);
    expect(lingeringKsas.every((r) => !(r.detail ?? '').includes('could not be checked'))).toBe(true);
  });

  it("drift of the AWS version reports the old version's Google accounts and GKE ServiceAccounts (low), found through the cloud's claims", async () => {
    const report = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`)).json;
    expect(report.status).toBe('drifted');
    expect(orphansOf(report)).toEqual(accounts);
    const found = report.findings.find((f: { kind: string }) => f.kind === 'gcp-account-orphan');
    expect(found).toEqual(expect.objectContaining({ severity: 'low', resource: 'gcp-service-account', repairable: false }));
    expect(found.message).toContain('delete_orphans: true');
    expect(gkeOrphansOf(report)).toEqual(ksas);
    const ksa = report.findings.find((f: { kind: string; cluster?: string }) => f.kind === 'orphan-service-account' && f.cluster === gkeCluster);
    expect(ksa).toEqual(expect.objectContaining({ severity: 'low', resource: 'service-account', namespace: NS, repairable: false }));
    expect(ksa.message).toContain(`GKE cluster ${gkeCluster}`);
  });

  it('the plan of the AWS draft lists them as deletes, deferred until delete_orphans', async () => {
    const plan = (await h.api('POST', `/v1/clouds/${cloud}/iam-mapping/plan`, { body: eks })).json;
    const deletes = plan.changes.filter((c: { action: string; kind: string }) => c.action === 'delete' && c.kind === 'gcp-service-account');
    expect(deletes.map((c: { name: string }) => c.name).sort()).toEqual(accounts);
    expect(deletes.every((c: { deferred?: boolean }) => c.deferred === true)).toBe(true);
    const ksaDeletes = plan.changes.filter(
      (c: { action: string; kind: string; cluster?: string }) => c.action === 'delete' && c.kind === 'service-account' && c.cluster === gkeCluster,
    );
    expect(ksaDeletes.map((c: { name: string }) => c.name).sort()).toEqual(ksas);
    expect(ksaDeletes.every((c: { deferred?: boolean }) => c.deferred === true)).toBe(true);
  });

  it('a repair with delete_orphans deletes them with their grants on the old default bucket; the next check is clean of them', async () => {
    expect(membersOf(await bucketPolicy(), OBJECT_USER)).toEqual(expect.arrayContaining(accounts.map((a) => `serviceAccount:${a}`)));
    expect((await putAndWait(cloud, `${eks}provisioning:\n  drift: { mode: report, delete_orphans: true }\n`)).status).toBe('SUCCEEDED');
    const report = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`, { body: { repair: true } })).json;
    // The sandbox's GKE and EKS clusters are two Kubernetes APIs, as real clusters are: nothing is refused.
    expect(report.repair.errors).toEqual([]);
    expect(report.repair.deleted).toEqual(expect.arrayContaining(accounts.map((a) => `gcp-service-account ${a}`)));
    for (const a of accounts) {
      const res = await iam.api.projects.serviceAccounts.get({ name: `projects/-/serviceAccounts/${a}` }, iam.opts).then(
        () => 200,
        (e: { code?: number; status?: number }) => e.code ?? e.status,
      );
      expect(res).toBe(404);
    }
    const objectUsers = membersOf(await bucketPolicy(), OBJECT_USER);
    expect(objectUsers.filter((m) => accounts.some((a) => m.includes(a)))).toEqual([]);
    // The GKE ServiceAccounts went through the GKE cluster (inventory and labels agree there).
    expect(report.repair.deleted).toEqual(expect.arrayContaining(ksas.map((k) => `service-account ${gkeCluster}:${k}`)));
    for (const k of ksas) expect((await fetch(`${h.server.url}/sandbox/gke/api/v1/namespaces/${k.replace('/', '/serviceaccounts/')}`)).status).toBe(404);
    const after = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`)).json;
    expect(orphansOf(after)).toEqual([]);
    expect(gkeOrphansOf(after)).toEqual([]);
  });
});

describe('GCP VM (seed 001 example, verbatim)', () => {
  const cloud = 'cldrsrcgcp_i93p4pp6k8fe1hca7kggbjvdyu';
  const sa1 = 'sa1@xxx.iam.gserviceaccount.com';
  const sa2 = 'sa2@xxx.iam.gserviceaccount.com';

  it('an account that does not exist fails its item, naming it (nothing reported as SUCCEEDED)', async () => {
    const run = await putAndWait(cloud, SEED_EXAMPLES.gcpVm);
    expect(run.status).toBe('FAILED');
    expect(run.items.map((i) => i.status)).toEqual(['FAILED', 'FAILED']);
    expect(run.items[0]?.error?.message).toContain(`${sa1} does not exist`);
    expect(run.items[0]?.error?.message).toContain('create_missing_accounts');
  });

  it('with the accounts in place: bucket access for each, and the control plane may attach them (serviceAccountUser)', async () => {
    for (const email of [sa1, sa2]) h.server.sandbox!.gcp.addServiceAccount({ email });
    const run = await putAndWait(cloud, `${SEED_EXAMPLES.gcpVm}\nprovisioning:\n  drift: { mode: report }\n`);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.resources.filter((r) => r.kind === 'gcs-bucket-binding').map((r) => [r.name, r.detail])).toEqual([
      [BUCKET, `${OBJECT_USER} for serviceAccount:${sa1}`],
      [BUCKET, `${OBJECT_USER} for serviceAccount:${sa2}`],
    ]);
    for (const email of [sa1, sa2]) {
      const policy = (await iam.api.projects.serviceAccounts.getIamPolicy({ resource: `projects/-/serviceAccounts/${email}` }, iam.opts)).data;
      expect(membersOf(policy, SA_USER)).toEqual([`serviceAccount:${CONTROL_PLANE}`]);
    }
    expect(membersOf(await bucketPolicy(), OBJECT_USER)).toEqual(expect.arrayContaining([`serviceAccount:${sa1}`, `serviceAccount:${sa2}`]));
    const report = (await h.api('POST', `/v1/clouds/${cloud}/drift-checks`)).json;
    expect(report).toMatchObject({ status: 'clean', findings: [] });
  });
});

describe('GCP provisioning settings: clear 400s naming the field', () => {
  const put = (cloud: string, doc: string) => h.api('PUT', `/v1/clouds/${cloud}/iam-mapping`, { body: doc });
  const gke = (provisioning: string) => `${SEED_EXAMPLES.gke.replace('cldrsrc_XXXX', 'cldrsrc_bad')}\nprovisioning:\n${provisioning}\n`;
  const paths = (res: { json: { error: { details: Array<{ path: string }> } } }) => res.json.error.details.map((d) => d.path);

  it('AWS-only fields, unknown gcp fields, bad ids and roles outside the allow-list', async () => {
    const res = await put(
      'cldrsrc_bad',
      gke(
        [
          '  clusters: [{ name: eks-1 }]',
          '  role_path: /iam-mapping/x/',
          '  gcp:',
          '    project: Bad_Project',
          '    colour: blue',
          '    accounts:',
          '      kubernetes-service-account-name1: { account_id: ab, extra_roles: [roles/owner] }',
        ].join('\n'),
      ),
    );
    expect(res.status, res.text).toBe(400);
    expect(paths(res)).toEqual(
      expect.arrayContaining([
        'provisioning.clusters',
        'provisioning.gcp.project',
        'provisioning.gcp.colour',
        'provisioning.gcp.accounts.kubernetes-service-account-name1.account_id',
        'provisioning.gcp.accounts.kubernetes-service-account-name1.extra_roles[0]',
      ]),
    );
  });

  it('provisioning.gcp on an AWS cloud is refused', async () => {
    const res = await put('cldrsrc_awsgcp', `${SEED_EXAMPLES.eks.replace('cldrsrc_XXXX', 'cldrsrc_awsgcp')}\nprovisioning:\n  gcp: { project: my-project }\n`);
    expect(res.status).toBe(400);
    expect(paths(res)).toEqual(['provisioning.gcp']);
  });
});
