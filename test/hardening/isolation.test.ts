/**
 * Isolation between clouds sharing one AWS account and one cluster (the default of `npm start`):
 * every attack of the isolation issue that concerns ownership, conflicts and lingering
 * identities, run over HTTP against the local server, must be refused with an error naming the
 * other cloud and leave that cloud's roles, trust policies, tags, ServiceAccounts and annotations
 * exactly as they were — read back with the AWS CLI and kubectl (through the sandbox's own API
 * when a binary is missing). Every trust policy the service wrote is then evaluated with
 * @cloud-copilot/iam-simulate: the intended SA allowed; another cloud's SA, another namespace, a
 * wrong aud and another cluster denied.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleNameFor } from '../../lib/provisioning/naming.js';
import { CLOUD_LABEL, CLOUD_TAG, MANAGED_BY_LABEL, MANAGED_BY_TAG, MANAGER, ROLE_ARN_ANNOTATION } from '../../lib/provisioning/ownership.js';
import { awsCliEnv, onPath } from '../helpers/cli-env.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { webIdentityAllowed } from '../helpers/trust-simulate.js';

const run = promisify(execFile);
const NS = 'anyscale-operator';
const A = 'cldrsrc_alpha';
const B = 'cldrsrc_beta';
const C = 'cldrsrc_gamma';
const D = 'cldrsrc_delta';
const useCli = onPath('aws') && onPath('kubectl');

function config(cloud: string, stack: 'K8S' | 'VM', values: string[], provisioning = ''): string {
  const rules = values.map((v, i) => `    - selector: user=u${i}@example.com\n      value: ${v}`).join('\n');
  return (
    `cloud_deployment_id: ${cloud}\ncloud_provider: AWS\ncompute_stack: ${stack}\ndataplane_iam_mapping:\n  rules:\n${rules}\n  fallback_rule: CLOUD_DEFAULT\n` +
    (provisioning ? `provisioning:\n${provisioning}\n` : '')
  );
}

describe('isolation between clouds on one account and one cluster', { timeout: 240_000 }, () => {
  let h: Harness;
  let dir: string;

  const aws = async (...args: string[]): Promise<any> => {
    if (!useCli) throw new Error('aws CLI missing');
    try {
      const { stdout } = await run('aws', ['--endpoint-url', `${h.server.url}/sandbox/aws`, '--output', 'json', ...args], {
        env: awsCliEnv(dir),
        timeout: 60_000,
      });
      return stdout.trim() ? JSON.parse(stdout) : null;
    } catch (e) {
      throw new Error(`aws ${args.join(' ')}: ${(e as { stderr?: string }).stderr ?? String(e)}`);
    }
  };
  const kubectl = async (...args: string[]): Promise<any> => {
    const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') };
    const base = ['--server', `${h.server.url}/sandbox/k8s`, '--insecure-skip-tls-verify', '--cache-dir', join(dir, 'cache')];
    const { stdout } = await run('kubectl', [...base, ...args], { env, timeout: 30_000 });
    return stdout.trim().startsWith('{') ? JSON.parse(stdout) : stdout;
  };

  /** The other clouds' identities: each role (trust, tags, inline and attached policies), instance profile and ServiceAccount, as an admin reads them. */
  const WATCHED_ROLES = () => [
    roleNameFor('iam-mapping-', A, 'shared'),
    roleNameFor('iam-mapping-', A, 'alpha-only'),
    roleNameFor('iam-mapping-', C, 'prof-c'),
  ];
  async function snapshot(): Promise<any> {
    const roles = Object.fromEntries(
      await Promise.all(
        WATCHED_ROLES().map(async (name) => {
          const [role, inline, attached] = await Promise.all([
            aws('iam', 'get-role', '--role-name', name),
            aws('iam', 'list-role-policies', '--role-name', name),
            aws('iam', 'list-attached-role-policies', '--role-name', name),
          ]);
          return [
            name,
            {
              id: role.Role.RoleId,
              trust: role.Role.AssumeRolePolicyDocument,
              tags: role.Role.Tags,
              inline: inline.PolicyNames,
              attached: attached.AttachedPolicies,
            },
          ];
        }),
      ),
    );
    const profile = (await aws('iam', 'get-instance-profile', '--instance-profile-name', 'prof-c')).InstanceProfile;
    const profiles = { 'prof-c': { id: profile.InstanceProfileId, roles: profile.Roles.map((r: any) => r.RoleName), tags: profile.Tags } };
    const sas = Object.fromEntries(
      (await kubectl('get', 'serviceaccounts', '-n', NS, '-o', 'json')).items.map((s: any) => [
        s.metadata.name,
        { uid: s.metadata.uid, labels: s.metadata.labels ?? {}, annotations: s.metadata.annotations ?? {} },
      ]),
    );
    return { roles, profiles, sas };
  }

  const ofCloud = (snap: any, cloud: string) => ({
    roles: Object.fromEntries(Object.entries(snap.roles).filter(([, r]: any) => r.tags.some((t: any) => t.Key === CLOUD_TAG && t.Value === cloud))),
    profiles: snap.profiles,
    sas: Object.fromEntries(Object.entries(snap.sas).filter(([, s]: any) => s.labels[CLOUD_LABEL] === cloud)),
  });

  async function putAndRun(cloud: string, body: string, query = ''): Promise<any> {
    const res = await h.api('PUT', `/v1/clouds/${cloud}/iam-mapping${query}`, { body });
    expect(res.status, res.text).toBe(200);
    await h.server.workflow.idle();
    return (await h.api('GET', `/v1/clouds/${cloud}/iam-mapping/provisioning`)).json;
  }
  const itemError = (status: any, name: string): string => status.items.find((i: any) => i.name === name)?.error?.message ?? '';

  let before: any;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'isolation-'));
    writeFileSync(join(dir, 'kubeconfig'), '');
    h = await startHarness({ driftIntervalSeconds: 0 });
    // Cloud A, as its admins set it up: two ServiceAccounts on the default cluster and namespace.
    const status = await putAndRun(A, config(A, 'K8S', ['shared', 'alpha-only']));
    expect(status.status, JSON.stringify(status)).toBe('SUCCEEDED');
    // Cloud C (VM): an instance profile.
    expect((await putAndRun(C, config(C, 'VM', ['prof-c']))).status).toBe('SUCCEEDED');
    if (useCli) before = await snapshot();
  }, 240_000);
  afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const expectUntouched = async () => {
    if (!useCli) return;
    const now = await snapshot();
    expect(ofCloud(now, A)).toEqual(ofCloud(before, A));
    expect(ofCloud(now, C)).toEqual(ofCloud(before, C));
  };

  it.skipIf(!useCli)(
    "adopt_role on another cloud's role: refused at plan naming the owner, never suggesting adoption; delete_orphans deletes nothing of it",
    async () => {
      const victim = roleNameFor('iam-mapping-', A, 'alpha-only');
      const status = await putAndRun(
        B,
        config(
          B,
          'K8S',
          ['beta'],
          `  service_accounts:\n    beta:\n      role_name: ${victim}\n      adopt_role: true\n  drift: { mode: repair, delete_orphans: true }`,
        ),
      );
      expect(status.status).toBe('FAILED');
      const message = itemError(status, 'beta');
      expect(message).toContain(`cloud ${A}`);
      expect(message).toContain(`IAM role ${victim}`);
      expect(message).not.toMatch(/adopt_role: true/);
      expect(status.resources).toContainEqual(expect.objectContaining({ kind: 'iam-role', name: victim, action: 'failed' }));
      // The same name in another case is the same IAM role.
      const upper = await putAndRun(
        B,
        config(B, 'K8S', ['beta'], `  service_accounts:\n    beta:\n      role_name: ${victim.toUpperCase()}\n      adopt_role: true`),
      );
      expect(itemError(upper, 'beta')).toContain(`cloud ${A}`);
      const drift = await h.api('POST', `/v1/clouds/${B}/drift-checks`, { body: { repair: true }, contentType: 'application/json' });
      expect(drift.status, drift.text).toBe(200);
      await h.server.workflow.idle();
      await expectUntouched();
    },
  );

  it.skipIf(!useCli)('adopt_service_account / the same ServiceAccount name: refused before any role is created', async () => {
    for (const extra of ['', `  service_accounts:\n    shared:\n      adopt_service_account: true`]) {
      const status = await putAndRun(B, config(B, 'K8S', ['shared'], extra));
      expect(status.status).toBe('FAILED');
      const message = itemError(status, 'shared');
      expect(message).toContain(`ServiceAccount ${NS}/shared`);
      expect(message).toContain(`cloud ${A}`);
      expect(message).not.toMatch(/adopt_service_account: true/);
      // No role of B was made for it (so none trusts A's ServiceAccount).
      await expect(aws('iam', 'get-role', '--role-name', roleNameFor('iam-mapping-', B, 'shared'))).rejects.toThrow(/NoSuchEntity/);
    }
    await expectUntouched();
  });

  it.skipIf(!useCli)('a ServiceAccount labelled for another cloud (made outside any claim) is not taken either', async () => {
    // Made by hand with cloud A's labels (no claim, no inventory record).
    writeFileSync(
      join(dir, 'legacy.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: {
          name: 'legacy',
          namespace: NS,
          labels: { [MANAGED_BY_LABEL]: MANAGER, [CLOUD_LABEL]: A },
          annotations: { [ROLE_ARN_ANNOTATION]: 'arn:aws:iam::000000000000:role/a' },
        },
      }),
    );
    await kubectl('create', '--validate=false', '-f', join(dir, 'legacy.json'));
    const saBefore = (await kubectl('get', 'sa', 'legacy', '-n', NS, '-o', 'json')).metadata;
    const status = await putAndRun(B, config(B, 'K8S', ['legacy'], `  service_accounts:\n    legacy:\n      adopt_service_account: true`));
    expect(status.status).toBe('FAILED');
    expect(itemError(status, 'legacy')).toContain(`belongs to cloud ${A}`);
    await expect(aws('iam', 'get-role', '--role-name', roleNameFor('iam-mapping-', B, 'legacy'))).rejects.toThrow(/NoSuchEntity/);
    const saAfter = (await kubectl('get', 'sa', 'legacy', '-n', NS, '-o', 'json')).metadata;
    expect(saAfter.annotations).toEqual(saBefore.annotations);
    expect(saAfter.labels).toEqual(saBefore.labels);
    await kubectl('delete', 'sa', 'legacy', '-n', NS);
  });

  it.skipIf(!useCli)("adopt_instance_profile on another cloud's instance profile: refused naming the owner", async () => {
    const status = await putAndRun(
      D,
      config(D, 'VM', ['prof-c'], `  service_accounts:\n    prof-c:\n      adopt_instance_profile: true\n      adopt_role: true`),
    );
    expect(status.status).toBe('FAILED');
    const message = itemError(status, 'prof-c');
    expect(message).toContain(`cloud ${C}`);
    expect(message).not.toMatch(/adopt_instance_profile: true/);
    await expectUntouched();
  });

  it('names IAM treats as one: Prof and prof in one config → 400 naming both rules', async () => {
    const res = await h.api('PUT', `/v1/clouds/${D}/iam-mapping`, { body: config(D, 'VM', ['Prof', 'prof']) });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('INVALID_CONFIG');
    expect(res.json.error.details).toContainEqual(expect.objectContaining({ path: 'dataplane_iam_mapping.rules[1].value', rule_index: 1 }));
    const detail = res.json.error.details.find((d: any) => d.rule_index === 1);
    expect(detail.message).toMatch(/rule 1 value "prof" and rule 0 value "Prof" differ only in case/);
  });

  it('role-name prefixes cannot squat another cloud: an ambiguous prefix is refused, generated names never meet', async () => {
    const bad = await h.api('PUT', `/v1/clouds/pb/iam-mapping`, { body: config('pb', 'K8S', ['x'], '  role_name_prefix: iam-mapping-pa.') });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details).toContainEqual(expect.objectContaining({ path: 'provisioning.role_name_prefix' }));
    // The squat of the issue: cloud pb with prefix iam-mapping-pa- and SA x vs cloud pa's SA pb-x.
    expect(roleNameFor('iam-mapping-pa-', 'pb', 'x').toLowerCase()).not.toBe(roleNameFor('iam-mapping-', 'pa', 'pb-x').toLowerCase());
    const pa = await putAndRun('pa', config('pa', 'K8S', ['pb-x']));
    const pb = await putAndRun('pb', config('pb', 'K8S', ['x'], '  role_name_prefix: iam-mapping-pa-'));
    expect(pa.status, JSON.stringify(pa)).toBe('SUCCEEDED');
    expect(pb.status, JSON.stringify(pb)).toBe('SUCCEEDED');
    const roleOf = (s: any) => s.resources.find((r: any) => r.kind === 'iam-role').name;
    expect(roleOf(pa).toLowerCase()).not.toBe(roleOf(pb).toLowerCase());
  });

  it.skipIf(!useCli)('ownership tags copied onto a hand-made role are not ownership: never adopted, changed or deleted', async () => {
    const forged = roleNameFor('iam-mapping-', A, 'forged');
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole' }] };
    writeFileSync(join(dir, 'forged.json'), JSON.stringify(trust));
    await aws(
      'iam',
      'create-role',
      '--role-name',
      forged,
      '--path',
      '/iam-mapping/',
      '--assume-role-policy-document',
      `file://${join(dir, 'forged.json')}`,
      '--tags',
      `Key=${MANAGED_BY_TAG},Value=${MANAGER}`,
      `Key=${CLOUD_TAG},Value=${A}`,
    );
    const made = (await aws('iam', 'get-role', '--role-name', forged)).Role;
    // Cloud A's config now names it: the role is left alone (no record of creating it).
    const status = await putAndRun(A, config(A, 'K8S', ['shared', 'alpha-only', 'forged']));
    expect(status.status).toBe('FAILED');
    expect(itemError(status, 'forged')).toMatch(/inventory has no record of creating it/);
    // And as an orphan of A with delete_orphans: reported, not deleted.
    expect((await putAndRun(A, config(A, 'K8S', ['shared', 'alpha-only'], '  drift: { mode: repair, delete_orphans: true }'))).status).toBe('SUCCEEDED');
    const drift = await h.api('POST', `/v1/clouds/${A}/drift-checks`, { body: { repair: true }, contentType: 'application/json' });
    expect(drift.status, drift.text).toBe(200);
    expect(drift.json.repair?.deleted ?? []).not.toContain(`iam-role ${forged}`);
    await h.server.workflow.idle();
    const after = (await aws('iam', 'get-role', '--role-name', forged)).Role;
    expect(after.RoleId).toBe(made.RoleId);
    expect(after.AssumeRolePolicyDocument).toEqual(made.AssumeRolePolicyDocument);
    await aws('iam', 'delete-role', '--role-name', forged);
    before = await snapshot();
  });

  it.skipIf(!useCli)('a change of compute_stack needs confirmation; then the old identities are listed as lingering', async () => {
    const E = 'cldrsrc_eps';
    expect((await putAndRun(E, config(E, 'K8S', ['eps-sa']))).status).toBe('SUCCEEDED');
    const refused = await h.api('PUT', `/v1/clouds/${E}/iam-mapping`, { body: config(E, 'VM', ['eps-prof']) });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('CONFLICT');
    expect(refused.json.error.message).toContain('from AWS/K8S to AWS/VM');
    expect(refused.json.error.message).toContain('confirm_stack_change=true');
    const viaHeader = await h.api('PUT', `/v1/clouds/${E}/iam-mapping`, { body: config(E, 'VM', ['eps-prof']), headers: { 'x-confirm-stack-change': 'true' } });
    expect(viaHeader.status, viaHeader.text).toBe(200);
    expect(viaHeader.json.warnings).toContainEqual(expect.objectContaining({ code: 'STACK_CHANGED', path: 'compute_stack' }));
    await h.server.workflow.idle();
    const status = (await h.api('GET', `/v1/clouds/${E}/iam-mapping/provisioning`)).json;
    expect(status.status).toBe('SUCCEEDED');
    expect(status.lingering).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'iam-role', name: roleNameFor('iam-mapping-', E, 'eps-sa'), action: 'left-alone' }),
        expect.objectContaining({ kind: 'service-account', name: 'eps-sa', namespace: NS, action: 'left-alone' }),
      ]),
    );
    // The old identities are still there, untouched.
    expect((await aws('iam', 'get-role', '--role-name', roleNameFor('iam-mapping-', E, 'eps-sa'))).Role.RoleName).toBeTruthy();
    // Back with ?confirm_stack_change=true.
    const back = await h.api('PUT', `/v1/clouds/${E}/iam-mapping?confirm_stack_change=true`, { body: config(E, 'K8S', ['eps-sa']) });
    expect(back.status, back.text).toBe(200);
    await h.server.workflow.idle();
  });

  it.skipIf(!useCli)("no role trusts another cloud's ServiceAccount: every trust policy read back and evaluated with iam-simulate", async () => {
    const snap = await snapshot();
    const sas = snap.sas as Record<string, { labels: Record<string, string> }>;
    let checked = 0;
    const listed = (await aws('iam', 'list-roles')).Roles.map((r: any) => r.RoleName as string);
    const all = await Promise.all(listed.map(async (name: string) => [name, (await aws('iam', 'get-role', '--role-name', name)).Role] as const));
    for (const [name, got] of all) {
      const role = { trust: got.AssumeRolePolicyDocument, tags: got.Tags ?? [] };
      const tags = Object.fromEntries(role.tags.map((t: any) => [t.Key, t.Value]));
      if (tags[MANAGED_BY_TAG] !== MANAGER) continue;
      const web = role.trust.Statement.filter((s: any) => s.Action === 'sts:AssumeRoleWithWebIdentity');
      if (web.length === 0) continue;
      const provider = web[0].Principal.Federated as string;
      const [, account, issuer] = /^arn:aws:iam::(\d{12}):oidc-provider\/(.+)$/.exec(provider)!;
      const arn = `arn:aws:iam::${account}:role/iam-mapping/${name}`;
      const cloud = tags[CLOUD_TAG];
      const identity = tags['iam-mapping.anyscale.io/identity'];
      const ask = (sub: string, over: Partial<{ issuer: string; aud: string }> = {}) =>
        webIdentityAllowed(role.trust, arn, { issuer: over.issuer ?? issuer!, account: account!, sub, aud: over.aud ?? 'sts.amazonaws.com' });
      expect(await ask(`system:serviceaccount:${NS}:${identity}`), `${name}: its own SA`).toBe(true);
      // Every ServiceAccount of the shared namespace that another cloud labels (or that is not this role's SA) is denied.
      for (const [sa, info] of Object.entries(sas)) {
        if (sa === identity) continue;
        expect(await ask(`system:serviceaccount:${NS}:${sa}`), `${name} must not trust ${sa} (${info.labels[CLOUD_LABEL] ?? 'unlabelled'})`).toBe(false);
      }
      const ownSa = sas[identity];
      if (ownSa) expect(ownSa.labels[CLOUD_LABEL], `${name}: the SA it trusts is its cloud's`).toBe(cloud);
      expect(await ask(`system:serviceaccount:other-namespace:${identity}`), `${name}: another namespace`).toBe(false);
      expect(await ask(`system:serviceaccount:${NS}:${identity}`, { aud: 'sts.example.com' }), `${name}: wrong aud`).toBe(false);
      expect(
        await ask(`system:serviceaccount:${NS}:${identity}`, { issuer: 'oidc.eks.us-east-1.amazonaws.com/id/0THERC1USTER' }),
        `${name}: another cluster`,
      ).toBe(false);
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(3);
    await expectUntouched();
  });
});
