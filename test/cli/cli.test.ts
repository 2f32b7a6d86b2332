/**
 * The `iam-mapping` CLI, spawned as a user runs it (node cli/bin.mjs) against a local server:
 * output, exit codes, the If-Match flow through the state file, rollback, resolve --explain,
 * what-if of a draft against the current version, lint, provisioning and drift.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { run as runCli } from '../../cli/iam-mapping.js';
import { ROUTES } from '../../functions/routes.js';
import { startHarness, type Harness } from '../helpers/local.js';
import { SEED_EXAMPLES } from '../helpers/seeds.js';

const BIN = join(import.meta.dirname, '../../cli/bin.mjs');
const CLOUD = 'cldrsrc_XXXX';
const hasDrift = ROUTES.some((r) => r.path === '/v1/clouds/{cloud}/drift-checks');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let h: Harness;
let dir: string;
let owner: string;
let viewer: string;
let controlPlane: string;

function cli(args: string[], options: { token?: string | null; env?: Record<string, string> } = {}): Promise<Run> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    XDG_STATE_HOME: join(dir, 'state'),
    IAM_MAPPING_ENDPOINT: h.server.url,
    ...(options.token === null ? {} : { IAM_MAPPING_TOKEN: options.token ?? owner }),
    ...options.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'iam-mapping-cli-'));
  owner = await h.token('owner');
  viewer = await h.token('viewer');
  controlPlane = await h.token('control-plane');
});

afterAll(async () => {
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('usage', () => {
  it('--help everywhere, exit 2 on usage errors', async () => {
    const [main, group, sub, none, unknown, badFlag, missing, both, badOutput] = await Promise.all([
      cli(['--help']),
      cli(['config', '--help']),
      cli(['config', 'update', '--help']),
      cli([]),
      cli(['frobnicate']),
      cli(['config', 'get', '-n', CLOUD, '--bogus']),
      cli(['config', 'get']),
      cli(['config', 'update', '-n', CLOUD, '-f', 'x.yaml', '--force', '--if-match', 'e']),
      cli(['config', 'versions', '-n', CLOUD, '-o', 'xml']),
    ]);
    expect(main.code).toBe(0);
    for (const c of [
      'config get',
      'config update',
      'config versions',
      'config rollback',
      'resolve',
      'what-if',
      'lint',
      'provisioning status',
      'drift check',
      'drift show',
    ]) {
      expect(main.stdout).toContain(c);
    }
    expect(main.stdout).toMatch(/Exit codes:[\s\S]*5 conflict/);
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('config rollback -n CLOUD --to N');
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('Usage: iam-mapping config update -n CLOUD --spec-file FILE');
    expect(sub.stdout).toContain('IAM_MAPPING_TOKEN');
    for (const r of [none, unknown, badFlag, missing, both, badOutput]) expect(r.code, r.stderr).toBe(2);
    expect(badFlag.stderr).toContain('--bogus');
    expect(missing.stderr).toContain('needs --cloud');
    expect(both.stderr).toContain('--force and --if-match');
    expect(`${none.stderr}`).toContain('Usage: iam-mapping COMMAND');
  });
});

describe('lint (local, no server)', () => {
  it('accepts the seed examples, also unindented as pasted from the docs', async () => {
    const ok = await cli(['lint', '-f', file('eks.yaml', SEED_EXAMPLES.eks)], { env: { IAM_MAPPING_ENDPOINT: 'http://127.0.0.1:9' } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('eks.yaml: ok (2 rules, 0 warnings)');
    const flat = await cli(['lint', '--spec-file', file('flat.yaml', SEED_EXAMPLES.gke.replace(/^ +/gm, ''))]);
    expect(flat.code).toBe(0);
    expect(flat.stdout).toContain('UNINDENTED_YAML');
  });

  it('points each error at FILE:LINE:COLUMN (the selector character) and exits 1', async () => {
    const bad = SEED_EXAMPLES.eks.replace('user=user2@example.com', 'usr=user2@example.com').replace('kubernetes-service-account-name1', 'Not_A_Valid_SA');
    const res = await cli(['lint', '-f', file('bad.yaml', bad)]);
    expect(res.code).toBe(1);
    // line 8: `    - selector: workload-type in (job, service),usr=...`; `usr` is character 32 of the selector at column 17
    expect(res.stderr).toContain('bad.yaml:8:49: error: dataplane_iam_mapping.rules[1].selector: rule 1: selector key "usr" is not supported');
    expect(res.stderr).toMatch(/bad\.yaml:7:\d+: error: dataplane_iam_mapping\.rules\[0\]\.value/);
    const yaml = await cli(['lint', '-f', file('broken.yaml', 'cloud_deployment_id: [\n')]);
    expect(yaml.code).toBe(1);
    expect(yaml.stderr).toMatch(/broken\.yaml:\d+:\d+: error: /);
    const cloud = await cli(['lint', '-f', file('eks2.yaml', SEED_EXAMPLES.eks), '-n', 'cldrsrc_other']);
    expect(cloud.code).toBe(1);
    expect(cloud.stderr).toContain('must equal the cloud in the request path (cldrsrc_other)');
  });

  it('lint prints every problem at once: a bad fallback_rule does not hide bad rules', async () => {
    const bad = SEED_EXAMPLES.eks
      .replace('fallback_rule: CLOUD_DEFAULT', 'fallback_rule: NOPE')
      .replace('user=user2@example.com', 'user="user2@example.com"')
      .replace('kubernetes-service-account-name1', 'Not_A_Valid_SA');
    const res = await cli(['lint', '-f', file('bad-all.yaml', bad)]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/bad-all\.yaml:\d+:\d+: error: dataplane_iam_mapping\.fallback_rule must be one of CLOUD_DEFAULT, FAIL; got "NOPE"/);
    expect(res.stderr).toContain('selector values are written without quotes');
    expect(res.stderr).toMatch(/error: dataplane_iam_mapping\.rules\[0\]\.value/);
    expect(res.stderr).toContain('bad-all.yaml: 3 errors');
  });

  it('prints lint warnings at their line; --strict fails on them; -o json', async () => {
    const dup = SEED_EXAMPLES.eks.replace(
      '  fallback_rule',
      '    - selector: workload-type in (workspace),user=user1@example.com\n      value: kubernetes-service-account-name1\n  fallback_rule',
    );
    const path = file('dup.yaml', dup);
    const res = await cli(['lint', '-f', path]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/dup\.yaml:10:\d+: warning: DUPLICATE_RULE: rule 2 duplicates rule 0/);
    expect((await cli(['lint', '-f', path, '--strict'])).code).toBe(1);
    const json = await cli(['lint', '-f', path, '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, warnings: [{ code: 'DUPLICATE_RULE', rule_index: 2 }] });
  });
});

describe('against the server', () => {
  it('auth and reachability errors have their exit codes', async () => {
    const [noToken, badToken, notFound, down] = await Promise.all([
      cli(['config', 'get', '-n', CLOUD], { token: null }),
      cli(['config', 'get', '-n', CLOUD], { token: 'a.b.c' }),
      cli(['config', 'get', '-n', 'cldrsrc_none']),
      cli(['config', 'get', '-n', CLOUD, '--endpoint', 'http://127.0.0.1:9']),
    ]);
    expect(noToken.code).toBe(3);
    expect(noToken.stderr).toContain('IAM_MAPPING_TOKEN');
    expect(badToken.code).toBe(3);
    expect(badToken.stderr).toContain('UNAUTHORIZED');
    expect(notFound.code).toBe(4);
    expect(notFound.stderr).toContain('NOT_FOUND');
    expect(down.code).toBe(6);
    expect(down.stderr).toContain('cannot reach http://127.0.0.1:9');
  });

  it('config update creates, get remembers the etag, update from the `get` output, 412 when someone else wrote meanwhile', async () => {
    const created = await cli(['config', 'update', '-n', CLOUD, '-f', file('v1.yaml', SEED_EXAMPLES.eks)]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/stored version 1 \(etag 1-\w+\); provisioning PENDING/);

    const got = await cli(['config', 'get', '-n', CLOUD]);
    expect(got.code).toBe(0);
    expect(got.stdout).toContain('value: kubernetes-service-account-name2');
    expect(got.stdout).toMatch(/^version: 1$/m);
    const state = JSON.parse(readFileSync(join(dir, 'state', 'iam-mapping', 'etags.json'), 'utf8'));
    expect(state[`${h.server.url}|${CLOUD}`]).toMatchObject({ version: 1, etag: expect.stringMatching(/^1-/) });

    // Edit the printed YAML (version line and all) and store it.
    const edited = got.stdout.replace('kubernetes-service-account-name2', 'kubernetes-service-account-name3');
    const v2 = await cli(['config', 'update', '-n', CLOUD, '-f', file('v2.yaml', edited)]);
    expect(v2.code, v2.stderr).toBe(0);
    expect(v2.stdout).toContain('stored version 2');

    // Someone else stores version 3; an update based on version 2 must not overwrite it.
    expect((await h.api('PUT', `/v1/clouds/${CLOUD}/iam-mapping`, { body: SEED_EXAMPLES.eks })).status).toBe(200);
    const stale = await cli(['config', 'update', '-n', CLOUD, '-f', file('v2b.yaml', edited.replace('name3', 'name4'))]);
    expect(stale.code).toBe(5);
    expect(stale.stderr).toContain('someone else changed the config of cldrsrc_XXXX meanwhile');
    expect(stale.stderr).toContain('config get -n cldrsrc_XXXX');

    // Without a remembered etag (another machine) an existing config is not overwritten blindly.
    const elsewhere = { XDG_STATE_HOME: join(dir, 'other-state') };
    const blind = await cli(['config', 'update', '-n', CLOUD, '-f', join(dir, 'v2b.yaml')], { env: elsewhere });
    expect(blind.code).toBe(5);
    expect(blind.stderr).toContain('no etag was remembered');
    const json = await cli(['config', 'get', '-n', CLOUD, '-o', 'json'], { env: elsewhere });
    expect(JSON.parse(json.stdout)).toMatchObject({ version: 3, cloud_deployment_id: CLOUD });
    // The `get` output stored back as is equals version 3: nothing is stored.
    const same = await cli(['config', 'update', '-n', CLOUD, '-f', file('v3.json', json.stdout), '-o', 'json'], { env: elsewhere });
    expect(same.code, same.stderr).toBe(0);
    expect(JSON.parse(same.stdout)).toMatchObject({ version: 3, unchanged: true });
    const sameText = await cli(['config', 'update', '-n', CLOUD, '-f', join(dir, 'v3.json')], { env: elsewhere });
    expect(sameText.stdout).toContain('unchanged — equal to the current version 3');
    const doc = JSON.parse(json.stdout);
    doc.dataplane_iam_mapping.rules.push({ selector: 'project=cli-never-used', value: doc.dataplane_iam_mapping.rules[0].value });
    const fromJson = await cli(['config', 'update', '-n', CLOUD, '-f', file('v4.json', JSON.stringify(doc)), '-o', 'json'], { env: elsewhere });
    expect(fromJson.code, fromJson.stderr).toBe(0);
    expect(JSON.parse(fromJson.stdout)).toMatchObject({ version: 4 });
  });

  it('an invalid update exits 1 pointing at FILE:LINE:COLUMN; a viewer gets exit 3', async () => {
    await cli(['config', 'get', '-n', CLOUD]);
    const bad = await cli(['config', 'update', '-n', CLOUD, '-f', file('bad-update.yaml', SEED_EXAMPLES.eks.replace('user=user2@example.com', 'user in (a,'))]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('INVALID_CONFIG');
    expect(bad.stderr).toMatch(/bad-update\.yaml:8:\d+: dataplane_iam_mapping\.rules\[1\]\.selector: rule 1: invalid selector/);
    const viewerPut = await cli(['config', 'update', '-n', CLOUD, '-f', join(dir, 'v1.yaml'), '--force'], { token: viewer });
    expect(viewerPut.code).toBe(3);
    expect(viewerPut.stderr).toContain('FORBIDDEN');
  });

  it('config versions and rollback', async () => {
    const list = await cli(['config', 'versions', '-n', CLOUD], { token: viewer });
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+CREATED_AT\s+CREATED_BY\s+RULES\s+ETAG$/);
    expect(lines[1]).toMatch(/^\*4\s/);
    expect(lines).toHaveLength(5);
    const json = JSON.parse((await cli(['config', 'versions', '-n', CLOUD, '-o', 'json'])).stdout);
    expect(json.versions.map((v: { version: number }) => v.version)).toEqual([4, 3, 2, 1]);

    const back = await cli(['config', 'rollback', '-n', CLOUD, '--to', '2']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('rolled back to the content of version 2, stored as version 5');
    const now = await cli(['config', 'get', '-n', CLOUD, '-o', 'json']);
    expect(JSON.parse(now.stdout)).toMatchObject({ version: 5, dataplane_iam_mapping: { rules: [{}, { value: 'kubernetes-service-account-name3' }] } });
    const again = await cli(['config', 'rollback', '-n', CLOUD, '--to', '5']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already the current version');
    expect((await cli(['config', 'rollback', '-n', CLOUD, '--to', '99'])).code).toBe(4);
    expect((await cli(['config', 'rollback', '-n', CLOUD, '--to', 'two'])).code).toBe(2);
  });

  it('resolve prints the matching rule and, with --explain, why the others did not match', async () => {
    const launch = ['-n', CLOUD, '--workload-type', 'job', '--project', 'p', '--user', 'user2@example.com'];
    const plain = await cli(['resolve', ...launch], { token: controlPlane });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('identity: kubernetes-service-account-name3');
    expect(plain.stdout).toContain('matched:  rule 1');
    const explained = await cli(['resolve', ...launch, '--explain'], { token: controlPlane });
    expect(explained.stdout).toContain('matched:  rule 1: user=user2@example.com,workload-type in (job,service)');
    expect(explained.stdout).toContain(
      'rule 0: no     user=user1@example.com,workload-type in (workspace) — user is "user2@example.com", not "user1@example.com"',
    );
    expect(explained.stdout).toContain('rule 1: MATCH');
    const fallback = await cli(['resolve', '-n', CLOUD, '--workload-type', 'service', '--project', 'p', '--user', 'x@example.com']);
    expect(fallback.stdout).toContain('no rule; fallback_rule CLOUD_DEFAULT');
    const json = JSON.parse((await cli(['resolve', ...launch, '-o', 'json'])).stdout);
    expect(json).toMatchObject({ value: 'kubernetes-service-account-name3', source: 'RULE', rule_index: 1, config_version: 5 });

    const failing = SEED_EXAMPLES.eks.replace('cldrsrc_XXXX', 'cldrsrc_fail').replace('CLOUD_DEFAULT', 'FAIL');
    expect((await cli(['config', 'update', '-n', 'cldrsrc_fail', '-f', file('fail.yaml', failing)])).code).toBe(0);
    const none = await cli(['resolve', '-n', 'cldrsrc_fail', '--workload-type', 'job', '--project', 'p', '--user', 'x@example.com', '--explain']);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('no rule matches and fallback_rule is FAIL');
    expect(none.stdout).toContain('rule 0: no — user is "x@example.com", not "user1@example.com"');

    expect((await cli(['resolve', ...launch], { token: viewer })).code).toBe(3);
    const invalid = await cli(['resolve', '-n', CLOUD, '--workload-type', 'batch', '--project', 'p', '--user', 'u']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('workload_type');
  });

  it('what-if: a draft against the current version, on CSV or YAML launches', async () => {
    // Current (v5): rule 1 → name3. Draft: rule 1 → name9, plus a rule for project ml.
    const draft = SEED_EXAMPLES.eks
      .replace('kubernetes-service-account-name2', 'kubernetes-service-account-name9')
      .replace('  fallback_rule', '    - selector: project=ml\n      value: ml-sa\n  fallback_rule');
    const draftFile = file('draft.yaml', draft);
    const csv = file(
      'launches.csv',
      'workload_type,project,user\n# comment\nworkspace,p,user1@example.com\njob,p,user2@example.com\n"service","ml","someone@example.com"\njob,other,someone@example.com\n',
    );
    const res = await cli(['what-if', '-n', CLOUD, '-f', draftFile, '--launches', csv, '-o', 'wide'], { token: viewer });
    expect(res.code, res.stderr).toBe(0);
    const rows = res.stdout.split('\n');
    expect(rows[0]).toMatch(/^\s+WORKLOAD\s+PROJECT\s+USER\s+CURRENT \(v5\)\s+DRAFT$/);
    expect(rows.find((r) => r.includes('user1@example.com'))).toMatch(
      /^\s+workspace\s+p\s+user1@example\.com\s+kubernetes-service-account-name1 \(rule 0\)\s+kubernetes-service-account-name1 \(rule 0\)$/,
    );
    expect(rows.find((r) => r.includes('user2@example.com'))).toMatch(/^CHANGED\s+job.*name3 \(rule 1\)\s+kubernetes-service-account-name9 \(rule 1\)$/);
    expect(rows.find((r) => r.includes(' ml '))).toMatch(/^CHANGED\s+service\s+ml\s+someone@example\.com\s+cloud default \(fallback\)\s+ml-sa \(rule 2\)$/);
    expect(rows.find((r) => r.includes(' other '))).toMatch(/^\s+job\s+other/);
    expect(res.stdout).toContain('2 of 4 launches would change identity (draft vs version 5 of cldrsrc_XXXX)');

    const yaml = file('launches.yaml', 'launches:\n  - {workload-type: job, project: p, user: user2@example.com}\n');
    const strict = await cli(['what-if', '-f', draftFile, '--launches', yaml, '--fail-on-change', '--explain']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('1 of 1 launch would change identity');
    expect(strict.stdout).toContain('rule 1: MATCH  user=user2@example.com,workload-type in (job,service)');
    const json = JSON.parse((await cli(['what-if', '-f', draftFile, '--launches', yaml, '-o', 'json'])).stdout);
    expect(json).toMatchObject({
      current_version: 5,
      changed: 1,
      results: [
        {
          changed: true,
          current: { kind: 'rule', value: 'kubernetes-service-account-name3' },
          draft: { kind: 'rule', value: 'kubernetes-service-account-name9' },
        },
      ],
    });

    const fresh = await cli(['what-if', '-n', 'cldrsrc_new', '-f', file('new.yaml', draft.replace('cldrsrc_XXXX', 'cldrsrc_new')), '--launches', yaml]);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toContain('(cldrsrc_new has no config yet)');

    const badLaunch = await cli(['what-if', '-f', draftFile, '--launches', file('bad.csv', 'workload_type,project,user\nbatch,p,u\n')]);
    expect(badLaunch.code).toBe(1);
    expect(badLaunch.stderr).toContain('bad.csv:2: workload_type');
    const badDraft = await cli(['what-if', '-f', file('bad-draft.yaml', draft.replace('project=ml', 'project in (')), '--launches', csv]);
    expect(badDraft.code).toBe(1);
    const noHeader = await cli(['what-if', '-f', draftFile, '--launches', file('nohdr.csv', 'job,p,u\n')]);
    expect(noHeader.code).toBe(2);
    expect(noHeader.stderr).toContain('header');
  });

  it('provisioning status --wait shows items and resources', async () => {
    const res = await cli(['provisioning', 'status', '-n', CLOUD, '--wait', '--timeout', '60'], { token: viewer });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^cloud cldrsrc_XXXX, config version 5: SUCCEEDED/);
    expect(res.stdout).toMatch(/kubernetes-service-account-name3\s+k8s-irsa\s+SUCCEEDED/);
    expect(res.stdout).toMatch(/service-account\s+kubernetes-service-account-name3\s+anyscale-operator\s+(created|unchanged|updated)/);
    const json = JSON.parse((await cli(['provisioning', 'status', '-n', CLOUD, '-o', 'json', '--version', '1'])).stdout);
    expect(json).toMatchObject({ config_version: 1 });
  });

  it.skipIf(!hasDrift)('drift check and drift show', async () => {
    const D = 'cldrsrc_drift';
    const none = await cli(['drift', 'show', '-n', D]);
    expect(none.code).toBe(4);
    expect(none.stderr).toContain('drift check -n cldrsrc_drift');
    const spec = SEED_EXAMPLES.eks.replace('cldrsrc_XXXX', D).replace(/kubernetes-service-account-name/g, 'drift-sa-');
    expect((await cli(['config', 'update', '-n', D, '-f', file('drift.yaml', spec)])).code).toBe(0);
    expect((await cli(['provisioning', 'status', '-n', D, '--wait', '--timeout', '60'])).code).toBe(0);

    const clean = await cli(['drift', 'check', '-n', D, '--fail-on-drift']);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/^cloud cldrsrc_drift, checked \S+: no drift/);
    expect((await cli(['drift', 'check', '-n', D], { token: viewer })).code).toBe(3);

    const sa = `${h.server.url}/sandbox/k8s/api/v1/namespaces/anyscale-operator/serviceaccounts/drift-sa-2`;
    const patched = await fetch(sa, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/someone-else' } } }),
    });
    expect(patched.status).toBe(200);
    const drifted = await cli(['drift', 'check', '-n', D, '--fail-on-drift']);
    expect(drifted.code).toBe(1);
    expect(drifted.stdout).toMatch(/DRIFTED \(\d+ findings?\)/);
    expect(drifted.stdout).toMatch(/KIND\s+NAME\s+EXPECTED\s+ACTUAL$/m);
    expect(drifted.stdout).toContain('someone-else');
    expect(drifted.stdout).toMatch(/^- .*drift-sa-2.*someone-else/m); // the finding in words
    const shown = await cli(['drift', 'show', '-n', D], { token: viewer });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('DRIFTED');
    expect(JSON.parse((await cli(['drift', 'show', '-n', D, '-o', 'json'])).stdout)).toMatchObject({ drifted: true });

    // --repair puts the annotation back (the cloud's mode is `report`), and the next check is clean.
    const repaired = JSON.parse((await cli(['drift', 'check', '-n', D, '--repair', '-o', 'json'])).stdout) as {
      repair?: { items: string[]; execution_id?: string };
    };
    expect(repaired.repair?.items).toEqual(['drift-sa-2']);
    expect(repaired.repair?.execution_id).toBeTruthy();
    const repairedText = await cli(['drift', 'show', '-n', D]);
    expect(repairedText.stdout).toMatch(/^repair: re-provisioning drift-sa-2 \(execution \S+\)/m);
    await h.server.workflow.idle();
    const after = (await (await fetch(sa)).json()) as { metadata: { annotations: Record<string, string> } };
    expect(after.metadata.annotations['eks.amazonaws.com/role-arn']).not.toContain('someone-else');
    expect((await cli(['drift', 'check', '-n', D, '--fail-on-drift'])).code).toBe(0);
  });
});

describe('plan (like terraform plan)', () => {
  const P = 'cldrsrc_plan';
  // Own ServiceAccount names: the other tests' clouds hold kubernetes-service-account-name1/2 in this sandbox.
  const seed = SEED_EXAMPLES.eks.replace(/cldrsrc_XXXX/g, P).replace(/kubernetes-service-account-name/g, 'plan-sa-');

  it("a draft whose every item another cloud holds: no changes, and says they are left alone (not 'matches the draft')", async () => {
    const other = file('plan-other.yaml', SEED_EXAMPLES.eks.replace(/cldrsrc_XXXX/g, 'cldrsrc_plan_other'));
    const res = await cli(['plan', '-n', 'cldrsrc_plan_other', '-f', other]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('No changes provisioning would make; 2 left alone (below)');
    expect(res.stdout).not.toContain('What exists matches the draft');
    expect(res.stdout).toMatch(
      /Left alone[^\n]*\n {2}! service-account anyscale-operator\/kubernetes-service-account-name1 .*already wanted by cloud cldrsrc_XXXX/,
    );
  });

  it('prints + create / ~ update / - delete with indented diffs and the count; --detailed-exitcode 0/2; -o json|yaml; --no-headers', async () => {
    const fresh = await cli(['plan', '-f', file('plan-v1.yaml', seed)]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toMatch(/^cloud cldrsrc_plan: the draft against no config yet/);
    expect(fresh.stdout).toMatch(/^ {2}\+ create iam-role iam-mapping-\S+-plan-sa-1$/m);
    expect(fresh.stdout).toMatch(/^ {6}\+ \{$/m);
    expect(fresh.stdout).toContain('Plan: 6 to create, 0 to change, 0 to destroy.');
    // Nothing was stored.
    expect((await cli(['config', 'get', '-n', P])).code).toBe(4);

    expect((await cli(['config', 'update', '-n', P, '-f', file('plan-v1.yaml', seed), '--force'])).code).toBe(0);
    expect((await cli(['provisioning', 'status', '-n', P, '--wait', '--timeout', '60'])).code).toBe(0);
    const same = await cli(['plan', '-n', P, '-f', file('plan-v1.yaml', seed), '--detailed-exitcode']);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain('No changes. What exists matches the draft.');
    expect(same.stdout).toContain('Plan: 0 to create, 0 to change, 0 to destroy.');

    const draft = file(
      'plan-v2.yaml',
      seed.replace('value: plan-sa-2', 'value: ml-team-b') +
        'provisioning:\n  service_accounts:\n    plan-sa-1:\n      namespaces: [anyscale-operator, default]\n',
    );
    const changed = await cli(['plan', '-n', P, '-f', draft, '--detailed-exitcode']);
    expect(changed.code, changed.stderr).toBe(2);
    const out = changed.stdout;
    expect(out).toMatch(/^ {2}\+ create iam-role iam-mapping-\S+-ml-team-b$/m);
    expect(out).toMatch(/^ {2}\+ create service-account anyscale-operator\/ml-team-b$/m);
    expect(out).toMatch(/^ {2}\+ create service-account default\/plan-sa-1$/m);
    expect(out).toMatch(/^ {2}~ update trust-policy iam-mapping-\S+-plan-sa-1$/m);
    expect(out).toMatch(/^ {6}\+ {9}"system:serviceaccount:default:plan-sa-1"$/m);
    expect(out).toMatch(/^ {2}- delete iam-role iam-mapping-\S+-plan-sa-2 \(deferred: provisioning\.drift\.delete_orphans is off\)$/m);
    expect(out).toMatch(/^Launches that would change identity \(1, of \d+ sampled\):$/m);
    expect(out).toMatch(/^ {2}job\s+sample-project\s+user2@example\.com\s+plan-sa-2\s+ml-team-b$/m);
    expect(out.trimEnd().split('\n').at(-1)).toBe('Plan: 4 to create, 1 to change, 2 to destroy.');
    expect((await cli(['plan', '-n', P, '-f', draft, '--fail-on-change'])).code).toBe(1);
    expect((await cli(['plan', '-n', P, '-f', draft])).code).toBe(0);

    const [json, yaml, bare, wide] = await Promise.all([
      cli(['plan', '-n', P, '-f', draft, '-o', 'json']),
      cli(['plan', '-n', P, '-f', draft, '-o', 'yaml']),
      cli(['plan', '-n', P, '-f', draft, '--no-headers']),
      cli(['plan', '-n', P, '-f', draft, '-o', 'wide']),
    ]);
    const answer = JSON.parse(json.stdout);
    expect(parseYaml(yaml.stdout)).toEqual(answer);
    expect(answer.summary).toMatchObject({ create: 4, update: 1, delete: 2 });
    expect(bare.stdout.trimEnd().split('\n')).toHaveLength(7);
    expect(bare.stdout).toMatch(/^~\s+update\s+trust-policy\s+iam-mapping-\S+-plan-sa-1$/m);
    expect(bare.stdout).not.toContain('Plan:');
    expect(wide.stdout).toMatch(/SAMPLED FROM/);
    expect(wide.stdout).toContain('# no longer named');
  });

  it('an invalid draft exits 1 pointing at FILE:LINE:COLUMN; a viewer gets 3; usage errors 2', async () => {
    const bad = file('plan-bad.yaml', seed.replace('fallback_rule: CLOUD_DEFAULT', 'fallback_rule: NONE').replace('user=user2@example.com', 'user in (a,'));
    const res = await cli(['plan', '-f', bad]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/plan-bad\.yaml:8:\d+: /);
    expect(res.stderr).toMatch(/plan-bad\.yaml:10:\d+: .*fallback_rule/);
    expect((await cli(['plan', '-f', file('plan-v1.yaml', seed)], { token: viewer })).code).toBe(3);
    expect((await cli(['plan', '-n', P])).code).toBe(2);
    expect((await cli(['plan', '-f', bad, '--detailed-exitcode', '--fail-on-change'])).code).toBe(2);
    const help = await cli(['plan', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--detailed-exitcode');
  });
});

describe('clouds and bindings', () => {
  it('clouds list, bindings list, bindings forget (owner only)', async () => {
    const spec = file('cb.yaml', SEED_EXAMPLES.eks.replace(/cldrsrc_XXXX/g, 'cldrsrc_cb'));
    expect((await cli(['config', 'update', '-n', 'cldrsrc_cb', '-f', spec, '--force'])).code).toBe(0);
    const clouds = await cli(['clouds', 'list'], { token: viewer });
    expect(clouds.code, clouds.stderr).toBe(0);
    expect(clouds.stdout).toMatch(/^CLOUD\s+VERSION\s+STACK\s+UPDATED_AT/);
    expect(clouds.stdout).toMatch(/cldrsrc_cb\s+1\s+AWS\/K8S/);
    const asJson = JSON.parse((await cli(['clouds', 'list', '-o', 'json'], { token: viewer })).stdout) as Array<{ cloud_deployment_id: string }>;
    expect(asJson.map((c) => c.cloud_deployment_id)).toContain('cldrsrc_cb');

    const launch = ['resolve', '-n', 'cldrsrc_cb', '--workload-type', 'job', '--project', 'p', '--user', 'user2@example.com', '--cluster-id', 'ses_cli'];
    expect((await cli(launch, { token: controlPlane })).code).toBe(0);
    const listed = await cli(['bindings', 'list', '-n', 'cldrsrc_cb'], { token: viewer });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/ses_cli\s+kubernetes-service-account-name2\s+1/);

    const refused = await cli(['bindings', 'forget', '-n', 'cldrsrc_cb', '--cluster-id', 'ses_cli'], { token: viewer });
    expect(refused.code).toBe(3);
    const forgotten = await cli(['bindings', 'forget', '-n', 'cldrsrc_cb', '--cluster-id', 'ses_cli']);
    expect(forgotten.code, forgotten.stderr).toBe(0);
    expect(forgotten.stdout).toContain('ses_cli of cldrsrc_cb forgotten');
    expect((await cli(['bindings', 'forget', '-n', 'cldrsrc_cb', '--cluster-id', 'ses_cli'])).code).toBe(4);
    expect((await cli(['bindings', 'forget', '-n', 'cldrsrc_cb'])).code).toBe(2);
  });
});

describe('output formats on every command (-o json|yaml|table|wide, --no-headers)', () => {
  // In process (the same `run` that bin.mjs calls), so the matrix of commands × formats stays fast.
  const cli = async (args: string[], options: { env?: Record<string, string> } = {}): Promise<Run> => {
    let stdout = '';
    let stderr = '';
    const env = { HOME: dir, XDG_STATE_HOME: join(dir, 'state'), IAM_MAPPING_ENDPOINT: h.server.url, IAM_MAPPING_TOKEN: owner, ...options.env };
    const code = await runCli(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), env });
    return { code, stdout, stderr };
  };
  const launch = ['--workload-type', 'job', '--project', 'p', '--user', 'user2@example.com'];
  // Every read-only command, as a user would type it; each must print the same data as JSON and YAML.
  const commands = (): string[][] => [
    ['config', 'get', '-n', CLOUD],
    ['config', 'versions', '-n', CLOUD],
    ['resolve', '-n', CLOUD, ...launch, '--explain'],
    ['what-if', '-n', CLOUD, '-f', join(dir, 'draft.yaml'), '--launches', join(dir, 'launches.csv')],
    ['lint', '-f', join(dir, 'v1.yaml')],
    ['provisioning', 'status', '-n', CLOUD],
    ...(hasDrift ? [['drift', 'show', '-n', 'cldrsrc_drift']] : []),
    ['clouds', 'list'],
    ['bindings', 'list', '-n', 'cldrsrc_cb'],
  ];

  it('json and yaml print the same answer; tables fit 120 columns (or $COLUMNS) unless -o wide; --no-headers drops the header row', async () => {
    const widest = (text: string) =>
      Math.max(
        0,
        ...text
          .split('\n')
          .filter((l) => !l.startsWith('- ') && !l.startsWith('  rule ') && !/^(cloud|identity|matched|config|repair|\S+: ok|\d+ of)/.test(l))
          .map((l) => l.length),
      );
    for (const args of commands()) {
      const [json, yaml, tbl, wide, bare, narrow] = await Promise.all([
        cli([...args, '-o', 'json']),
        cli([...args, '-o', 'yaml']),
        cli([...args, '-o', 'table']),
        cli([...args, '-o', 'wide']),
        cli([...args, '--no-headers']),
        cli([...args, '-o', 'table'], { env: { COLUMNS: '80' } }),
      ]);
      const what = args.join(' ');
      for (const r of [json, yaml, tbl, wide, bare, narrow]) expect(r.code, `${what}: ${r.stderr}`).toBe(0);
      expect(parseYaml(yaml.stdout), what).toEqual(JSON.parse(json.stdout));
      expect(tbl.stdout.trim().length, what).toBeGreaterThan(0);
      expect(widest(tbl.stdout), `${what}\n${tbl.stdout}`).toBeLessThanOrEqual(120);
      expect(widest(narrow.stdout), `${what}\n${narrow.stdout}`).toBeLessThanOrEqual(80);
      expect(wide.stdout.length, what).toBeGreaterThanOrEqual(tbl.stdout.length);
      expect(bare.stdout, what).not.toMatch(/^(VERSION|RULE|SEVERITY|KIND|ITEM|RESOURCE|CLOUD|CLUSTER|\s+WORKLOAD)\s/m);
    }
    const versions = await cli(['config', 'versions', '-n', CLOUD, '--no-headers']);
    expect(versions.stdout.split('\n')[0]).toMatch(/^\*\d+\s/);
    const rules = await cli(['config', 'get', '-n', CLOUD, '-o', 'table']);
    expect(rules.stdout).toMatch(/^RULE\s+SELECTOR\s+VALUE$/m);
    expect(rules.stdout).toMatch(/^1\s+workload-type in \(job, service\),user=user2@example\.com\s+kubernetes-service-account-name3$/m);
  });

  it('an unknown format is a usage error naming the choices', async () => {
    const res = await cli(['config', 'versions', '-n', CLOUD, '-o', 'xml']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('json, yaml, table, wide');
  });

  it('a closed pipe ends quietly with the code the command would have had', async () => {
    const piped = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const script = `node ${JSON.stringify(BIN)} ${args.map((a) => JSON.stringify(a)).join(' ')} | head -1 >/dev/null; exit \${PIPESTATUS[0]}`;
        const child = spawn('bash', ['-c', script], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', HOME: dir, XDG_STATE_HOME: join(dir, 'state'), IAM_MAPPING_ENDPOINT: h.server.url, IAM_MAPPING_TOKEN: owner },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });
    // Enough output that the reader is gone before the CLI has written it all.
    const big = file(
      'big.yaml',
      SEED_EXAMPLES.eks.replace(
        '  fallback_rule',
        `${Array.from({ length: 3000 }, (_, i) => `    - selector: project=p${i}\n      value: sa-${i % 7}\n`).join('')}  fallback_rule`,
      ),
    );
    for (const args of [['config', 'get', '-n', CLOUD], ['lint', '-f', big, '-o', 'json'], ...(hasDrift ? [['drift', 'show', '-n', 'cldrsrc_drift']] : [])]) {
      const res = await piped(args);
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
      expect(res.stderr).not.toMatch(/EPIPE|Error:|at /);
    }
  });
});
