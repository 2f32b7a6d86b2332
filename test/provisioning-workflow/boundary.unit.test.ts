/** EnsureRole and the IAM adapter with a permissions boundary (aws-sdk-client-mock). */
import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  NoSuchEntityException,
  PutRolePermissionsBoundaryCommand,
  TagRoleCommand,
  type Role,
  ListOpenIDConnectProvidersCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsIam } from '../../adapters/aws/iam.js';
import { findPlanItem, type PlanItem } from '../../lib/provisioning/plan.js';
import { PlanCache } from '../../lib/workflow/planning.js';
import { createWorkflowSteps } from '../../lib/workflow/steps.js';
import { roleRef } from '../../lib/provisioning/inventory.js';
import { FakeClusters, FakeConfigStore, FakeKubernetes, FakeRunStore, FakeOwnershipStore, OIDC_ARN } from './fakes.js';

const iamMock = mockClient(IAMClient);
const CLOUD = 'cldrsrc_bnd';
const BOUNDARY = 'arn:aws:iam::123456789012:policy/iam-mapping-prod-workload-boundary';
const DEFAULTS = { clusterName: 'prod-eks', region: 'us-east-1', defaultBucket: 'unit-bucket', permissionsBoundaryArn: BOUNDARY };
const DOC = {
  cloud_deployment_id: CLOUD,
  cloud_provider: 'AWS',
  compute_stack: 'K8S',
  dataplane_iam_mapping: { rules: [{ selector: 'user=u@example.com', value: 'sa-one' }], fallback_rule: 'FAIL' },
};

async function fixture() {
  const configs = new FakeConfigStore();
  const clusters = new FakeClusters();
  const iam = new AwsIam(new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
  const ownership = new FakeOwnershipStore();
  const steps = createWorkflowSteps({
    configs,
    runs: new FakeRunStore(),
    ownership,
    iam,
    clusters,
    kubernetes: () => new FakeKubernetes(),
    defaults: DEFAULTS,
  });
  const version = configs.add(CLOUD, DOC);
  iamMock.on(ListOpenIDConnectProvidersCommand).resolves({ OpenIDConnectProviderList: [{ Arn: OIDC_ARN }] });
  const planned = await steps.plan({ cloudId: CLOUD, version });
  iamMock.resetHistory();
  const { items } = await steps.loadPage({ cloudId: CLOUD, version, planId: planned.planId, page: 0 });
  const item: PlanItem = findPlanItem((await new PlanCache(configs, clusters, DEFAULTS).get(CLOUD, version)).plan, items[0]!);
  // The role the tests return from GetRole (RoleId AROAUNIT) is one the service made: inventoried.
  await ownership.putInventory({ ...roleRef(item.role.name), cloudId: CLOUD, id: 'AROAUNIT', recordedAt: '' });
  return { steps, item, input: { cloudId: CLOUD, version, ref: items[0]! } };
}

const roleOf = (item: PlanItem, over: Partial<Role> = {}): { Role: Role } => ({
  Role: {
    RoleName: item.role.name,
    RoleId: 'AROAUNIT',
    Path: item.role.path,
    Arn: item.role.arn,
    CreateDate: new Date('2024-01-01T00:00:00Z'),
    AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(item.role.trustPolicy)),
    Tags: item.role.tags,
    ...over,
  },
});

beforeEach(() => iamMock.reset());

describe('EnsureRole with the deployment boundary', () => {
  it('CreateRole carries PermissionsBoundary', async () => {
    const f = await fixture();
    iamMock.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'nope', $metadata: {} }));
    iamMock.on(CreateRoleCommand).resolves(roleOf(f.item));
    await f.steps.ensureRole(f.input);
    expect(iamMock.commandCalls(CreateRoleCommand)[0]!.args[0].input.PermissionsBoundary).toBe(BOUNDARY);
  });

  it('an owned role without it gets it back (updated); with it: no write', async () => {
    const f = await fixture();
    iamMock.on(GetRoleCommand).resolves(roleOf(f.item));
    iamMock.on(PutRolePermissionsBoundaryCommand).resolves({});
    const out = await f.steps.ensureRole(f.input);
    expect(out.resources[0]).toMatchObject({ action: 'updated', detail: expect.stringContaining(`permissions boundary set to ${BOUNDARY}`) });
    expect(iamMock.commandCalls(PutRolePermissionsBoundaryCommand)[0]!.args[0].input).toEqual({ RoleName: f.item.role.name, PermissionsBoundary: BOUNDARY });

    iamMock.reset();
    iamMock
      .on(GetRoleCommand)
      .resolves(roleOf(f.item, { PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: BOUNDARY } }));
    const again = await f.steps.ensureRole(f.input);
    expect(again.resources[0]).toMatchObject({ action: 'unchanged' });
    expect(iamMock.commandCalls(PutRolePermissionsBoundaryCommand)).toHaveLength(0);
    expect(iamMock.commandCalls(TagRoleCommand)).toHaveLength(0);
  });

  it('another boundary is replaced by the deployment one', async () => {
    const f = await fixture();
    iamMock.on(GetRoleCommand).resolves(
      roleOf(f.item, {
        PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
      }),
    );
    iamMock.on(PutRolePermissionsBoundaryCommand).resolves({});
    const out = await f.steps.ensureRole(f.input);
    expect(out.resources[0]!.detail).toContain(`AdministratorAccess replaced by ${BOUNDARY}`);
  });
});

describe('AwsIam', () => {
  it('getRole reads PermissionsBoundary', async () => {
    const f = await fixture();
    iamMock
      .on(GetRoleCommand)
      .resolves(roleOf(f.item, { PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: BOUNDARY } }));
    const role = await new AwsIam(new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } })).getRole(f.item.role.name);
    expect(role?.permissionsBoundaryArn).toBe(BOUNDARY);
  });
});
