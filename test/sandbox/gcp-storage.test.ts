import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, faults, startSandboxServer, type SandboxServer } from '../../local/sandbox/index.js';
import { BUCKET, iamClient, PROJECT, storageClient } from './gcp-helpers.js';

let server: SandboxServer;
let storage: Storage;

beforeAll(async () => {
  server = await startSandboxServer({ port: 0 });
  storage = storageClient(server.url);
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.sandbox.reset();
  server.sandbox.setFaults(undefined);
});

/** The status and Google JSON API error of a failed @google-cloud/storage call. */
async function apiError(promise: Promise<unknown>): Promise<{ code: number; message: string; reasons: string[] }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code?: number; message: string; errors?: Array<{ reason: string }> };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, message: e.message, reasons: (e.errors ?? []).map((x) => x.reason) };
  }
  throw new Error('expected the call to fail');
}

const objectUser = (email: string) => ({ role: 'roles/storage.objectUser', members: [`serviceAccount:${email}`] });

describe('Cloud Storage buckets via @google-cloud/storage', () => {
  it('has the default bucket, with Google’s metadata shape', async () => {
    const [buckets] = await storage.getBuckets();
    expect(buckets.map((b) => b.name)).toEqual([BUCKET]);
    const [meta] = await storage.bucket(BUCKET).getMetadata();
    expect(meta).toMatchObject({
      kind: 'storage#bucket',
      id: BUCKET,
      name: BUCKET,
      metageneration: '1',
      location: 'US',
      storageClass: 'STANDARD',
      etag: 'CAE=',
      iamConfiguration: { uniformBucketLevelAccess: { enabled: true } },
    });
    expect(meta.projectNumber).toMatch(/^\d{12}$/);
    expect((await storage.bucket(BUCKET).exists())[0]).toBe(true);
  });

  it('answers 404 for a bucket it was not configured with (asking does not create it)', async () => {
    expect((await storage.bucket('not-configured-bucket').exists())[0]).toBe(false);
    const e = await apiError(storage.bucket('not-configured-bucket').getMetadata());
    expect(e).toEqual({ code: 404, message: 'The specified bucket does not exist.', reasons: ['notFound'] });
    expect((await apiError(storage.bucket('not-configured-bucket').iam.getPolicy())).code).toBe(404);
    expect(server.sandbox.gcp.bucketNames()).toEqual([BUCKET]);
    const raw = await fetch(`${server.url}/sandbox/gcp/storage/v1/b/not-configured-bucket`);
    expect(await raw.json()).toEqual({
      error: {
        code: 404,
        message: 'The specified bucket does not exist.',
        errors: [{ message: 'The specified bucket does not exist.', domain: 'global', reason: 'notFound' }],
      },
    });
  });

  it('lists a project’s buckets in pages (maxResults, pageToken), needs the project, knows only its projects', async () => {
    const sb = createSandbox({
      gcp: { buckets: ['b-one-bucket', 'b-two-bucket', { name: 'b-three-bucket' }, { name: 'other-bucket', project: 'other-proj' }] },
    });
    const srv = await startSandboxServer({ port: 0, sandbox: sb });
    try {
      const client = storageClient(srv.url);
      const [all] = await client.getBuckets();
      expect(all.map((b) => b.name)).toEqual(['b-one-bucket', 'b-three-bucket', 'b-two-bucket']);
      const [page1, next, raw] = await client.getBuckets({ maxResults: 2, autoPaginate: false });
      expect(page1.map((b) => b.name)).toEqual(['b-one-bucket', 'b-three-bucket']);
      expect((raw as { nextPageToken?: string }).nextPageToken).toBeTruthy();
      const [page2, last] = await client.getBuckets({ ...next, autoPaginate: false });
      expect(page2.map((b) => b.name)).toEqual(['b-two-bucket']);
      expect(last).toBeNull();
      const [prefixed] = await client.getBuckets({ prefix: 'b-t' });
      expect(prefixed.map((b) => b.name)).toEqual(['b-three-bucket', 'b-two-bucket']);
      const [other] = await storageClient(srv.url).getBuckets({ project: 'other-proj' } as never);
      expect(other.map((b) => b.name)).toEqual(['other-bucket']);

      const noProject = await fetch(`${srv.url}/sandbox/gcp/storage/v1/b`);
      expect(noProject.status).toBe(400);
      expect(((await noProject.json()) as { error: { errors: Array<{ reason: string }> } }).error.errors[0]?.reason).toBe('required');
      const unknown = await fetch(`${srv.url}/sandbox/gcp/storage/v1/b?project=nope-project`);
      expect(unknown.status).toBe(400);
    } finally {
      await srv.close();
    }
  });
});

describe('bucket IAM via bucket.iam.getPolicy / setPolicy', () => {
  it('starts with the project’s legacy bindings; a write with the current etag bumps it (CAE= → CAI=)', async () => {
    const bucket = storage.bucket(BUCKET);
    const [policy] = await bucket.iam.getPolicy();
    expect(policy).toMatchObject({ kind: 'storage#policy', resourceId: `projects/_/buckets/${BUCKET}`, version: 1, etag: 'CAE=' });
    expect(policy.bindings).toEqual([
      { role: 'roles/storage.legacyBucketOwner', members: [`projectEditor:${PROJECT}`, `projectOwner:${PROJECT}`] },
      { role: 'roles/storage.legacyBucketReader', members: [`projectViewer:${PROJECT}`] },
      { role: 'roles/storage.legacyObjectOwner', members: [`projectEditor:${PROJECT}`, `projectOwner:${PROJECT}`] },
      { role: 'roles/storage.legacyObjectReader', members: [`projectViewer:${PROJECT}`] },
    ]);

    const sa = `anyscale-control-plane@${PROJECT}.iam.gserviceaccount.com`;
    const [written] = await bucket.iam.setPolicy({ ...policy, bindings: [...policy.bindings, objectUser(sa)] });
    expect(written.etag).toBe('CAI=');
    expect(written.bindings.find((b) => b.role === 'roles/storage.objectUser')).toEqual(objectUser(sa));
    const [read] = await bucket.iam.getPolicy();
    expect(read).toEqual(written);
    expect((await bucket.getMetadata())[0]).toMatchObject({ metageneration: '2', etag: 'CAI=' });
  });

  it('answers 412 conditionNotMet to a write carrying a stale etag; a write without an etag overwrites', async () => {
    const bucket = storage.bucket(BUCKET);
    const [stale] = await bucket.iam.getPolicy();
    const sa = `anyscale-control-plane@${PROJECT}.iam.gserviceaccount.com`;
    await bucket.iam.setPolicy({ ...stale, bindings: [...stale.bindings, objectUser(sa)] });
    const e = await apiError(
      bucket.iam.setPolicy({ ...stale, bindings: [...stale.bindings, { role: 'roles/storage.objectViewer', members: ['user:a@example.com'] }] }),
    );
    expect(e).toEqual({ code: 412, message: 'At least one of the pre-conditions you specified did not hold.', reasons: ['conditionNotMet'] });
    const [now] = await bucket.iam.getPolicy();
    expect(now.bindings.some((b) => b.role === 'roles/storage.objectUser')).toBe(true);

    const [blind] = await bucket.iam.setPolicy({ bindings: [{ role: 'roles/storage.objectViewer', members: ['user:a@example.com'] }] });
    expect(blind.bindings).toEqual([{ role: 'roles/storage.objectViewer', members: ['user:a@example.com'] }]);
  });

  it('takes workload-identity members, refuses roles a bucket does not support and malformed members', async () => {
    const bucket = storage.bucket(BUCKET);
    const wi = `serviceAccount:${PROJECT}.svc.id.goog[anyscale-operator/ksa-one]`;
    const [ok] = await bucket.iam.setPolicy({ bindings: [{ role: 'roles/storage.objectUser', members: [wi] }] });
    expect(ok.bindings).toEqual([{ role: 'roles/storage.objectUser', members: [wi] }]);
    for (const [binding, message] of [
      [{ role: 'roles/owner', members: ['user:a@example.com'] }, 'Role roles/owner is not supported for this resource.'],
      [{ role: 'roles/iam.workloadIdentityUser', members: ['user:a@example.com'] }, 'not supported for this resource'],
      [{ role: 'roles/storage.objectUser', members: ['nobody'] }, 'Policy members must be of the form'],
      [{ role: 'roles/storage.objectUser', members: [`serviceAccount:ghost-account@${PROJECT}.iam.gserviceaccount.com`] }, 'does not exist'],
    ] as const) {
      const e = await apiError(bucket.iam.setPolicy({ bindings: [binding] } as never));
      expect(e.code).toBe(400);
      expect(e.reasons).toEqual(['invalid']);
      expect(e.message).toContain(message);
    }
  });

  it('keeps conditional bindings behind requestedPolicyVersion 3', async () => {
    const bucket = storage.bucket(BUCKET);
    const condition = { title: 'prefix', expression: 'resource.name.startsWith("projects/_/buckets/b/objects/x")' };
    await bucket.iam.setPolicy({ version: 3, bindings: [{ role: 'roles/storage.objectViewer', members: ['user:a@example.com'], condition }] });
    const e = await apiError(bucket.iam.getPolicy());
    expect(e.code).toBe(400);
    expect(e.message).toBe('Requested policy version (1) cannot be less than the existing policy version (3).');
    const [v3] = await bucket.iam.getPolicy({ requestedPolicyVersion: 3 });
    expect(v3.bindings).toEqual([{ role: 'roles/storage.objectViewer', members: ['user:a@example.com'], condition }]);
  });

  it('answers testPermissions with the storage permissions asked about', async () => {
    const [granted] = await storage.bucket(BUCKET).iam.testPermissions(['storage.buckets.get', 'storage.buckets.setIamPolicy']);
    expect(granted).toEqual({ 'storage.buckets.get': true, 'storage.buckets.setIamPolicy': true });
  });

  it('turns members of a deleted service account into deleted:serviceAccount:…?uid=…', async () => {
    const iam = iamClient(server.url);
    const { data: sa } = await iam.api.projects.serviceAccounts.create({ name: `projects/${PROJECT}`, requestBody: { accountId: 'bucket-reader' } }, iam.opts);
    const bucket = storage.bucket(BUCKET);
    const [p] = await bucket.iam.getPolicy();
    await bucket.iam.setPolicy({ ...p, bindings: [...p.bindings, objectUser(sa.email!)] });
    await iam.api.projects.serviceAccounts.delete({ name: sa.name! }, iam.opts);
    const [after] = await bucket.iam.getPolicy();
    expect(after.bindings.find((b) => b.role === 'roles/storage.objectUser')?.members).toEqual([`deleted:serviceAccount:${sa.email}?uid=${sa.uniqueId}`]);
  });
});

describe('storage calls in the call log, faults and auth', () => {
  it('logs storage.buckets.* calls with status and mutating flag', async () => {
    const mark = server.sandbox.calls.mark();
    const bucket = storage.bucket(BUCKET);
    const [p] = await bucket.iam.getPolicy();
    await bucket.iam.setPolicy(p);
    await apiError(bucket.iam.setPolicy(p));
    await storage.bucket('missing-bucket').exists();
    expect(server.sandbox.calls.since(mark).map((c) => [c.service, c.action, c.status, c.mutating, c.errorCode])).toEqual([
      ['gcp', 'storage.buckets.getIamPolicy', 200, false, undefined],
      ['gcp', 'storage.buckets.setIamPolicy', 200, true, undefined],
      ['gcp', 'storage.buckets.setIamPolicy', 412, true, 'conditionNotMet'],
      ['gcp', 'storage.buckets.get', 404, false, 'notFound'],
    ]);
  });

  it('renders injected faults in the JSON API’s error shape', async () => {
    server.sandbox.setFaults(faults.serverError({ service: 'gcp', action: 'storage.buckets.getIamPolicy' }, 1));
    const e = await apiError(storage.bucket(BUCKET).iam.getPolicy());
    expect(e).toEqual({ code: 503, message: 'The service is currently unavailable.', reasons: ['backendError'] });
    server.sandbox.setFaults(faults.throttle({ service: 'gcp' }, 1));
    expect((await apiError(storage.bucket(BUCKET).getMetadata())).reasons).toEqual(['rateLimitExceeded']);
  });

  it('works with an auth client sending a Bearer token, and refuses another scheme', async () => {
    const authed = storageClient(server.url, true);
    const [policy] = await authed.bucket(BUCKET).iam.getPolicy();
    expect(policy.etag).toBe('CAE=');
    const res = await fetch(`${server.url}/sandbox/gcp/storage/v1/b/${BUCKET}/iam`, { headers: { authorization: 'Basic eDp4' } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { errors: Array<{ reason: string }> } }).error.errors[0]?.reason).toBe('authError');
  });
});
