import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, faults, startSandboxServer, type SandboxServer, type SandboxSnapshot } from '../../local/sandbox/index.js';
import { googleError, iamClient, PROJECT, type IamClient } from './gcp-helpers.js';

let server: SandboxServer;
let iam: IamClient;
const parent = `projects/${PROJECT}`;
const emailOf = (id: string, project = PROJECT) => `${id}@${project}.iam.gserviceaccount.com`;

beforeAll(async () => {
  server = await startSandboxServer({ port: 0 });
  iam = iamClient(server.url);
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.sandbox.reset();
  server.sandbox.setFaults(undefined);
});

const create = (accountId: string, serviceAccount: Record<string, unknown> = {}, project = PROJECT) =>
  iam.api.projects.serviceAccounts.create({ name: `projects/${project}`, requestBody: { accountId, serviceAccount } }, iam.opts);

describe('IAM v1 service accounts via @googleapis/iam', () => {
  it('creates an account and reads it back by e-mail, unique id and the `-` project wildcard', async () => {
    const { data: sa, status } = await create('ray-worker-1', { displayName: 'Ray worker', description: 'owned by cldrsrc_1' });
    expect(status).toBe(200);
    expect(sa).toMatchObject({
      name: `${parent}/serviceAccounts/${emailOf('ray-worker-1')}`,
      projectId: PROJECT,
      email: emailOf('ray-worker-1'),
      displayName: 'Ray worker',
      description: 'owned by cldrsrc_1',
      etag: 'MDEwMjE5MjA=',
    });
    expect(sa.uniqueId).toMatch(/^1\d{20}$/);
    expect(sa.oauth2ClientId).toBe(sa.uniqueId);
    expect(sa.disabled).toBeUndefined();

    for (const name of [sa.name!, `projects/-/serviceAccounts/${sa.email}`, `projects/-/serviceAccounts/${sa.uniqueId}`]) {
      const { data } = await iam.api.projects.serviceAccounts.get({ name }, iam.opts);
      expect(data.email).toBe(sa.email);
    }
  });

  it('enforces the account-id rule: 6–30 characters, ^[a-z]([-a-z0-9]*[a-z0-9])$', async () => {
    for (const ok of ['abcdef', 'a'.repeat(30), 'a-1-b-2']) expect((await create(ok)).status).toBe(200);
    for (const bad of ['abcde', 'a'.repeat(31), 'Upper-case', 'ends-with-', '1starts', 'has_underscore', 'dots.not.ok']) {
      const { status, error } = await googleError(create(bad));
      expect(status, bad).toBe(400);
      expect(error.status).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain(`'account_id': '${bad}'`);
      expect(error.details).toEqual([expect.objectContaining({ fieldViolations: [expect.objectContaining({ field: 'account_id' })] })]);
    }
    const missing = await googleError(iam.api.projects.serviceAccounts.create({ name: parent, requestBody: {} }, iam.opts));
    expect(missing.status).toBe(400);
  });

  it('limits display name to 100 and description to 256 UTF-8 bytes, and refuses unknown fields', async () => {
    expect((await create('display-ok', { displayName: 'd'.repeat(100), description: 'x'.repeat(256) })).status).toBe(200);
    let e = await googleError(create('display-long', { displayName: 'd'.repeat(101) }));
    expect([e.status, e.error.status]).toEqual([400, 'INVALID_ARGUMENT']);
    e = await googleError(create('display-bytes', { displayName: 'é'.repeat(51) }));
    expect(e.status).toBe(400);
    e = await googleError(create('descr-long', { description: 'x'.repeat(257) }));
    expect(e.error.message).toContain('256');
    e = await googleError(create('unknown-field', { project_id: PROJECT }));
    expect(e.error.message).toBe('Invalid JSON payload received. Unknown name "service_account.project_id": Cannot find field.');
  });

  it('answers 409 ALREADY_EXISTS for a second account with the same id', async () => {
    await create('duplicate-me');
    const { status, error } = await googleError(create('duplicate-me'));
    expect(status).toBe(409);
    expect(error).toMatchObject({
      code: 409,
      status: 'ALREADY_EXISTS',
      message: `Service account duplicate-me already exists within project ${parent}.`,
      details: [{ '@type': 'type.googleapis.com/google.rpc.ResourceInfo', resourceName: `${parent}/serviceAccounts/${emailOf('duplicate-me')}` }],
    });
  });

  it('has only the configured projects (another is PERMISSION_DENIED, as Google answers)', async () => {
    const { status, error } = await googleError(create('elsewhere', {}, 'no-such-project'));
    expect(status).toBe(403);
    expect(error.status).toBe('PERMISSION_DENIED');
    expect(error.message).toBe("Permission 'iam.serviceAccounts.create' denied on resource (or it may not exist).");
  });

  it('lists in pages: pageSize (default 20, at most 100), pageToken, nextPageToken', async () => {
    for (let i = 0; i < 24; i += 1) await create(`page-acct-${String(i).padStart(2, '0')}`);
    // 24 created + the control plane's account
    const first = await iam.api.projects.serviceAccounts.list({ name: parent }, iam.opts);
    expect(first.data.accounts).toHaveLength(20);
    expect(first.data.nextPageToken).toBeTruthy();
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const { data } = await iam.api.projects.serviceAccounts.list({ name: parent, pageSize: 7, pageToken }, iam.opts);
      seen.push(...(data.accounts ?? []).map((a) => a.email!));
      pageToken = data.nextPageToken ?? undefined;
      pages += 1;
    } while (pageToken);
    expect(pages).toBe(4);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect(seen).toEqual([...seen].sort());

    const bad = await googleError(iam.api.projects.serviceAccounts.list({ name: parent, pageToken: 'garbage' }, iam.opts));
    expect([bad.status, bad.error.status]).toEqual([400, 'INVALID_ARGUMENT']);
    server.sandbox.gcp.addProject('empty-project');
    const empty = await iam.api.projects.serviceAccounts.list({ name: 'projects/empty-project' }, iam.opts);
    expect(empty.data).toEqual({});
  });

  it('answers 404 NOT_FOUND in Google’s error shape', async () => {
    const missing = `projects/-/serviceAccounts/${emailOf('ghost-account')}`;
    for (const call of [
      iam.api.projects.serviceAccounts.get({ name: missing }, iam.opts),
      iam.api.projects.serviceAccounts.delete({ name: missing }, iam.opts),
      iam.api.projects.serviceAccounts.getIamPolicy({ resource: missing }, iam.opts),
      iam.api.projects.serviceAccounts.setIamPolicy({ resource: missing, requestBody: { policy: {} } }, iam.opts),
    ]) {
      const { status, error } = await googleError(call);
      expect(status).toBe(404);
      expect(error).toEqual({ code: 404, message: 'Unknown service account', status: 'NOT_FOUND' });
    }
    // an existing account named under another project is not found either
    await create('right-project');
    const wrong = await googleError(
      iam.api.projects.serviceAccounts.get({ name: `projects/other-project/serviceAccounts/${emailOf('right-project')}` }, iam.opts),
    );
    expect(wrong.status).toBe(404);
  });

  it('patches display name and description through updateMask, disables and deletes', async () => {
    const { data: sa } = await create('patch-me', { displayName: 'before' });
    const { data: patched } = await iam.api.projects.serviceAccounts.patch(
      { name: sa.name!, requestBody: { serviceAccount: { displayName: 'after', description: 'now described' }, updateMask: 'displayName,description' } },
      iam.opts,
    );
    expect(patched).toMatchObject({ displayName: 'after', description: 'now described' });
    const noMask = await googleError(
      iam.api.projects.serviceAccounts.patch({ name: sa.name!, requestBody: { serviceAccount: { displayName: 'x' } } }, iam.opts),
    );
    expect(noMask.status).toBe(400);

    await iam.api.projects.serviceAccounts.disable({ name: sa.name!, requestBody: {} }, iam.opts);
    expect((await iam.api.projects.serviceAccounts.get({ name: sa.name! }, iam.opts)).data.disabled).toBe(true);
    await iam.api.projects.serviceAccounts.enable({ name: sa.name!, requestBody: {} }, iam.opts);
    expect((await iam.api.projects.serviceAccounts.get({ name: sa.name! }, iam.opts)).data.disabled).toBeUndefined();

    const deleted = await iam.api.projects.serviceAccounts.delete({ name: sa.name! }, iam.opts);
    expect(deleted.data).toEqual({});
    expect((await googleError(iam.api.projects.serviceAccounts.get({ name: sa.name! }, iam.opts))).status).toBe(404);
  });
});

describe('service account IAM policies', () => {
  const wiMember = (ns: string, ksa: string) => `serviceAccount:${PROJECT}.svc.id.goog[${ns}/${ksa}]`;

  it('reads an unset policy as version 1 with etag ACAB; a write with the current etag gets a new one', async () => {
    const { data: sa } = await create('wi-target');
    const { data: empty } = await iam.api.projects.serviceAccounts.getIamPolicy({ resource: sa.name! }, iam.opts);
    expect(empty).toEqual({ version: 1, etag: 'ACAB' });

    const { data: written } = await iam.api.projects.serviceAccounts.setIamPolicy(
      {
        resource: sa.name!,
        requestBody: {
          policy: {
            etag: empty.etag,
            bindings: [
              { role: 'roles/iam.workloadIdentityUser', members: [wiMember('anyscale-operator', 'ksa-b'), wiMember('anyscale-operator', 'ksa-a')] },
              { role: 'roles/iam.workloadIdentityUser', members: [wiMember('anyscale-operator', 'ksa-a')] },
              { role: 'roles/iam.serviceAccountUser', members: [] },
            ],
          },
        },
      },
      iam.opts,
    );
    // merged per role, members de-duplicated and sorted, the empty binding dropped
    expect(written.bindings).toEqual([
      { role: 'roles/iam.workloadIdentityUser', members: [wiMember('anyscale-operator', 'ksa-a'), wiMember('anyscale-operator', 'ksa-b')] },
    ]);
    expect(written.etag).toMatch(/^[A-Za-z0-9+/]{11}=$/);
    expect(written.etag).not.toBe('ACAB');
    const { data: read } = await iam.api.projects.serviceAccounts.getIamPolicy({ resource: sa.name! }, iam.opts);
    expect(read).toEqual(written);
  });

  it('lets exactly one of two concurrent read-modify-writes with the same etag through', async () => {
    const { data: sa } = await create('race-target');
    const { data: base } = await iam.api.projects.serviceAccounts.getIamPolicy({ resource: sa.name! }, iam.opts);
    const write = (ksa: string) =>
      iam.api.projects.serviceAccounts
        .setIamPolicy(
          {
            resource: sa.name!,
            requestBody: { policy: { etag: base.etag, bindings: [{ role: 'roles/iam.workloadIdentityUser', members: [wiMember('default', ksa)] }] } },
          },
          iam.opts,
        )
        .then(
          (r) => r.status,
          (e: { response?: { status: number } }) => e.response?.status,
        );
    const statuses = await Promise.all([write('racer-a'), write('racer-b')]);
    expect([...statuses].sort()).toEqual([200, 409]);
  });

  it('answers 409 ABORTED to a write carrying a stale etag; a write without an etag overwrites', async () => {
    const { data: sa } = await create('etag-target');
    const { data: v0 } = await iam.api.projects.serviceAccounts.getIamPolicy({ resource: sa.name! }, iam.opts);
    const binding = (ksa: string) => ({ role: 'roles/iam.workloadIdentityUser', members: [wiMember('default', ksa)] });
    await iam.api.projects.serviceAccounts.setIamPolicy(
      { resource: sa.name!, requestBody: { policy: { etag: v0.etag, bindings: [binding('first')] } } },
      iam.opts,
    );
    const { status, error } = await googleError(
      iam.api.projects.serviceAccounts.setIamPolicy(
        { resource: sa.name!, requestBody: { policy: { etag: v0.etag, bindings: [binding('second')] } } },
        iam.opts,
      ),
    );
    expect(status).toBe(409);
    expect(error).toEqual({
      code: 409,
      status: 'ABORTED',
      message: 'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.',
    });
    const { data: unconditional } = await iam.api.projects.serviceAccounts.setIamPolicy(
      { resource: sa.name!, requestBody: { policy: { bindings: [binding('third')] } } },
      iam.opts,
    );
    expect(unconditional.bindings).toEqual([binding('third')]);
  });

  it('validates members and roles as Google does', async () => {
    const { data: sa } = await create('member-rules');
    const set = (members: string[], role = 'roles/iam.workloadIdentityUser') =>
      iam.api.projects.serviceAccounts.setIamPolicy({ resource: sa.name!, requestBody: { policy: { bindings: [{ role, members }] } } }, iam.opts);
    const cases: Array<[string[], string, string]> = [
      [['foo'], 'roles/iam.workloadIdentityUser', 'Policy members must be of the form "<type>:<value>".'],
      [['robot:x@y.com'], 'roles/iam.workloadIdentityUser', 'Unsupported principal type "robot"'],
      [['user:not-an-email'], 'roles/iam.workloadIdentityUser', 'must be an e-mail address'],
      [['serviceAccount:other-project.svc.id.goog[ns/ksa]'], 'roles/iam.workloadIdentityUser', 'Identity Pool does not exist (other-project.svc.id.goog)'],
      [[`serviceAccount:${PROJECT}.svc.id.goog[Bad_NS/ksa]`], 'roles/iam.workloadIdentityUser', 'must be DNS names'],
      [[`serviceAccount:${emailOf('never-created')}`], 'roles/iam.serviceAccountUser', `Service account ${emailOf('never-created')} does not exist.`],
      [['user:a@example.com'], 'roles/storage.objectUser', 'Role roles/storage.objectUser is not supported for this resource.'],
      [['user:a@example.com'], 'iam.workloadIdentityUser', 'does not exist'],
    ];
    for (const [members, role, message] of cases) {
      const { status, error } = await googleError(set(members, role));
      expect(status, members[0]).toBe(400);
      expect(error.status).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain(message);
    }
    const accepted = [
      'user:a@example.com',
      'group:team@example.com',
      'domain:example.com',
      `serviceAccount:${emailOf('anyscale-control-plane')}`,
      'serviceAccount:123-compute@developer.gserviceaccount.com',
      `serviceAccount:${PROJECT}.svc.id.goog[anyscale-operator/kubernetes-service-account-name1]`,
      'principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/subject/s',
      `deleted:serviceAccount:${emailOf('gone-account')}?uid=123456789`,
    ];
    expect((await set(accepted, 'roles/iam.serviceAccountUser')).data.bindings?.[0]?.members).toEqual([...accepted].sort());
  });

  it('caps a policy at 1,500 members and requires version 3 for conditions', async () => {
    const { data: sa } = await create('big-policy');
    const members = Array.from({ length: 1501 }, (_, i) => `user:u${i}@example.com`);
    const tooMany = await googleError(
      iam.api.projects.serviceAccounts.setIamPolicy(
        { resource: sa.name!, requestBody: { policy: { bindings: [{ role: 'roles/iam.serviceAccountUser', members }] } } },
        iam.opts,
      ),
    );
    expect(tooMany.error.message).toBe('The number of members in the policy (1,501) is larger than the maximum allowed size 1,500.');

    const condition = { title: 'expires', expression: 'request.time < timestamp("2030-01-01T00:00:00Z")' };
    const v1 = await googleError(
      iam.api.projects.serviceAccounts.setIamPolicy(
        { resource: sa.name!, requestBody: { policy: { bindings: [{ role: 'roles/iam.serviceAccountUser', members: ['user:a@example.com'], condition }] } } },
        iam.opts,
      ),
    );
    expect(v1.status).toBe(400);
    const { data: v3 } = await iam.api.projects.serviceAccounts.setIamPolicy(
      {
        resource: sa.name!,
        requestBody: { policy: { version: 3, bindings: [{ role: 'roles/iam.serviceAccountUser', members: ['user:a@example.com'], condition }] } },
      },
      iam.opts,
    );
    expect(v3.version).toBe(3);
    const { data: asV1 } = await iam.api.projects.serviceAccounts.getIamPolicy({ resource: sa.name! }, iam.opts);
    expect(asV1.version).toBe(1);
    expect(asV1.bindings?.[0]?.role).toMatch(/^roles\/iam\.serviceAccountUser_withcond_[0-9a-f]{20}$/);
    const { data: asV3 } = await iam.api.projects.serviceAccounts.getIamPolicy({ resource: sa.name!, 'options.requestedPolicyVersion': 3 }, iam.opts);
    expect(asV3.bindings?.[0]).toEqual({ role: 'roles/iam.serviceAccountUser', members: ['user:a@example.com'], condition });
  });

  it('shows a deleted account as deleted:serviceAccount:…?uid=… in the policies that named it', async () => {
    const { data: target } = await create('policy-holder');
    const { data: doomed } = await create('doomed-account');
    await iam.api.projects.serviceAccounts.setIamPolicy(
      {
        resource: target.name!,
        requestBody: { policy: { bindings: [{ role: 'roles/iam.serviceAccountUser', members: [`serviceAccount:${doomed.email}`] }] } },
      },
      iam.opts,
    );
    const before = (await iam.api.projects.serviceAccounts.getIamPolicy({ resource: target.name! }, iam.opts)).data;
    await iam.api.projects.serviceAccounts.delete({ name: doomed.name! }, iam.opts);
    const after = (await iam.api.projects.serviceAccounts.getIamPolicy({ resource: target.name! }, iam.opts)).data;
    expect(after.bindings?.[0]?.members).toEqual([`deleted:serviceAccount:${doomed.email}?uid=${doomed.uniqueId}`]);
    expect(after.etag).not.toBe(before.etag);
  });
});

describe('call log, faults, auth and persistence', () => {
  it('logs every call with service gcp, the API method name, status and mutating flag', async () => {
    const res = await fetch(`${server.url}/sandbox/calls?since=0`);
    expect(await res.json()).toEqual({ last: 0, calls: [] });
    const { data: sa } = await create('logged-account');
    await googleError(create('logged-account'));
    await iam.api.projects.serviceAccounts.getIamPolicy({ resource: sa.name! }, iam.opts);
    await iam.api.projects.serviceAccounts.setIamPolicy({ resource: sa.name!, requestBody: { policy: {} } }, iam.opts);
    await googleError(iam.api.projects.serviceAccounts.get({ name: `projects/-/serviceAccounts/${emailOf('nobody-here')}` }, iam.opts));
    const log = (await (await fetch(`${server.url}/sandbox/calls?since=0`)).json()) as { calls: unknown[] };
    expect(log.calls).toEqual([
      { seq: 1, service: 'gcp', action: 'iam.serviceAccounts.create', status: 200, mutating: true },
      { seq: 2, service: 'gcp', action: 'iam.serviceAccounts.create', status: 409, mutating: true },
      { seq: 3, service: 'gcp', action: 'iam.serviceAccounts.getIamPolicy', status: 200, mutating: false },
      { seq: 4, service: 'gcp', action: 'iam.serviceAccounts.setIamPolicy', status: 200, mutating: true },
      { seq: 5, service: 'gcp', action: 'iam.serviceAccounts.get', status: 404, mutating: false },
    ]);
    expect(server.sandbox.calls.filter({ service: 'gcp', failed: true }).map((c) => c.errorCode)).toEqual(['ALREADY_EXISTS', 'NOT_FOUND']);
    expect(server.sandbox.calls.entries[0]?.params).toEqual({ project: PROJECT, email: undefined });
  });

  it('injects Google-shaped throttling and 5xx faults, and refuses a non-Bearer Authorization', async () => {
    server.sandbox.setFaults(faults.throttle({ service: 'gcp', action: 'iam.serviceAccounts.create' }, 1));
    const throttled = await googleError(create('throttled-one'));
    expect([throttled.status, throttled.error.status]).toEqual([429, 'RESOURCE_EXHAUSTED']);
    expect((await create('throttled-one')).status).toBe(200);
    server.sandbox.setFaults(faults.serverError({ service: 'gcp' }, 1));
    const down = await googleError(iam.api.projects.serviceAccounts.list({ name: parent }, iam.opts));
    expect(down).toEqual({ status: 503, error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } });

    const basic = await fetch(`${server.url}/sandbox/gcp/v1/${parent}/serviceAccounts`, { headers: { authorization: 'Basic eDp4' } });
    expect(basic.status).toBe(401);
    expect(((await basic.json()) as { error: { status: string } }).error.status).toBe('UNAUTHENTICATED');
    const bare = await fetch(`${server.url}/sandbox/gcp/v1/${parent}/serviceAccounts`);
    expect(bare.status).toBe(200);
  });

  it('takes the project number for the project id, and answers routes it does not serve with a Google-shaped 404', async () => {
    const number = ((await fetch(`${server.url}/sandbox/gcp/storage/v1/b/anyscale-sandbox-bucket`).then((r) => r.json())) as { projectNumber: string })
      .projectNumber;
    const { data } = await iam.api.projects.serviceAccounts.list({ name: `projects/${number}` }, iam.opts);
    expect(data.accounts?.map((a) => a.email)).toEqual([emailOf('anyscale-control-plane')]);
    const { data: sa } = await iam.api.projects.serviceAccounts.get(
      { name: `projects/${number}/serviceAccounts/${emailOf('anyscale-control-plane')}` },
      iam.opts,
    );
    expect(sa.projectId).toBe(PROJECT);

    const undelete = await googleError(
      iam.api.projects.serviceAccounts.undelete({ name: `projects/-/serviceAccounts/${sa.uniqueId}`, requestBody: {} }, iam.opts),
    );
    expect(undelete.status).toBe(404);
    expect(undelete.error.message).toContain(':undelete');
    expect(server.sandbox.calls.entries.at(-1)).toMatchObject({ service: 'gcp', action: 'iam.unsupported', status: 404, mutating: false });
  });

  it('throttles mutating calls beyond gcpMutatingRatePerSecond with 429 RESOURCE_EXHAUSTED', async () => {
    const limited = await startSandboxServer({ port: 0, gcpMutatingRatePerSecond: 1 });
    try {
      const client = iamClient(limited.url);
      const make = (id: string) => client.api.projects.serviceAccounts.create({ name: parent, requestBody: { accountId: id } }, client.opts);
      await make('first-in-time');
      const second = await googleError(make('second-in-time'));
      expect([second.status, second.error.status]).toEqual([429, 'RESOURCE_EXHAUSTED']);
      expect((await client.api.projects.serviceAccounts.list({ name: parent }, client.opts)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('holds 100 accounts per project (429 RESOURCE_EXHAUSTED beyond, as Google’s default quota)', async () => {
    const sb = createSandbox({ gcp: { serviceAccountQuota: 2 } });
    const small = await startSandboxServer({ port: 0, sandbox: sb });
    try {
      const client = iamClient(small.url);
      const make = (id: string) => client.api.projects.serviceAccounts.create({ name: parent, requestBody: { accountId: id } }, client.opts);
      await make('second-account'); // the control plane's account is the first
      const full = await googleError(make('third-account'));
      expect(full.status).toBe(429);
      expect(full.error).toMatchObject({ status: 'RESOURCE_EXHAUSTED', message: 'Maximum number of service accounts on project reached.' });
      expect(server.sandbox.gcp.serviceAccountQuota).toBe(100);
    } finally {
      await small.close();
    }
  });

  it('persists accounts and policies through the state hooks; an older snapshot without gcp still loads', async () => {
    let saved: SandboxSnapshot | undefined;
    const first = createSandbox({ state: { save: (take) => void (saved = take()) } });
    const s1 = await startSandboxServer({ port: 0, sandbox: first });
    try {
      const client = iamClient(s1.url);
      const { data: sa } = await client.api.projects.serviceAccounts.create({ name: parent, requestBody: { accountId: 'persisted-one' } }, client.opts);
      await client.api.projects.serviceAccounts.setIamPolicy(
        { resource: sa.name!, requestBody: { policy: { bindings: [{ role: 'roles/iam.workloadIdentityUser', members: [wi('ns1', 'ksa1')] }] } } },
        client.opts,
      );
    } finally {
      await s1.close();
    }
    expect(saved?.gcp?.serviceAccounts.map((a) => a.accountId)).toEqual(['anyscale-control-plane', 'persisted-one']);
    const second = createSandbox({ state: { load: () => JSON.stringify(saved) } });
    const restored = second.gcp.serviceAccount(emailOf('persisted-one'));
    expect(restored?.policy.bindings).toEqual([{ role: 'roles/iam.workloadIdentityUser', members: [wi('ns1', 'ksa1')] }]);

    const { gcp: _dropped, ...old } = saved!;
    const third = createSandbox({ state: { load: () => old } });
    expect(third.gcp.serviceAccounts().map((a) => a.accountId)).toEqual(['anyscale-control-plane']);
    expect(third.gcp.bucketNames()).toEqual(['anyscale-sandbox-bucket']);
  });
});

const wi = (ns: string, ksa: string) => `serviceAccount:${PROJECT}.svc.id.goog[${ns}/${ksa}]`;
