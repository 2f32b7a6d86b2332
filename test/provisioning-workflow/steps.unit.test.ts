/**
 * Unit tests of every step of lib/workflow/steps.ts, composed with the REAL AwsIam adapter over a
 * mocked IAMClient (aws-sdk-client-mock) and in-memory fakes of the other ports (./fakes.ts).
 */
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  EntityAlreadyExistsException,
  GetInstanceProfileCommand,
  GetRoleCommand,
  ListOpenIDConnectProvidersCommand,
  GetRolePolicyCommand,
  IAMClient,
  IAMServiceException,
  LimitExceededException,
  ListAttachedRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type Role,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsIam } from '../../adapters/aws/iam.js';
import { policiesEqual } from '../../lib/policy-compare.js';
import { findPlanItem, type InstanceProfileItem, type K8sIrsaItem, type PlanItem, type PlanItemRef } from '../../lib/provisioning/plan.js';
import { CLOUD_LABEL, CLOUD_TAG, MANAGED_BY_LABEL, MANAGED_BY_TAG, ROLE_ARN_ANNOTATION } from '../../lib/provisioning/ownership.js';
import { TargetError } from '../../lib/target-errors.js';
import { PlanCache } from '../../lib/workflow/planning.js';
import { createWorkflowSteps, type ItemInput, type StepOutput } from '../../lib/workflow/steps.js';
import { INVENTORY_TOKEN_KEY, serviceAccountRef } from '../../lib/provisioning/inventory.js';
import { ACCOUNT, FakeClusters, FakeConfigStore, FakeKubernetes, FakeOwnershipStore, FakeRunStore, ISSUER_HOST, OIDC_ARN } from './fakes.js';

const iamMock = mockClient(IAMClient);
const CLOUD = 'cldrsrc_unit';
const DEFAULTS = { clusterName: 'prod-eks', region: 'us-east-1', defaultBucket: 'unit-bucket' };
const meta = { $metadata: { httpStatusCode: 400 } };

const MUTATING = [
  CreateRoleCommand,
  UpdateAssumeRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  DeleteRoleCommand,
  PutRolePolicyCommand,
  DeleteRolePolicyCommand,
  AttachRolePolicyCommand,
  DetachRolePolicyCommand,
  CreateInstanceProfileCommand,
  AddRoleToInstanceProfileCommand,
  RemoveRoleFromInstanceProfileCommand,
];
const mutatingIamCalls = () => iamMock.calls().filter((c) => MUTATING.some((C) => c.args[0] instanceof C));

function config(stack: 'K8S' | 'VM', values: string[], provisioning?: Record<string, unknown>): Record<string, unknown> {
  return {
    cloud_deployment_id: CLOUD,
    cloud_provider: 'AWS',
    compute_stack: stack,
    dataplane_iam_mapping: {
      rules: values.map((value, i) => ({ selector: `user=u${i}@example.com`, value })),
      fallback_rule: 'CLOUD_DEFAULT',
    },
    ...(provisioning ? { provisioning } : {}),
  };
}

interface Fixture {
  steps: ReturnType<typeof createWorkflowSteps>;
  /** The IAM commands the fixture's Plan sent (history reset after it). */
  planCalls: string[];
  configs: FakeConfigStore;
  runs: FakeRunStore;
  ownership: FakeOwnershipStore;
  k8s: FakeKubernetes;
  version: number;
  refs: PlanItemRef[];
  input(i?: number): ItemInput;
  item(i?: number): Promise<PlanItem>;
}

async function fixture(doc: Record<string, unknown>): Promise<Fixture> {
  const configs = new FakeConfigStore();
  const runs = new FakeRunStore();
  const clusters = new FakeClusters();
  const k8s = new FakeKubernetes();
  const ownership = new FakeOwnershipStore();
  const iam = new AwsIam(new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
  const steps = createWorkflowSteps({ configs, runs, ownership, iam, clusters, kubernetes: () => k8s, defaults: DEFAULTS });
  const version = configs.add(CLOUD, doc);
  // Plan's one IAM read per run: the clusters' OIDC providers (IRSA items fail there without one).
  iamMock.on(ListOpenIDConnectProvidersCommand).resolves({ OpenIDConnectProviderList: [{ Arn: OIDC_ARN }] });
  const planned = await steps.plan({ cloudId: CLOUD, version });
  const planCalls = iamMock.calls().map((c) => (c.args[0] as object).constructor.name);
  iamMock.resetHistory(); // each test counts its step's calls
  // The item refs as a Distributed Map child reads them: page by page from the stored plan.
  const refs = (await Promise.all(planned.pages.map((page) => steps.loadPage({ cloudId: CLOUD, version, planId: planned.planId, page })))).flatMap(
    (p) => p.items,
  );
  const cache = new PlanCache(configs, clusters, DEFAULTS);
  // The service made these roles earlier (roleOf answers with their RoleId): they are in its inventory.
  for (const item of (await cache.get(CLOUD, version)).plan.items) {
    await ownership.putInventory({ kind: 'iam-role', name: item.role.name, cloudId: CLOUD, id: 'AROAUNITTEST', recordedAt: new Date(0).toISOString() });
  }
  return {
    steps,
    configs,
    runs,
    ownership,
    k8s,
    version,
    refs,
    planCalls,
    input: (i = 0) => ({ cloudId: CLOUD, version, ref: refs[i]! }),
    item: async (i = 0) => findPlanItem((await cache.get(CLOUD, version)).plan, refs[i]!),
  };
}

const encode = (doc: unknown) => encodeURIComponent(JSON.stringify(doc));

/** A GetRole answer for the planned role (owned, converged unless overridden). */
function roleOf(item: PlanItem, over: Partial<Role> = {}): { Role: Role } {
  return {
    Role: {
      RoleName: item.role.name,
      RoleId: 'AROAUNITTEST',
      Path: item.role.path,
      Arn: item.role.arn,
      CreateDate: new Date('2024-01-01T00:00:00Z'),
      AssumeRolePolicyDocument: encode(item.role.trustPolicy),
      Tags: item.role.tags,
      ...over,
    },
  };
}

async function failure(p: Promise<unknown>): Promise<TargetError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TargetError);
    return e as TargetError;
  }
  throw new Error('expected the step to fail');
}

const noSuchEntity = (what = 'The role with name r cannot be found.') => new NoSuchEntityException({ message: what, ...meta });
const throttling = () => new IAMServiceException({ name: 'Throttling', $fault: 'client', message: 'Rate exceeded', ...meta });

beforeEach(() => {
  iamMock.reset();
});

describe('plan', () => {
  it('claims the cloud, records RUNNING and hands out small item refs', async () => {
    const f = await fixture(config('K8S', ['sa-one', 'sa-two', 'sa-one']));
    expect(f.refs.map((r) => r.name)).toEqual(['sa-one', 'sa-two']);
    expect(f.refs[0]).toEqual({ index: 0, kind: 'k8s-irsa', name: 'sa-one', digest: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const run = await f.runs.getRun(CLOUD, f.version);
    expect(run).toMatchObject({ status: 'RUNNING', itemCount: 2 });
    expect(await f.runs.claimedVersion(CLOUD)).toBe(f.version);
    expect(f.planCalls).toEqual(['ListOpenIDConnectProvidersCommand']);
  });

  it('returns superseded (and records SUPERSEDED) when a newer version claimed the cloud', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    const v2 = f.configs.add(CLOUD, config('K8S', ['sa-one']));
    await f.steps.plan({ cloudId: CLOUD, version: v2 });
    const older = await f.steps.plan({ cloudId: CLOUD, version: f.version });
    expect(older).toMatchObject({ superseded: true, itemCount: 0, pages: [] });
    expect((await f.runs.getRun(CLOUD, f.version))?.status).toBe('SUPERSEDED');
  });

  it('fails with the ACLSizePerRole message before touching IAM when a trust policy cannot fit', async () => {
    const namespaces = Array.from({ length: 40 }, (_, i) => `kubeflow-user-${String(i).padStart(3, '0')}`);
    const configs = new FakeConfigStore();
    const runs = new FakeRunStore();
    const iam = new AwsIam(new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
    const steps = createWorkflowSteps({
      configs,
      runs,
      ownership: new FakeOwnershipStore(),
      iam,
      clusters: new FakeClusters(),
      kubernetes: () => new FakeKubernetes(),
      defaults: DEFAULTS,
    });
    const version = configs.add(CLOUD, config('K8S', ['default-editor'], { service_accounts: { 'default-editor': { namespaces } } }));
    const err = await steps.plan({ cloudId: CLOUD, version }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('PlanError');
    expect((err as Error).message).toMatch(/role iam-mapping-\S+default-editor trust policy is [\d,]+ characters, over the quota of 2,048 \(ACLSizePerRole\)/);
    expect(iamMock.calls()).toHaveLength(0);
  });
});

describe('ensureRole', () => {
  it('creates a missing role with the planned trust policy, path and ownership tags', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    const item = await f.item();
    iamMock.on(GetRoleCommand).rejects(noSuchEntity());
    iamMock.on(CreateRoleCommand).resolves(roleOf(item));
    const out = await f.steps.ensureRole(f.input());
    expect(out).toMatchObject({ createdRole: true, resources: [{ kind: 'iam-role', name: item.role.name, action: 'created' }] });
    expect(iamMock).toHaveReceivedCommandOnce(CreateRoleCommand);
    const sent = iamMock.commandCalls(CreateRoleCommand)[0]!.args[0].input;
    expect(sent).toMatchObject({ RoleName: item.role.name, Path: '/iam-mapping/' });
    expect(policiesEqual(JSON.parse(sent.AssumeRolePolicyDocument!), item.role.trustPolicy)).toBe(true);
    expect(sent.Tags).toEqual(
      expect.arrayContaining([
        { Key: MANAGED_BY_TAG, Value: 'iam-mapping-service' },
        { Key: CLOUD_TAG, Value: CLOUD },
      ]),
    );
  });

  it('propagates Throttling as a retryable ThrottledError (and writes nothing)', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    iamMock.on(GetRoleCommand).rejects(throttling());
    const err = await failure(f.steps.ensureRole(f.input()));
    expect(err.name).toBe('ThrottledError');
    expect(err.retryable).toBe(true);
    expect(mutatingIamCalls()).toHaveLength(0);
  });

  it('propagates Throttling of CreateRole as ThrottledError', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    iamMock.on(GetRoleCommand).rejects(noSuchEntity());
    iamMock.on(CreateRoleCommand).rejects(throttling());
    const err = await failure(f.steps.ensureRole(f.input()));
    expect(err).toMatchObject({ name: 'ThrottledError', retryable: true });
  });

  it('EntityAlreadyExists on create → retryable NotReadyError; the retry re-reads and does not create again', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    const item = await f.item();
    // Our first attempt's CreateRole committed (the role carries its inventory token) but its answer was lost.
    const token = () => [...f.ownership.inventory.values()].find((r) => r.name === item.role.name)?.token ?? '';
    iamMock
      .on(GetRoleCommand)
      .rejectsOnce(noSuchEntity())
      .callsFake(() => roleOf(item, { Tags: [...item.role.tags, { Key: INVENTORY_TOKEN_KEY, Value: token() }] }));
    iamMock.on(CreateRoleCommand).rejects(new EntityAlreadyExistsException({ message: `Role with name ${item.role.name} already exists.`, ...meta }));
    const err = await failure(f.steps.ensureRole(f.input()));
    expect(err).toMatchObject({ name: 'NotReadyError', retryable: true });
    expect(err.message).toMatch(/re-reading/);
    // What the state machine's Retry does next:
    const again = await f.steps.ensureRole(f.input());
    expect(again.resources[0]).toMatchObject({ action: 'unchanged' });
    expect(again.createdRole).toBe(false);
    expect(iamMock).toHaveReceivedCommandTimes(CreateRoleCommand, 1);
    expect(iamMock).toHaveReceivedCommandTimes(GetRoleCommand, 2);
  });

  it('leaves an unowned role alone: NotOwnedError (not retryable), no write', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    const item = await f.item();
    iamMock.on(GetRoleCommand).resolves(roleOf(item, { Tags: [{ Key: 'team', Value: 'ml' }] }));
    const err = await failure(f.steps.ensureRole(f.input()));
    expect(err).toMatchObject({ name: 'NotOwnedError', retryable: false });
    expect(err.message).toContain(`IAM role ${item.role.name} exists without the ownership tags`);
    expect(err.message).toContain('provisioning.service_accounts.sa-one.adopt_role: true');
    expect(mutatingIamCalls()).toHaveLength(0);
  });

  it('a role owned by another cloud is not ours either', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    const item = await f.item();
    const tags = item.role.tags.map((t) => (t.Key === CLOUD_TAG ? { ...t, Value: 'cldrsrc_other' } : t));
    iamMock.on(GetRoleCommand).resolves(roleOf(item, { Tags: tags }));
    expect((await failure(f.steps.ensureRole(f.input()))).name).toBe('NotOwnedError');
    expect(mutatingIamCalls()).toHaveLength(0);
  });

  it('adopts an unowned role when the config says so: adds the ownership tags', async () => {
    const f = await fixture(config('K8S', ['sa-one'], { service_accounts: { 'sa-one': { adopt_role: true } } }));
    const item = await f.item();
    iamMock.on(GetRoleCommand).resolves(roleOf(item, { Tags: [{ Key: 'team', Value: 'ml' }] }));
    iamMock.on(TagRoleCommand).resolves({});
    const out = await f.steps.ensureRole(f.input());
    expect(out.resources[0]).toMatchObject({ kind: 'iam-role', action: 'adopted' });
    expect(iamMock).toHaveReceivedCommandOnce(TagRoleCommand);
    const tags = iamMock.commandCalls(TagRoleCommand)[0]!.args[0].input.Tags;
    expect(tags).toEqual(expect.arrayContaining(item.role.tags));
    expect(mutatingIamCalls()).toHaveLength(1);
  });

  it('does not adopt a role at another path (its ARN would differ from the annotation): left alone, no write', async () => {
    const f = await fixture(config('K8S', ['sa-one'], { service_accounts: { 'sa-one': { adopt_role: true } } }));
    const item = await f.item();
    const arn = item.role.arn.replace(item.role.path, '/legacy/');
    iamMock.on(GetRoleCommand).resolves(roleOf(item, { Path: '/legacy/', Arn: arn, Tags: [] }));
    const err = await failure(f.steps.ensureRole(f.input()));
    expect(err.name).toBe('InvalidInputError');
    expect(err.message).toContain('provisioning.role_path to /legacy/');
    expect(mutatingIamCalls()).toHaveLength(0);
  });

  it('converged: unchanged, no mutating command', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    iamMock.on(GetRoleCommand).resolves(roleOf(await f.item()));
    const out = await f.steps.ensureRole(f.input());
    expect(out).toMatchObject({ createdRole: false, resources: [{ action: 'unchanged' }] });
    expect(mutatingIamCalls()).toHaveLength(0);
  });

  it('stops without reading or writing once a newer version claimed the cloud', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    const v2 = f.configs.add(CLOUD, config('K8S', ['sa-one']));
    await f.runs.claim(CLOUD, v2);
    const err = await failure(f.steps.ensureRole(f.input()));
    expect(err).toMatchObject({ name: 'SupersededError', retryable: false });
    expect(iamMock.calls()).toHaveLength(0);
  });

  it('refuses a stale item ref (the plan changed since it was handed out)', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    const stale = { ...f.input(), ref: { ...f.refs[0]!, digest: '0000000000000000' } };
    await expect(f.steps.ensureRole(stale)).rejects.toThrow(/changed since it was planned/);
    expect(iamMock.calls()).toHaveLength(0);
  });
});

describe('ensureTrustPolicy', () => {
  it('NoSuchEntity right after CreateRole (read) → retryable NotReadyError', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    iamMock.on(GetRoleCommand).rejects(noSuchEntity());
    const err = await failure(f.steps.ensureTrustPolicy(f.input()));
    expect(err).toMatchObject({ name: 'NotReadyError', retryable: true });
    expect(mutatingIamCalls()).toHaveLength(0);
  });

  it('NoSuchEntity on UpdateAssumeRolePolicy (write) → retryable NotFoundError', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    const item = await f.item();
    iamMock.on(GetRoleCommand).resolves(roleOf(item, { AssumeRolePolicyDocument: encode({ Version: '2012-10-17', Statement: [] }) }));
    iamMock.on(UpdateAssumeRolePolicyCommand).rejects(noSuchEntity());
    const err = await failure(f.steps.ensureTrustPolicy(f.input()));
    expect(err).toMatchObject({ name: 'NotFoundError', retryable: true });
  });

  it('LimitExceeded (ACLSizePerRole) → LimitExceededError, not retryable, message kept', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    const item = await f.item();
    iamMock.on(GetRoleCommand).resolves(roleOf(item, { AssumeRolePolicyDocument: encode({ Version: '2012-10-17', Statement: [] }) }));
    iamMock.on(UpdateAssumeRolePolicyCommand).rejects(new LimitExceededException({ message: 'Cannot exceed quota for ACLSizePerRole: 2048', ...meta }));
    const err = await failure(f.steps.ensureTrustPolicy(f.input()));
    expect(err).toMatchObject({ name: 'LimitExceededError', retryable: false });
    expect(err.message).toContain('ACLSizePerRole: 2048');
  });

  it('updates a trust policy that differs in substance', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    const item = await f.item();
    const other = structuredClone(item.role.trustPolicy) as any;
    other.Statement[0].Condition.StringEquals[`${ISSUER_HOST}:sub`] = 'system:serviceaccount:*:sa-one';
    iamMock.on(GetRoleCommand).resolves(roleOf(item, { AssumeRolePolicyDocument: encode(other) }));
    iamMock.on(UpdateAssumeRolePolicyCommand).resolves({});
    const out = await f.steps.ensureTrustPolicy(f.input());
    expect(out.resources[0]).toMatchObject({ kind: 'trust-policy', action: 'updated' });
    const sent = iamMock.commandCalls(UpdateAssumeRolePolicyCommand)[0]!.args[0].input;
    expect(policiesEqual(JSON.parse(sent.PolicyDocument!), item.role.trustPolicy)).toBe(true);
  });

  it('a trust policy differing only in key order, value order, list-vs-scalar and whitespace is left unchanged', async () => {
    const namespaces = ['team-a', 'team-b', 'team-c'];
    const f = await fixture(config('K8S', ['default-editor'], { service_accounts: { 'default-editor': { namespaces } } }));
    const item = await f.item();
    const subs = namespaces.map((ns) => `system:serviceaccount:${ns}:default-editor`).reverse();
    // Hand-written: other key order, pretty-printed, `sub` values reversed, aud as a one-element list, Action as a list.
    const text = `{
      "Statement": [ {
        "Condition": { "StringEquals": {
            "${ISSUER_HOST}:sub": ${JSON.stringify(subs)},
            "${ISSUER_HOST}:aud": ["sts.amazonaws.com"] } },
        "Action": ["sts:AssumeRoleWithWebIdentity"],
        "Principal": { "Federated": "${OIDC_ARN}" },
        "Effect": "Allow"
      } ],
      "Version": "2012-10-17"
    }`;
    iamMock.on(GetRoleCommand).resolves(roleOf(item, { AssumeRolePolicyDocument: encodeURIComponent(text) }));
    const out = await f.steps.ensureTrustPolicy(f.input());
    expect(out.resources[0]).toMatchObject({ kind: 'trust-policy', action: 'unchanged' });
    expect(mutatingIamCalls()).toHaveLength(0);
    // Right after CreateRole (which wrote this policy) it is reported as created with the role.
    const fresh = await f.steps.ensureTrustPolicy({ ...f.input(), results: { role: { resources: [], createdRole: true } } });
    expect(fresh.resources[0]).toMatchObject({ kind: 'trust-policy', action: 'created' });
    expect(mutatingIamCalls()).toHaveLength(0);
  });

  it('does not touch the trust policy of an unowned role', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    const item = await f.item();
    iamMock.on(GetRoleCommand).resolves(roleOf(item, { Tags: [], AssumeRolePolicyDocument: encode({ Version: '2012-10-17', Statement: [] }) }));
    expect((await failure(f.steps.ensureTrustPolicy(f.input()))).name).toBe('NotOwnedError');
    expect(mutatingIamCalls()).toHaveLength(0);
  });
});

describe('ensurePermissions', () => {
  it('puts the default-bucket policy (seed 002) when missing and attaches the extra policies', async () => {
    const extra = `arn:aws:iam::${ACCOUNT}:policy/ml-team-a`;
    const f = await fixture(config('K8S', ['sa-one'], { service_accounts: { 'sa-one': { extra_policy_arns: [extra] } } }));
    const item = await f.item();
    iamMock.on(GetRoleCommand).resolves(roleOf(item));
    iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity('The role policy with name iam-mapping-default-bucket cannot be found.'));
    iamMock.on(PutRolePolicyCommand).resolves({});
    iamMock
      .on(ListAttachedRolePoliciesCommand)
      .resolves({ AttachedPolicies: [{ PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/by-hand`, PolicyName: 'by-hand' }] });
    iamMock.on(AttachRolePolicyCommand).resolves({});
    const out = await f.steps.ensurePermissions(f.input());
    expect(out.resources.map((r) => [r.kind, r.action])).toEqual([
      ['permission-policy', 'created'],
      ['managed-policy', 'created'],
      ['managed-policy', 'left-alone'],
    ]);
    const put = iamMock.commandCalls(PutRolePolicyCommand)[0]!.args[0].input;
    expect(put.PolicyName).toBe('iam-mapping-default-bucket');
    expect(JSON.parse(put.PolicyDocument!)).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'ListObjectsInBucket', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: ['arn:aws:s3:::unit-bucket'] },
        { Sid: 'AllObjectActions', Effect: 'Allow', Action: 's3:*Object', Resource: ['arn:aws:s3:::unit-bucket/*'] },
      ],
    });
    expect(iamMock).toHaveReceivedCommandWith(AttachRolePolicyCommand, { RoleName: item.role.name, PolicyArn: extra });
    expect(iamMock).not.toHaveReceivedCommand(DetachRolePolicyCommand);
  });

  it('LimitExceeded on PutRolePolicy → non-retryable LimitExceededError', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    iamMock.on(GetRoleCommand).resolves(roleOf(await f.item()));
    iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity());
    iamMock.on(PutRolePolicyCommand).rejects(new LimitExceededException({ message: 'Maximum policy size of 10240 bytes exceeded for role r', ...meta }));
    const err = await failure(f.steps.ensurePermissions(f.input()));
    expect(err).toMatchObject({ name: 'LimitExceededError', retryable: false });
  });

  it('NoSuchEntity on the role right after create → NotReadyError (retryable)', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    iamMock.on(GetRoleCommand).rejects(noSuchEntity());
    expect(await failure(f.steps.ensurePermissions(f.input()))).toMatchObject({ name: 'NotReadyError', retryable: true });
  });

  it('Throttling on PutRolePolicy → ThrottledError (retryable)', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    iamMock.on(GetRoleCommand).resolves(roleOf(await f.item()));
    iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity());
    iamMock.on(PutRolePolicyCommand).rejects(throttling());
    expect(await failure(f.steps.ensurePermissions(f.input()))).toMatchObject({ name: 'ThrottledError', retryable: true });
  });

  it('converged (reordered, whitespace) → unchanged, no mutating command', async () => {
    const extra = `arn:aws:iam::${ACCOUNT}:policy/ml-team-a`;
    const f = await fixture(config('K8S', ['sa-one'], { service_accounts: { 'sa-one': { extra_policy_arns: [extra] } } }));
    const item = await f.item();
    const doc = item.role.permissionPolicy.document as { Statement: object[] };
    const reordered = JSON.stringify({ Statement: [...doc.Statement].reverse(), Version: '2012-10-17' }, null, 2);
    iamMock.on(GetRoleCommand).resolves(roleOf(item));
    iamMock
      .on(GetRolePolicyCommand)
      .resolves({ RoleName: item.role.name, PolicyName: 'iam-mapping-default-bucket', PolicyDocument: encodeURIComponent(reordered) });
    iamMock.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [{ PolicyArn: extra, PolicyName: 'ml-team-a' }] });
    const out = await f.steps.ensurePermissions(f.input());
    expect(out.resources.map((r) => r.action)).toEqual(['unchanged', 'unchanged']);
    expect(mutatingIamCalls()).toHaveLength(0);
  });
});

describe('awaitRole', () => {
  it('not visible yet → NotReadyError; trust not yet propagated → NotReadyError; then passes', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    const item = await f.item();
    iamMock
      .on(GetRoleCommand)
      .rejectsOnce(noSuchEntity())
      .resolvesOnce(roleOf(item, { AssumeRolePolicyDocument: encode({ Version: '2012-10-17', Statement: [] }) }))
      .resolves(roleOf(item));
    expect(await failure(f.steps.awaitRole(f.input()))).toMatchObject({ name: 'NotReadyError', retryable: true });
    expect(await failure(f.steps.awaitRole(f.input()))).toMatchObject({ name: 'NotReadyError', retryable: true });
    await expect(f.steps.awaitRole(f.input())).resolves.toEqual({ resources: [] });
    expect(mutatingIamCalls()).toHaveLength(0);
  });
});

describe('ensureServiceAccount', () => {
  it('creates the SA in every namespace, annotated with the role ARN and labelled as ours', async () => {
    const f = await fixture(config('K8S', ['default-editor'], { service_accounts: { 'default-editor': { namespaces: ['team-a', 'team-b'] } } }));
    f.k8s.namespaces.add('team-a').add('team-b');
    const item = (await f.item()) as K8sIrsaItem;
    const out = await f.steps.ensureServiceAccount(f.input());
    expect(out.resources.map((r) => [r.namespace, r.action])).toEqual([
      ['team-a', 'created'],
      ['team-b', 'created'],
    ]);
    for (const ns of ['team-a', 'team-b']) {
      const sa = await f.k8s.getServiceAccount(ns, 'default-editor');
      expect(sa?.annotations[ROLE_ARN_ANNOTATION]).toBe(item.role.arn);
      expect(sa?.labels).toMatchObject({ [MANAGED_BY_LABEL]: 'iam-mapping-service', [CLOUD_LABEL]: CLOUD });
    }
  });

  it('reports a missing namespace as a failed resource (no write)', async () => {
    const f = await fixture(config('K8S', ['sa-one'], { namespaces: ['nowhere'] }));
    const out = await f.steps.ensureServiceAccount(f.input());
    expect(out.resources[0]).toMatchObject({ action: 'failed', detail: expect.stringMatching(/namespace nowhere does not exist/) });
    expect(f.k8s.writes).toBe(0);
  });

  it('leaves an unlabelled SA alone (failed when its annotation differs), adopts it when configured', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    f.k8s.put({ namespace: 'anyscale-operator', name: 'sa-one', annotations: { [ROLE_ARN_ANNOTATION]: 'arn:aws:iam::1:role/other' }, labels: {} });
    const out = await f.steps.ensureServiceAccount(f.input());
    expect(out.resources[0]).toMatchObject({ action: 'failed', detail: expect.stringMatching(/without the ownership label.*adopt_service_account/) });
    expect(f.k8s.writes).toBe(0);

    const g = await fixture(config('K8S', ['sa-one'], { service_accounts: { 'sa-one': { adopt_service_account: true } } }));
    g.k8s.put({ namespace: 'anyscale-operator', name: 'sa-one', annotations: {}, labels: { team: 'ml' } });
    const adopted = await g.steps.ensureServiceAccount(g.input());
    expect(adopted.resources[0]).toMatchObject({ action: 'adopted' });
    const sa = await g.k8s.getServiceAccount('anyscale-operator', 'sa-one');
    expect(sa?.labels).toMatchObject({ team: 'ml', [MANAGED_BY_LABEL]: 'iam-mapping-service' });
    expect(sa?.annotations[ROLE_ARN_ANNOTATION]).toBe((await g.item()).role.arn);
  });

  it('converged → unchanged, zero writes', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    await f.steps.ensureServiceAccount(f.input());
    const writes = f.k8s.writes;
    const out = await f.steps.ensureServiceAccount(f.input());
    expect(out.resources[0]).toMatchObject({ action: 'unchanged' });
    expect(f.k8s.writes).toBe(writes);
  });
});

describe('ensureInstanceProfile (AWS VM)', () => {
  const profileOf = (item: InstanceProfileItem, roles: string[], tags = item.instanceProfile.tags) => ({
    InstanceProfile: {
      InstanceProfileName: item.instanceProfile.name,
      InstanceProfileId: 'AIPAUNIT',
      Path: item.instanceProfile.path,
      Arn: item.instanceProfile.arn,
      CreateDate: new Date(),
      Roles: roles.map((r) => ({ RoleName: r, RoleId: 'x', Path: '/', Arn: `arn:aws:iam::${ACCOUNT}:role/${r}`, CreateDate: new Date() })),
      Tags: tags,
    },
  });

  it('creates the profile (tagged) and adds the role; then converged → zero writes', async () => {
    const f = await fixture(config('VM', ['role_name1']));
    const item = (await f.item()) as InstanceProfileItem;
    iamMock
      .on(GetInstanceProfileCommand)
      .rejectsOnce(noSuchEntity())
      .resolves(profileOf(item, [item.role.name]));
    iamMock.on(CreateInstanceProfileCommand).resolves(profileOf(item, []));
    iamMock.on(AddRoleToInstanceProfileCommand).resolves({});
    const out = await f.steps.ensureInstanceProfile(f.input());
    expect(out.resources[0]).toMatchObject({ kind: 'instance-profile', name: 'role_name1', action: 'created' });
    expect(iamMock).toHaveReceivedCommandWith(AddRoleToInstanceProfileCommand, { InstanceProfileName: 'role_name1', RoleName: item.role.name });
    expect(iamMock.commandCalls(CreateInstanceProfileCommand)[0]!.args[0].input.Tags).toEqual(expect.arrayContaining(item.instanceProfile.tags));
    const writes = mutatingIamCalls().length;
    const again = await f.steps.ensureInstanceProfile(f.input());
    expect(again.resources[0]).toMatchObject({ action: 'unchanged' });
    expect(mutatingIamCalls()).toHaveLength(writes);
  });

  it('EntityAlreadyExists on create → retryable NotReadyError', async () => {
    const f = await fixture(config('VM', ['role_name1']));
    iamMock.on(GetInstanceProfileCommand).rejects(noSuchEntity());
    iamMock.on(CreateInstanceProfileCommand).rejects(new EntityAlreadyExistsException({ message: 'exists', ...meta }));
    expect(await failure(f.steps.ensureInstanceProfile(f.input()))).toMatchObject({ name: 'NotReadyError', retryable: true });
    expect(iamMock).not.toHaveReceivedCommand(AddRoleToInstanceProfileCommand);
  });

  it('an unowned profile is left alone; adopted when configured (role swapped in)', async () => {
    const f = await fixture(config('VM', ['role_name1']));
    const item = (await f.item()) as InstanceProfileItem;
    iamMock.on(GetInstanceProfileCommand).resolves(profileOf(item, ['hand-made'], []));
    expect((await failure(f.steps.ensureInstanceProfile(f.input()))).name).toBe('NotOwnedError');
    expect(mutatingIamCalls()).toHaveLength(0);

    const g = await fixture(config('VM', ['role_name1'], { service_accounts: { role_name1: { adopt_instance_profile: true } } }));
    const gi = (await g.item()) as InstanceProfileItem;
    iamMock.reset();
    iamMock.on(GetInstanceProfileCommand).resolves(profileOf(gi, ['hand-made'], []));
    iamMock.on(RemoveRoleFromInstanceProfileCommand).resolves({});
    iamMock.on(AddRoleToInstanceProfileCommand).resolves({});
    const out = await g.steps.ensureInstanceProfile(g.input());
    expect(out.resources[0]).toMatchObject({ action: 'adopted' });
    expect(iamMock).toHaveReceivedCommandWith(RemoveRoleFromInstanceProfileCommand, { InstanceProfileName: 'role_name1', RoleName: 'hand-made' });
    expect(iamMock).toHaveReceivedCommandWith(AddRoleToInstanceProfileCommand, { InstanceProfileName: 'role_name1', RoleName: gi.role.name });
  });
});

describe('a whole item over converged state', () => {
  it('runs every step of the item without a single mutating IAM or Kubernetes call', async () => {
    const f = await fixture(config('K8S', ['sa-one', 'sa-two']));
    for (let i = 0; i < f.refs.length; i++) {
      const item = (await f.item(i)) as K8sIrsaItem;
      iamMock.on(GetRoleCommand, { RoleName: item.role.name }).resolves(roleOf(item));
      iamMock
        .on(GetRolePolicyCommand, { RoleName: item.role.name })
        .resolves({ RoleName: item.role.name, PolicyName: 'iam-mapping-default-bucket', PolicyDocument: encode(item.role.permissionPolicy.document) });
      const sa = f.k8s.put({
        namespace: 'anyscale-operator',
        name: item.serviceAccount.name,
        annotations: { ...item.annotations },
        labels: { ...item.labels },
      });
      // Made by the service earlier: in its inventory with this uid.
      const ref = serviceAccountRef({ name: DEFAULTS.clusterName, issuerHost: ISSUER_HOST }, 'anyscale-operator', item.serviceAccount.name);
      await f.ownership.putInventory({ ...ref, cloudId: CLOUD, id: sa.uid!, recordedAt: new Date(0).toISOString() });
    }
    iamMock.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    const writes = f.k8s.writes;
    for (let i = 0; i < f.refs.length; i++) {
      const input = f.input(i);
      const results: Record<string, StepOutput> = {
        role: await f.steps.ensureRole(input),
        trust: await f.steps.ensureTrustPolicy(input),
        permissions: await f.steps.ensurePermissions(input),
      };
      expect(results.role!.createdRole).toBe(false);
      await f.steps.awaitRole(input);
      results.target = await f.steps.ensureServiceAccount(input);
      expect(await f.steps.recordItem({ ...input, results })).toEqual({ name: input.ref.name, status: 'SUCCEEDED' });
    }
    expect(mutatingIamCalls()).toHaveLength(0);
    expect(f.k8s.writes).toBe(writes);
    const run = await f.runs.getRun(CLOUD, f.version);
    expect(run?.items.flatMap((i) => i.resources).every((r) => r.action === 'unchanged')).toBe(true);
  });
});

describe('recording', () => {
  it('recordItem: an item with a failed resource is FAILED with the reason', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    const out = await f.steps.recordItem({
      ...f.input(),
      results: { target: { resources: [{ kind: 'service-account', name: 'sa-one', namespace: 'x', action: 'failed', detail: 'namespace x does not exist' }] } },
    });
    expect(out.status).toBe('FAILED');
    const run = await f.runs.getRun(CLOUD, f.version);
    expect(run?.items[0]?.error?.message).toContain('namespace x does not exist');
  });

  it('recordItemFailure: NotOwnedError → FAILED with a left-alone role; SupersededError → SUPERSEDED; Lambda JSON cause decoded', async () => {
    const f = await fixture(config('K8S', ['sa-one', 'sa-two', 'sa-three']));
    const item = await f.item();
    const a = await f.steps.recordItemFailure({
      ...f.input(0),
      error: { Error: 'NotOwnedError', Cause: `IAM role ${item.role.name} exists without the ownership tags of this service; it was left alone.` },
    });
    const b = await f.steps.recordItemFailure({ ...f.input(1), error: { Error: 'SupersededError', Cause: 'superseded by version 2' } });
    const c = await f.steps.recordItemFailure({
      ...f.input(2),
      error: { Error: 'TransientError', Cause: JSON.stringify({ errorType: 'TransientError', errorMessage: 'IAM PutRolePolicy x: ServiceFailure: boom' }) },
    });
    expect([a.status, b.status, c.status]).toEqual(['FAILED', 'SUPERSEDED', 'FAILED']);
    const run = await f.runs.getRun(CLOUD, f.version);
    const byName = Object.fromEntries(run!.items.map((i) => [i.name, i]));
    expect(byName['sa-one']!.resources).toContainEqual(expect.objectContaining({ kind: 'iam-role', name: item.role.name, action: 'left-alone' }));
    expect(byName['sa-three']!.error).toEqual({ name: 'TransientError', message: 'IAM PutRolePolicy x: ServiceFailure: boom' });
  });

  it('recordItemFailure: a NotOwnedError of an instance-profile item names the role, or the profile once the role steps passed', async () => {
    const f = await fixture(config('VM', ['role_name1']));
    const item = (await f.item()) as InstanceProfileItem;
    const error = { Error: 'NotOwnedError', Cause: 'left alone' };
    await f.steps.recordItemFailure({ ...f.input(), error });
    let run = await f.runs.getRun(CLOUD, f.version);
    expect(run!.items[0]!.resources).toEqual([expect.objectContaining({ kind: 'iam-role', name: item.role.name, action: 'left-alone' })]);
    const passed = { resources: [] };
    await f.steps.recordItemFailure({ ...f.input(), results: { role: passed, trust: passed, permissions: passed }, error });
    run = await f.runs.getRun(CLOUD, f.version);
    expect(run!.items[0]!.resources).toEqual([expect.objectContaining({ kind: 'instance-profile', name: item.instanceProfile.name, action: 'left-alone' })]);
  });

  it('finalize: SUCCEEDED / FAILED / SUPERSEDED from the outcomes, only from RUNNING', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    expect(
      await f.steps.finalize({
        cloudId: CLOUD,
        version: f.version,
        outcomes: [
          { name: 'a', status: 'SUCCEEDED' },
          { name: 'b', status: 'FAILED' },
        ],
      }),
    ).toEqual({ status: 'FAILED' });
    const run = await f.runs.getRun(CLOUD, f.version);
    expect(run).toMatchObject({ status: 'FAILED', error: { name: 'ItemsFailed', message: '1 of 2 items failed; see their errors' } });
    // A finished run is not rewritten.
    await f.steps.finalize({ cloudId: CLOUD, version: f.version, outcomes: [] });
    expect((await f.runs.getRun(CLOUD, f.version))?.status).toBe('FAILED');

    const g = await fixture(config('K8S', ['sa-one']));
    expect(await g.steps.finalize({ cloudId: CLOUD, version: g.version, outcomes: [{ name: 'a', status: 'SUPERSEDED' }] })).toEqual({ status: 'SUPERSEDED' });
    const h = await fixture(config('K8S', ['sa-one']));
    expect(await h.steps.finalize({ cloudId: CLOUD, version: h.version, outcomes: [{ name: 'a', status: 'SUCCEEDED' }] })).toEqual({ status: 'SUCCEEDED' });
  });

  it('recordRunFailure: records the error name and the cause', async () => {
    const f = await fixture(config('K8S', ['sa-one']));
    await f.steps.recordRunFailure({
      cloudId: CLOUD,
      version: f.version,
      error: { Error: 'PlanError', Cause: 'role r trust policy is 2,500 characters, over the quota of 2,048 (ACLSizePerRole)' },
    });
    expect(await f.runs.getRun(CLOUD, f.version)).toMatchObject({
      status: 'FAILED',
      error: { name: 'PlanError', message: expect.stringContaining('ACLSizePerRole') },
    });
  });
});
