import { describe, expect, it } from 'vitest';
import { GcpState, gcpControlPlaneAccount, gcpSandboxOptionsFromEnv, projectNumber } from '../../local/sandbox/gcp-state.js';
import { memberProblem, parsePolicy, type MemberContext } from '../../local/sandbox/gcp-policy.js';

const ctx = (kind: MemberContext['kind'] = 'serviceAccount'): MemberContext => ({
  kind,
  knownProject: (p) => p === 'proj-one',
  serviceAccountExists: () => undefined,
});

describe('GcpState (the Google Cloud the sandbox starts with)', () => {
  it('defaults to project anyscale-sandbox, bucket anyscale-sandbox-bucket and the control plane’s account', () => {
    const s = new GcpState();
    expect(s.knownProject('anyscale-sandbox')).toBe(true);
    expect(s.bucketNames()).toEqual(['anyscale-sandbox-bucket']);
    expect(s.serviceAccounts().map((a) => a.email)).toEqual([gcpControlPlaneAccount('anyscale-sandbox')]);
  });

  it('takes projects, buckets and existing accounts from options; their projects exist too', () => {
    const s = new GcpState({
      projects: ['proj-one'],
      buckets: ['data-bucket', { name: 'other-bucket', project: 'proj-two', location: 'europe-west1' }],
      serviceAccounts: ['sa1@xxx.iam.gserviceaccount.com', { email: 'SA2@xxx.iam.gserviceaccount.com', displayName: 'two' }],
    });
    expect(['proj-one', 'proj-two', 'xxx'].map((p) => s.knownProject(p))).toEqual([true, true, true]);
    expect(s.knownProject('anyscale-sandbox')).toBe(false);
    expect(s.bucket('data-bucket')?.project).toBe('proj-one');
    expect(s.bucket('other-bucket')).toMatchObject({ project: 'proj-two', location: 'europe-west1' });
    // short legacy ids such as the seed's sa1 exist when configured, though create would refuse them
    expect(s.serviceAccounts('xxx').map((a) => [a.accountId, a.email, a.displayName])).toEqual([
      ['sa1', 'sa1@xxx.iam.gserviceaccount.com', undefined],
      ['sa2', 'sa2@xxx.iam.gserviceaccount.com', 'two'],
    ]);
    expect(s.serviceAccount(gcpControlPlaneAccount('proj-one'))).toBeDefined();
  });

  it('reads SANDBOX_GCP_* from the environment', () => {
    expect(gcpSandboxOptionsFromEnv({})).toBeUndefined();
    expect(
      gcpSandboxOptionsFromEnv({
        SANDBOX_GCP_PROJECTS: 'p-one, p-two',
        SANDBOX_GCP_BUCKETS: 'b-one,p-two/b-two',
        SANDBOX_GCP_SERVICE_ACCOUNTS: 'sa1@xxx.iam.gserviceaccount.com',
      }),
    ).toEqual({
      projects: ['p-one', 'p-two'],
      buckets: [{ name: 'b-one' }, { project: 'p-two', name: 'b-two' }],
      serviceAccounts: ['sa1@xxx.iam.gserviceaccount.com'],
    });
  });

  it('restores a snapshot, re-adds configured items that are missing, and never reuses an etag', () => {
    const s = new GcpState();
    const sa = s.createServiceAccount('anyscale-sandbox', { accountId: 'restored-one' });
    const p1 = s.setServiceAccountPolicy('-', sa.email, { policy: { bindings: [] } });
    const snap = s.snapshot();
    s.reset();
    expect(s.serviceAccount(sa.email)).toBeUndefined();
    const other = new GcpState({ serviceAccounts: ['late-added@anyscale-sandbox.iam.gserviceaccount.com'] });
    other.restore(snap);
    other.seed();
    expect(other.serviceAccount(sa.email)?.policy.etag).toBe(p1.etag);
    expect(other.serviceAccount('late-added@anyscale-sandbox.iam.gserviceaccount.com')).toBeDefined();
    const p2 = other.setServiceAccountPolicy('-', sa.email, { policy: { bindings: [] } });
    expect(p2.etag).not.toBe(p1.etag);
  });

  it('encodes bucket etags as Cloud Storage does (08 + varint metageneration, base64)', () => {
    const s = new GcpState();
    const etags = [s.getBucketPolicy('anyscale-sandbox-bucket').etag];
    for (let i = 0; i < 130; i += 1) etags.push(s.setBucketPolicy('anyscale-sandbox-bucket', {}).etag);
    expect(etags.slice(0, 3)).toEqual(['CAE=', 'CAI=', 'CAM=']);
    expect(etags[126]).toBe('CH8='); // metageneration 127
    expect(etags[127]).toBe('CIAB'); // 128: a two-byte varint
    expect(new Set(etags).size).toBe(etags.length);
    expect(projectNumber('anyscale-sandbox')).toMatch(/^[1-9]\d{11}$/);
  });
});

describe('policy grammar', () => {
  it('accepts the member forms Google documents and names the problem otherwise', () => {
    for (const ok of [
      'allUsers',
      'user:a@example.com',
      'group:g@example.com',
      'domain:example.com',
      'serviceAccount:sa@proj-one.iam.gserviceaccount.com',
      'serviceAccount:proj-one.svc.id.goog[anyscale-operator/worker-1]',
      'deleted:user:a@example.com?uid=123',
      'principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/*',
    ])
      expect(memberProblem(ok, ctx()), ok).toBeUndefined();
    expect(memberProblem('projectViewer:proj-one', ctx('bucket'))).toBeUndefined();
    expect(memberProblem('projectViewer:proj-one', ctx('serviceAccount'))?.message).toContain('Unsupported principal type');
    expect(memberProblem('serviceAccount:proj-one.svc.id.goog[ns]', ctx())?.message).toContain('Invalid service account');
    expect(memberProblem('serviceAccount:proj-one.svc.id.goog[ns/]', ctx())?.message).toContain('must be DNS names');
  });

  it('merges bindings per role and condition and names the field of a bad one', () => {
    const parsed = parsePolicy(
      {
        version: 1,
        bindings: [
          { role: 'roles/iam.serviceAccountUser', members: ['user:b@example.com'] },
          { role: 'roles/iam.serviceAccountUser', members: ['user:a@example.com', 'user:b@example.com'] },
        ],
      },
      ctx(),
    );
    expect(parsed).toEqual({
      version: 1,
      etag: undefined,
      bindings: [{ role: 'roles/iam.serviceAccountUser', members: ['user:a@example.com', 'user:b@example.com'] }],
    });
    expect(() => parsePolicy({ bindings: [{ members: [] }] }, ctx())).toThrow('bindings[0].role is required');
    expect(() => parsePolicy({ version: 2 }, ctx())).toThrow('valid versions are 1 and 3');
    expect(() => parsePolicy({ bindings: [{ role: 'roles/iam.serviceAccountUser', members: 'user:a@example.com' }] }, ctx())).toThrow(
      'must be a list of strings',
    );
    expect(() =>
      parsePolicy({ version: 3, bindings: [{ role: 'roles/iam.serviceAccountUser', members: [], condition: { expression: 'true' } }] }, ctx()),
    ).toThrow('title is required');
  });
});
