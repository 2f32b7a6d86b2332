import { describe, expect, it } from 'vitest';
import { mapGoogleError } from '../../adapters/gcp/errors.js';
import { PlanError } from '../../lib/provisioning/errors.js';
import { gcpAccountIdFor, gcpAccountMarks, type GkeItem, type GcpVmItem } from '../../lib/provisioning/gcp-plan.js';
import { editMembers, membersOf } from '../../lib/provisioning/gcp-policy.js';
import { findAnyPlanItem, planItemsFor } from '../../lib/provisioning/plan.js';
import { planFor } from './fixtures.js';

const GCP_DEFAULTS = {
  gcpProject: 'proj-one',
  gkeClusterName: 'gke-1',
  gkeClusterLocation: 'us-central1',
  gcpControlPlaneServiceAccount: 'control-plane@proj-one.iam.gserviceaccount.com',
};
const gke = (values: string[], provisioning?: unknown, cloudId = 'cldrsrc_XXXX') =>
  planFor(values, provisioning, { provider: 'GCP', computeStack: 'K8S', accountId: '', cloudId, defaults: GCP_DEFAULTS });
const vm = (values: string[], provisioning?: unknown) =>
  planFor(values, provisioning, { provider: 'GCP', computeStack: 'VM', accountId: '', defaults: GCP_DEFAULTS });
const ACCOUNT_ID = /^[a-z]([-a-z0-9]*[a-z0-9])$/;

describe('GKE plan items', () => {
  it('a Google account per KSA: deterministic id within 6-30 characters, workloadIdentityUser for exactly its KSA per namespace', () => {
    const p = gke(['kubernetes-service-account-name1', 'a', 'x.y.z', `long-${'n'.repeat(200)}`]);
    const items = p.gcpItems as GkeItem[];
    expect(items).toHaveLength(4);
    for (const item of items) {
      expect(item.account.accountId).toMatch(ACCOUNT_ID);
      expect(item.account.accountId.length).toBeGreaterThanOrEqual(6);
      expect(item.account.accountId.length).toBeLessThanOrEqual(30);
      expect(item.account.email).toBe(`${item.account.accountId}@proj-one.iam.gserviceaccount.com`);
      expect(item.accountBinding).toEqual({
        role: 'roles/iam.workloadIdentityUser',
        members: [`serviceAccount:proj-one.svc.id.goog[anyscale-operator/${item.serviceAccount.name}]`],
      });
      expect(item.bucket).toEqual({ bucket: 'anyscale-default-bucket', roles: ['roles/storage.objectUser'], member: `serviceAccount:${item.account.email}` });
      expect(item.annotations).toEqual({ 'iam.gke.io/gcp-service-account': item.account.email });
      expect(gcpAccountMarks(item.account.description)).toMatchObject({
        'app.kubernetes.io/managed-by': 'iam-mapping-service',
        'iam-mapping.anyscale.io/cloud': 'cldrsrc_XXXX',
      });
    }
    expect(gke(['kubernetes-service-account-name1']).gcpItems).toEqual([items[0]]);
  });

  it('collision-free: the same KSA of two clouds, and two long names with one prefix, get distinct ids', () => {
    expect(gcpAccountIdFor('iamm-', 'cldrsrc_a', 'default')).not.toBe(gcpAccountIdFor('iamm-', 'cldrsrc_b', 'default'));
    const long = (s: string) => `shared-prefix-that-is-long-${s}`;
    expect(gcpAccountIdFor('iamm-', 'c', long('a'))).not.toBe(gcpAccountIdFor('iamm-', 'c', long('b')));
    expect(gcpAccountIdFor('iamm-', 'c', '9lives')).toMatch(ACCOUNT_ID);
  });

  it('settings: workload pool, namespaces, explicit account id, extra roles, adoption', () => {
    const p = gke(['ksa-a'], {
      namespaces: ['ns-1', 'ns-2'],
      default_bucket: 'team-bucket',
      service_accounts: { 'ksa-a': { adopt_service_account: true } },
      gcp: {
        workload_pool: 'other-proj.svc.id.goog',
        accounts: { 'ksa-a': { account_id: 'ml-team-a', adopt_account: true, extra_roles: ['roles/storage.legacyBucketReader'] } },
      },
    });
    const item = p.gcpItems?.[0] as GkeItem;
    expect(item.account.email).toBe('ml-team-a@proj-one.iam.gserviceaccount.com');
    expect(item.accountBinding.members).toEqual(['serviceAccount:other-proj.svc.id.goog[ns-1/ksa-a]', 'serviceAccount:other-proj.svc.id.goog[ns-2/ksa-a]']);
    expect(item.bucket.roles).toEqual(['roles/storage.objectUser', 'roles/storage.legacyBucketReader']);
    expect(item.adopt).toEqual({ account: true, serviceAccount: true });
  });

  it('a deployment without a GCP project: the plan fails naming provisioning.gcp.project (the run is FAILED, not SUCCEEDED)', () => {
    const fail = (stack: 'K8S' | 'VM') => {
      try {
        planFor(['ksa-a@p-roject.iam.gserviceaccount.com'], undefined, { provider: 'GCP', computeStack: stack, accountId: '' });
      } catch (e) {
        return (e as PlanError).details.map((d) => d.path);
      }
      return [];
    };
    expect(fail('K8S')).toEqual(['provisioning.gcp.project']);
    expect(fail('VM')).toEqual(['provisioning.gcp.control_plane_service_account']);
  });

  it('two values with one explicit account id fail the plan naming the field', () => {
    expect(() => gke(['a-one', 'b-two'], { gcp: { accounts: { 'a-one': { account_id: 'same-id' }, 'b-two': { account_id: 'same-id' } } } })).toThrow(PlanError);
  });

  it('refs find their item (gcpItems), with the digest check', () => {
    const p = gke(['ksa-a', 'ksa-b']);
    const refs = planItemsFor(p);
    expect(refs.map((r) => [r.index, r.kind, r.name])).toEqual([
      [0, 'gcp-gke', 'ksa-a'],
      [1, 'gcp-gke', 'ksa-b'],
    ]);
    expect(findAnyPlanItem(p, refs[1]!)).toBe(p.gcpItems?.[1]);
    expect(() => findAnyPlanItem(p, { ...refs[1]!, digest: '0'.repeat(16) })).toThrow(PlanError);
  });
});

describe('GCP VM plan items', () => {
  it("the rule's account gets the bucket and serviceAccountUser for the control plane; create only when asked", () => {
    const item = vm(['sa-one@proj-two.iam.gserviceaccount.com']).gcpItems?.[0] as GcpVmItem;
    expect(item.account).toMatchObject({ email: 'sa-one@proj-two.iam.gserviceaccount.com', project: 'proj-two', create: false });
    expect(item.accountBinding).toEqual({ role: 'roles/iam.serviceAccountUser', members: ['serviceAccount:control-plane@proj-one.iam.gserviceaccount.com'] });
    expect(item.bucket.member).toBe('serviceAccount:sa-one@proj-two.iam.gserviceaccount.com');
    expect((vm(['sa1@xxx.iam.gserviceaccount.com']).gcpItems?.[0] as GcpVmItem).account.project).toBe('-');
    expect(() => vm(['sa1@xxx.iam.gserviceaccount.com'], { gcp: { create_missing_accounts: true } })).toThrow(/create_missing_accounts/);
  });
});

describe('IAM policy edits (read-modify-write)', () => {
  const policy = {
    version: 1,
    etag: 'BwX1',
    bindings: [
      { role: 'roles/iam.workloadIdentityUser', members: ['serviceAccount:p.svc.id.goog[ns/other]'] },
      { role: 'roles/viewer', members: ['user:a@example.com'] },
      { role: 'roles/iam.workloadIdentityUser', members: ['user:c@example.com'], condition: { expression: 'true', title: 't' } },
    ],
  };
  it('adds a member without dropping anyone else; keeps the etag and conditional bindings', () => {
    const next = editMembers(policy, 'roles/iam.workloadIdentityUser', { add: ['serviceAccount:p.svc.id.goog[ns/mine]'] });
    expect(next?.etag).toBe('BwX1');
    expect(membersOf(next, 'roles/iam.workloadIdentityUser')).toEqual(['serviceAccount:p.svc.id.goog[ns/other]', 'serviceAccount:p.svc.id.goog[ns/mine]']);
    expect(next?.bindings.filter((b) => b.condition !== undefined)).toEqual([policy.bindings[2]]);
    expect(next?.version).toBe(3);
    expect(membersOf(next, 'roles/viewer')).toEqual(['user:a@example.com']);
  });
  it('nothing to change → null; removing the last member drops the empty binding only', () => {
    expect(editMembers(policy, 'roles/viewer', { add: ['user:a@example.com'] })).toBeNull();
    const next = editMembers(policy, 'roles/viewer', { remove: ['user:a@example.com'] });
    expect(next?.bindings.map((b) => b.role)).toEqual(['roles/iam.workloadIdentityUser', 'roles/iam.workloadIdentityUser']);
  });
});

describe("Google's errors → the target vocabulary", () => {
  const gaxios = (status: number, reason?: string) =>
    Object.assign(new Error('boom'), { response: { status, data: { error: { code: status, message: 'm', status: reason } } } });
  it('stale etags are conflicts (retried); an existing id is AlreadyExists; quota and 5xx are retried', () => {
    expect(mapGoogleError(gaxios(409, 'ABORTED'), 'x').name).toBe('ConflictError');
    expect(mapGoogleError(gaxios(412), 'x').name).toBe('ConflictError');
    expect(mapGoogleError(gaxios(409, 'ALREADY_EXISTS'), 'x').name).toBe('AlreadyExistsError');
    expect(mapGoogleError(gaxios(429, 'RESOURCE_EXHAUSTED'), 'x').name).toBe('ThrottledError');
    expect(mapGoogleError(gaxios(503, 'UNAVAILABLE'), 'x').name).toBe('TransientError');
    expect(mapGoogleError(gaxios(403, 'PERMISSION_DENIED'), 'x').name).toBe('AccessDeniedError');
    expect(mapGoogleError(gaxios(400, 'INVALID_ARGUMENT'), 'x').name).toBe('InvalidInputError');
    expect(mapGoogleError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'x').name).toBe('TransientError');
  });
});
