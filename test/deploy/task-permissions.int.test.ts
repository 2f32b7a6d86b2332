/**
 * Every AWS call each function makes is allowed by the IAM role that function has deployed.
 *
 * Locally every handler calls the sandbox with the same credentials, so a task calling an action
 * its deployed role lacks would only fail on real AWS (Plan's iam:GetRole was such a bug). Here the
 * whole local system (the ASL, the sandbox, dynalite) runs scenarios that exercise every task and
 * the drift paths; the sandbox records, with each IAM/EKS/STS call, the function it was made for
 * (`caller`, from the `x-iam-mapping-function` header the local runner and server set;
 * `targetsPerFunction` gives each function its own clients and caches, as each Lambda has its own
 * container). Each recorded call is mapped to what IAM authorises — the IAM action(s), the resource
 * ARN (a role's with its path; a GetRole of a role that does not exist against the path-less
 * `role/<name>`), and the condition keys the deployed policies test — and evaluated with
 * @cloud-copilot/iam-simulate against the PACKAGED template's role of that function (`osls
 * package`, offline). The test fails with the list of (function, action, resource) IAM would deny,
 * and with any call it cannot map (a new kind of call must be modelled here first).
 *
 * Not checked here: DynamoDB (dynalite, not the sandbox) and Kubernetes RBAC (EKS access entries,
 * not IAM); the Google Cloud steps reach only Google's APIs.
 */
import { CreatePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleNameFor } from '../../lib/provisioning/naming.js';
import { loadDefinition, taskStates } from '../../local/workflow-runner.js';
import type { CallRecord, Sandbox } from '../../local/sandbox/index.js';
import { templateEvaluator, type Template, type TemplateEvaluator } from '../helpers/iam-template.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { packagedTemplate } from '../helpers/osls.js';
import { awsClients } from '../sandbox/helpers.js';

const ACCOUNT = '123456789012'; // the sandbox's
const REGION = 'us-east-1';
const STAGE = 'ci';
const NS = 'anyscale-operator';
const ALLOWED = `arn:aws:iam::${ACCOUNT}:policy/ml-team-read`;
const CP = 'anyscale-control-plane';
const CONTROL_PLANE = `arn:aws:iam::${ACCOUNT}:role/${CP}`;
const ENV = { ALLOWED_POLICY_ARNS: ALLOWED, CONTROL_PLANE_ROLES: CONTROL_PLANE };

/**
 * Tasks of the ASL that make no IAM/EKS/STS call, and why (every other task must make one in the
 * scenarios, so a task left unexercised is noticed).
 */
const NO_AWS_CALLS: Record<string, string> = {
  provisionLoadPage: 'reads a plan page from DynamoDB',
  // The clusters' endpoints and CAs come with the plan (Plan's eks:DescribeCluster); deployed, its
  // Kubernetes bearer token is a presigned sts:GetCallerIdentity, which needs no permission.
  provisionEnsureServiceAccount: 'Kubernetes only (RBAC through an EKS access entry, not IAM)',
  provisionRecordItem: 'writes the item record (DynamoDB)',
  provisionRecordItemFailure: 'writes the item record (DynamoDB)',
  provisionRecordRunFailure: 'writes the run record (DynamoDB)',
  provisionGcpEnsureAccount: "Google's IAM API only",
  provisionGcpEnsureAccountPolicy: "Google's IAM API only",
  provisionGcpEnsureBucketAccess: "Google's Cloud Storage API only",
  provisionGcpEnsureServiceAccount: "the GKE cluster's Kubernetes API only",
};

/** What IAM authorises for one call: an action on a resource, with request context. */
interface Authorisation {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
}

/** The calls that need no permission at all. */
const UNAUTHORISED_CALLS = new Set(['sts:GetCallerIdentity']);

/** Tags of an IAM query (`Tags.member.N.Key` / `.Value`) as the request-tag condition keys. */
function iamTagContext(params: Readonly<Record<string, string | undefined>>): Record<string, string | string[]> {
  const keys: string[] = [];
  const context: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(params)) {
    const m = /^Tags\.member\.(\d+)\.Key$/.exec(k);
    if (!m || v === undefined) continue;
    keys.push(v);
    context[`aws:RequestTag/${v}`] = params[`Tags.member.${m[1]}.Value`] ?? '';
  }
  return keys.length ? { ...context, 'aws:TagKeys': keys } : {};
}

const tagKeysContext = (tagKeys: string | undefined): Record<string, string | string[]> => (tagKeys ? { 'aws:TagKeys': tagKeys.split(',') } : {});

const listParam = (params: Readonly<Record<string, string | undefined>>, prefix: string) =>
  Object.entries(params)
    .filter(([k, v]) => k.startsWith(`${prefix}.member.`) && v !== undefined)
    .map(([, v]) => v as string);

/**
 * What IAM authorises for a recorded call (undefined: not modelled). `pathOf` gives the path of a
 * role / instance profile that exists (or existed) by name.
 */
function authorisationsOf(call: CallRecord, pathOf: (kind: 'role' | 'instance-profile', name: string) => string): Authorisation[] | undefined {
  const p = call.params;
  // A role / instance profile that does not exist is authorised against the path-less ARN: a Get of
  // one answering NoSuchEntity; for other calls (GetRolePolicy of a missing policy answers
  // NoSuchEntity too, on a role that exists) the path of the role when it was ever seen.
  const getsMissing = call.errorCode === 'NoSuchEntity' && (call.action === 'GetRole' || call.action === 'GetInstanceProfile');
  const roleArn = (name = p.RoleName ?? '', path = getsMissing ? '/' : pathOf('role', name)) => `arn:aws:iam::${ACCOUNT}:role${path}${name}`;
  const profileArn = (name = p.InstanceProfileName ?? '', path = getsMissing ? '/' : pathOf('instance-profile', name)) =>
    `arn:aws:iam::${ACCOUNT}:instance-profile${path}${name}`;
  const cluster = `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${p.name ?? ''}`;
  const association = `arn:aws:eks:${REGION}:${ACCOUNT}:podidentityassociation/${p.name ?? ''}/${p.associationId ?? ''}`;
  const one = (action: string, resource: string, context: Record<string, string | string[]> = {}): Authorisation[] => [{ action, resource, context }];
  if (call.service === 'iam') {
    const action = `iam:${call.action}`;
    switch (call.action) {
      case 'CreateRole': {
        const arn = roleArn(p.RoleName, p.Path ?? '/');
        const tags = iamTagContext(p);
        const context = { ...(p.PermissionsBoundary ? { 'iam:PermissionsBoundary': p.PermissionsBoundary } : {}), ...tags };
        // Tags at creation need iam:TagRole as well (IAM's documented rule for tag-on-create).
        return [{ action, resource: arn, context }, ...(Object.keys(tags).length ? [{ action: 'iam:TagRole', resource: arn, context: tags }] : [])];
      }
      case 'PutRolePermissionsBoundary':
        return one(action, roleArn(), p.PermissionsBoundary ? { 'iam:PermissionsBoundary': p.PermissionsBoundary } : {});
      case 'AttachRolePolicy':
      case 'DetachRolePolicy':
        return one(action, roleArn(), p.PolicyArn ? { 'iam:PolicyARN': p.PolicyArn } : {});
      case 'TagRole':
        return one(action, roleArn(), iamTagContext(p));
      case 'UntagRole':
        return one(action, roleArn(), { 'aws:TagKeys': listParam(p, 'TagKeys') });
      case 'GetRole':
      case 'UpdateAssumeRolePolicy':
      case 'UpdateRole':
      case 'UpdateRoleDescription':
      case 'ListRoleTags':
      case 'PutRolePolicy':
      case 'GetRolePolicy':
      case 'DeleteRolePolicy':
      case 'ListRolePolicies':
      case 'ListAttachedRolePolicies':
      case 'DeleteRolePermissionsBoundary':
      case 'DeleteRole':
      case 'ListInstanceProfilesForRole':
        return one(action, roleArn());
      case 'CreateInstanceProfile': {
        const arn = profileArn(p.InstanceProfileName, p.Path ?? '/');
        const tags = iamTagContext(p);
        return [
          { action, resource: arn, context: tags },
          ...(Object.keys(tags).length ? [{ action: 'iam:TagInstanceProfile', resource: arn, context: tags }] : []),
        ];
      }
      case 'TagInstanceProfile':
        return one(action, profileArn(), iamTagContext(p));
      case 'UntagInstanceProfile':
        return one(action, profileArn(), { 'aws:TagKeys': listParam(p, 'TagKeys') });
      case 'GetInstanceProfile':
      case 'DeleteInstanceProfile':
      case 'RemoveRoleFromInstanceProfile':
      case 'ListInstanceProfileTags':
        return one(action, profileArn());
      case 'AddRoleToInstanceProfile':
        // Adding a role to an instance profile also needs iam:PassRole on the role (IAM's dependent
        // action), modelled with the service the profile's role is for: EC2.
        return [
          { action, resource: profileArn(), context: {} },
          { action: 'iam:PassRole', resource: roleArn(p.RoleName, pathOf('role', p.RoleName ?? '')), context: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
        ];
      case 'SimulatePrincipalPolicy':
        return one(action, p.PolicySourceArn ?? '');
      case 'GetOpenIDConnectProvider':
        return one(action, p.OpenIDConnectProviderArn ?? '');
      case 'GetPolicy':
      case 'GetPolicyVersion':
        return one(action, p.PolicyArn ?? '');
      case 'ListOpenIDConnectProviders':
      case 'GetAccountAuthorizationDetails':
      case 'ListRoles':
      case 'ListInstanceProfiles':
      case 'ListPolicies':
        return one(action, '*');
      default:
        return undefined;
    }
  }
  if (call.service === 'eks') {
    const action = `eks:${call.action}`;
    switch (call.action) {
      case 'DescribeCluster':
      case 'ListAddons':
      case 'ListPodIdentityAssociations':
        return one(action, cluster);
      case 'DescribeAddon':
        // An add-on's ARN ends in a generated id; the policies grant addon/* (any id decides the same).
        return one(action, `arn:aws:eks:${REGION}:${ACCOUNT}:addon/${p.name ?? ''}/${p.addonName ?? ''}/00000000-0000-0000-0000-000000000000`);
      case 'CreatePodIdentityAssociation': {
        const tagKeys = tagKeysContext(p.tagKeys);
        return [
          { action, resource: cluster, context: tagKeys },
          // The association's role is passed to EKS Pod Identity.
          ...(p.roleArn ? [{ action: 'iam:PassRole', resource: p.roleArn, context: { 'iam:PassedToService': 'pods.eks.amazonaws.com' } }] : []),
          // Tags at creation: eks:TagResource on the new association (its id is generated; the policies grant podidentityassociation/*).
          ...(p.tagKeys
            ? [{ action: 'eks:TagResource', resource: `arn:aws:eks:${REGION}:${ACCOUNT}:podidentityassociation/${p.name ?? ''}/a-new`, context: tagKeys }]
            : []),
        ];
      }
      case 'UpdatePodIdentityAssociation':
        return [
          { action, resource: association, context: {} },
          ...(p.roleArn ? [{ action: 'iam:PassRole', resource: p.roleArn, context: { 'iam:PassedToService': 'pods.eks.amazonaws.com' } }] : []),
        ];
      case 'DescribePodIdentityAssociation':
      case 'DeletePodIdentityAssociation':
        return one(action, association);
      case 'TagResource':
        return one(action, p.resourceArn ?? '', tagKeysContext(p.tagKeys));
      case 'UntagResource':
      case 'ListTagsForResource':
        return one(action, p.resourceArn ?? '');
      default:
        return undefined;
    }
  }
  return undefined;
}

let h: Harness;
let sandbox: Sandbox;
let evaluator: TemplateEvaluator;
const savedEnv: Record<string, string | undefined> = {};
/** Paths of every role / instance profile seen, by name (some are deleted by the end). */
const paths = { role: new Map<string, string>(), 'instance-profile': new Map<string, string>() };
const rememberPaths = () => {
  for (const r of sandbox.iam.listRoles()) paths.role.set(r.roleName, r.path);
  for (const ip of sandbox.iam.listInstanceProfiles()) paths['instance-profile'].set(ip.name, ip.path);
};

async function put(cloud: string, body: string, expected = 'SUCCEEDED'): Promise<any> {
  const res = await h.api('PUT', `/v1/clouds/${cloud}/iam-mapping`, { body });
  expect(res.status, res.text).toBe(200);
  await h.server.workflow.idle();
  rememberPaths();
  const run = await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/provisioning`);
  expect(run.json.status, run.text).toBe(expected);
  return run.json;
}

async function repair(cloud: string): Promise<any> {
  rememberPaths();
  const res = await h.api('POST', `/v1/clouds/${cloud}/drift-checks`, { body: { repair: true }, contentType: 'application/json' });
  expect(res.status, res.text).toBe(200);
  await h.server.workflow.idle();
  rememberPaths();
  return res.json;
}

const kinds = (report: any): string[] => report.findings.map((f: any) => f.kind as string);

function eks(cloud: string, sas: string[], provisioning: string): string {
  const rules = sas.map((sa, i) => `    - selector: workload-type in (job),user=u${i}@example.com\n      value: ${sa}`).join('\n');
  return `cloud_deployment_id: ${cloud}
cloud_provider: AWS
compute_stack: K8S
dataplane_iam_mapping:
  rules:
${rules}
  fallback_rule: FAIL
provisioning:
${provisioning}
`;
}

function vm(cloud: string, profiles: string[], provisioning: string): string {
  const rules = profiles.map((v, i) => `    - selector: project=p${i}\n      value: ${v}`).join('\n');
  return `cloud_deployment_id: ${cloud}
cloud_provider: AWS
compute_stack: VM
dataplane_iam_mapping:
  rules:
${rules}
  fallback_rule: FAIL
provisioning:
${provisioning}
`;
}

beforeAll(async () => {
  const template = await packagedTemplate<Template>({ stage: STAGE, env: ENV });
  evaluator = templateEvaluator(template, { account: ACCOUNT, region: REGION, stage: STAGE });
  for (const [k, v] of Object.entries(ENV)) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
  h = await startHarness({
    targetsPerFunction: true,
    driftIntervalSeconds: 0,
    workflow: { retryIntervalMs: 5, waitMs: 5 },
    // The sandbox's boundary is the packaged stack's (same name), so CreateRole's iam:PermissionsBoundary is the one the policy names.
    sandbox: { permissionsBoundary: { policyName: `iam-mapping-${STAGE}-workload-boundary` } },
  });
  sandbox = h.server.sandbox!;
  const clients = awsClients(h.server.url);
  await clients.iam.send(
    new CreatePolicyCommand({
      PolicyName: 'ml-team-read',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }),
    }),
  );
  // The control plane's role, as an operator makes it (no PassRole grant: the run warns, drift reports it).
  sandbox.iam.createRole({
    roleName: CP,
    path: '/',
    assumeRolePolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::525325868955:root' }, Action: 'sts:AssumeRole' }],
    }),
  });
}, 300_000);

afterAll(async () => {
  await h?.stop();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('every AWS call of every function is allowed by its deployed role', () => {
  it('IRSA: create, rename (lingering claims), plan, drift repair with delete_orphans after tampering', async () => {
    const cloud = 'cld_perm_irsa';
    const extra = `  service_accounts:\n    sa-b:\n      extra_policy_arns: [${ALLOWED}]`;
    await put(cloud, eks(cloud, ['sa-a', 'sa-b', 'sa-gone'], extra));
    // sa-gone's role deleted by hand: Plan's question whether its claimed name still exists is a GetRole of a missing role.
    const gone = roleNameFor('iam-mapping-', cloud, 'sa-gone');
    for (const name of sandbox.iam.listRolePolicies(gone)) sandbox.iam.deleteRolePolicy(gone, name);
    sandbox.iam.deleteRole(gone);
    // sa-b and sa-gone dropped, sa-c new: their claims linger (Plan asks whether their names still exist).
    await put(cloud, eks(cloud, ['sa-a', 'sa-c'], '  drift: { mode: repair, delete_orphans: true }'));
    // The plan route (the drift function) over a draft.
    const plan = await h.api('POST', `/v1/clouds/${cloud}/iam-mapping/plan`, {
      body: eks(cloud, ['sa-a', 'sa-d'], '  drift: { mode: report }'),
      contentType: 'application/yaml',
    });
    expect(plan.status, plan.text).toBe(200);

    const a = roleNameFor('iam-mapping-', cloud, 'sa-a');
    const c = roleNameFor('iam-mapping-', cloud, 'sa-c');
    const trust = JSON.parse(sandbox.iam.getRole(a).assumeRolePolicyDocument);
    trust.Statement.push({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'sts:AssumeRole' });
    sandbox.iam.updateAssumeRolePolicy(a, JSON.stringify(trust));
    sandbox.iam.deleteRolePermissionsBoundary(a);
    for (const name of sandbox.iam.listRolePolicies(c)) sandbox.iam.deleteRolePolicy(c, name);
    sandbox.iam.deleteRole(c);
    sandbox.k8s.remove('serviceaccounts', NS, 'sa-a', undefined);
    const report = await repair(cloud);
    expect(kinds(report)).toEqual(expect.arrayContaining(['trust-policy-foreign-statement', 'role-missing', 'orphan-role', 'service-account-missing']));
    expect(sandbox.iam.findRole(c)).toBeDefined();
    expect(sandbox.iam.findRole(roleNameFor('iam-mapping-', cloud, 'sa-b'))).toBeUndefined();
  });

  it('AWS VM: instance profiles, the pass-role check, rename, drift repair with delete_orphans', async () => {
    const cloud = 'cld_perm_vm';
    const run = await put(cloud, vm(cloud, ['ip-one', 'ip-two', 'ip-gone'], `  control_plane_role: ${CP}`));
    expect(run.warnings?.[0]?.code).toBe('PASS_ROLE_DENIED');
    // ip-gone deleted by hand before it is dropped: Plan's GetInstanceProfile of a missing one.
    for (const r of sandbox.iam.rolesOf(sandbox.iam.getInstanceProfile('ip-gone'))) sandbox.iam.removeRoleFromInstanceProfile('ip-gone', r.roleName);
    sandbox.iam.deleteInstanceProfile('ip-gone');
    await put(cloud, vm(cloud, ['ip-one', 'ip-three'], `  control_plane_role: ${CP}\n  drift: { mode: repair, delete_orphans: true }`));
    const one = sandbox.iam.getInstanceProfile('ip-one');
    for (const r of sandbox.iam.rolesOf(one)) sandbox.iam.removeRoleFromInstanceProfile('ip-one', r.roleName);
    for (const r of sandbox.iam.rolesOf(sandbox.iam.getInstanceProfile('ip-three'))) sandbox.iam.removeRoleFromInstanceProfile('ip-three', r.roleName);
    sandbox.iam.deleteInstanceProfile('ip-three');
    const report = await repair(cloud);
    expect(kinds(report)).toEqual(expect.arrayContaining(['instance-profile-missing', 'orphan-instance-profile', 'pass-role-denied']));
    expect(sandbox.iam.rolesOf(sandbox.iam.getInstanceProfile('ip-three'))).toHaveLength(1);
  });

  it('EKS Pod Identity: associations, a namespace dropped, drift repair with delete_orphans, the move back to IRSA', async () => {
    const cloud = 'cld_perm_podid';
    await put(cloud, eks(cloud, ['pi-a', 'pi-b'], '  mechanism: pod-identity\n  namespaces: [anyscale-operator, default]'));
    // The namespace `default` dropped (EnsureAssociation deletes ours there), pi-b dropped (its association goes with the orphan).
    await put(cloud, eks(cloud, ['pi-a'], '  mechanism: pod-identity\n  drift: { mode: repair, delete_orphans: true }'));
    const podsTrust = { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] };
    sandbox.iam.createRole({ roleName: 'other', path: '/', assumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [podsTrust] }) });
    const mine = sandbox.eks.podIdentity.all().find((x) => x.serviceAccount === 'pi-a' && x.namespace === NS)!;
    sandbox.eks.podIdentity.update('sandbox', mine.associationId, { roleArn: `arn:aws:iam::${ACCOUNT}:role/other` });
    const report = await repair(cloud);
    expect(kinds(report)).toEqual(expect.arrayContaining(['association-role-mismatch', 'orphan-service-account']));
    expect(sandbox.eks.podIdentity.all().filter((x) => x.serviceAccount === 'pi-b')).toEqual([]);
    // Back to IRSA: FinishMigration deletes the associations and rewrites the trust.
    await put(cloud, eks(cloud, ['pi-a'], '  mechanism: irsa'));
    expect(sandbox.eks.podIdentity.all().filter((x) => x.serviceAccount === 'pi-a')).toEqual([]);
  });

  it('the scheduled drift pass (driftSchedule)', async () => {
    const outcome = await h.server.runDriftSchedule();
    expect(outcome.errors).toEqual([]);
    expect(outcome.checked.length).toBeGreaterThan(0);
    await h.server.workflow.idle();
    rememberPaths();
  });

  it('… and each call, as IAM would authorise it, is allowed by the caller function’s role in the packaged template', async () => {
    const calls = sandbox.calls.entries.filter((c) => c.service === 'iam' || c.service === 'eks' || c.service === 'sts');
    const unattributed = calls.filter((c) => !c.caller);
    // Only this test's own set-up (the allow-listed policy) is made without a function.
    expect(unattributed.map((c) => `${c.service}:${c.action}`)).toEqual(['iam:CreatePolicy']);
    // The operator's view says the same (GET /sandbox/calls).
    const listed = (await (await fetch(`${h.server.url}/sandbox/calls?since=0`)).json()) as { calls: Array<{ seq: number; caller?: string }> };
    const bySeq = new Map(listed.calls.map((c) => [c.seq, c.caller]));
    expect(calls.every((c) => bySeq.get(c.seq) === c.caller)).toBe(true);
    const pathOf = (kind: 'role' | 'instance-profile', name: string) => paths[kind].get(name) ?? '/';
    const unmapped = new Set<string>();
    const checks = new Map<string, { fn: string; role: string } & Authorisation>();
    const byFunction = new Map<string, Set<string>>();
    for (const call of calls.filter((c) => c.caller)) {
      const fn = call.caller!;
      const key = `${call.service}:${call.action}`;
      byFunction.set(fn, (byFunction.get(fn) ?? new Set()).add(key));
      if (UNAUTHORISED_CALLS.has(key)) continue;
      const auths = authorisationsOf(call, pathOf);
      if (!auths) {
        unmapped.add(`${fn} ${key}`);
        continue;
      }
      for (const auth of auths) {
        const role = evaluator.functionRole(fn);
        checks.set(JSON.stringify([fn, auth.action, auth.resource, auth.context]), { fn, role, ...auth });
      }
    }
    expect([...unmapped], 'calls this test does not know how IAM authorises: model them in authorisationsOf').toEqual([]);
    // The modelling reached the conditions the policies test (else an Allow might hold only for want of them).
    const modelled = [...checks.values()].map((c) => `${c.action} ${Object.keys(c.context).sort().join(',')}`);
    for (const expected of [
      /^iam:CreateRole .*iam:PermissionsBoundary/,
      /^iam:TagRole aws:RequestTag\//,
      /^iam:AttachRolePolicy iam:PolicyARN$/,
      /^iam:PassRole iam:PassedToService$/,
      /^eks:TagResource aws:TagKeys$/,
    ])
      expect(
        modelled.some((m) => expected.test(m)),
        String(expected),
      ).toBe(true);
    expect([...checks.values()].some((c) => c.action === 'iam:PassRole' && c.context['iam:PassedToService'] === 'pods.eks.amazonaws.com')).toBe(true);
    expect([...checks.values()].some((c) => c.action === 'iam:PassRole' && c.context['iam:PassedToService'] === 'ec2.amazonaws.com')).toBe(true);
    // Reads of what does not exist (authorised against path-less ARNs) were among them: before a create, and Plan's of lingering claims.
    const pathless = (fn: string, action: string) =>
      [...checks.values()].some((c) => c.fn === fn && c.action === action && !/:(role|instance-profile)\/iam-mapping\//.test(c.resource));
    for (const [fn, action] of [
      ['provisionEnsureRole', 'iam:GetRole'],
      ['provisionEnsureInstanceProfile', 'iam:GetInstanceProfile'],
      ['provisionPlan', 'iam:GetRole'],
      ['provisionPlan', 'iam:GetInstanceProfile'],
      ['drift', 'iam:GetInstanceProfile'],
    ] as const)
      expect(pathless(fn, action), `${fn} ${action} of a missing one`).toBe(true);
    const denied: string[] = [];
    for (const check of checks.values()) {
      const decision = await evaluator.decide(check.role, check.action, check.resource, check.context);
      if (decision !== 'Allowed')
        denied.push(
          `${check.fn} (${check.role}): ${check.action} on ${check.resource}${Object.keys(check.context).length ? ` ${JSON.stringify(check.context)}` : ''} — ${decision}`,
        );
    }
    expect(denied, 'calls the deployed role would refuse').toEqual([]);

    // Every task the ASL names made a call (or is listed as making none), and the drift functions did.
    const tasks = [...new Set(taskStates(loadDefinition()).map((t) => t.fn))];
    const silent = tasks.filter((fn) => !byFunction.has(fn) && !(fn in NO_AWS_CALLS));
    expect(silent, 'tasks the scenarios never saw call AWS').toEqual([]);
    const chatty = Object.keys(NO_AWS_CALLS).filter((fn) => byFunction.has(fn));
    expect(chatty, 'tasks listed as making no AWS call that made one').toEqual([]);
    for (const fn of ['drift', 'driftSchedule']) expect(byFunction.has(fn), fn).toBe(true);
    console.log(
      `checked ${checks.size} distinct authorisations of ${calls.length} calls:\n` +
        [...byFunction].map(([fn, actions]) => `  ${fn} (${evaluator.functionRole(fn)}): ${[...actions].sort().join(', ')}`).join('\n'),
    );
  });
});
