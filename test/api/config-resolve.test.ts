/** Issue 2 acceptance over real HTTP against dynalite: seed examples, validation, resolution, concurrency. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SEED_EXAMPLES, seedTextExamples, type SeedName } from '../helpers/seeds.js';
import { startHarness, type Harness } from '../helpers/local.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const cloudOf = (yaml: string) => /cloud_deployment_id: (\S+)/.exec(yaml)![1]!;
const mapping = (cloud: string) => `/v1/clouds/${cloud}/iam-mapping`;
const resolveBody = (workload_type: string, user: string, project = 'proj') => ({ workload_type, project, user });

function expectErrorBody(res: { json: any }, code: string) {
  expect(res.json).toEqual({ error: { code, message: expect.any(String), details: expect.any(Array) } });
}

describe('seed 001 examples', () => {
  const expected: Record<SeedName, [string, string]> = {
    awsVm: ['role_name1', 'role_name2'],
    gcpVm: ['sa1@xxx.iam.gserviceaccount.com', 'sa2@xxx.iam.gserviceaccount.com'],
    eks: ['kubernetes-service-account-name1', 'kubernetes-service-account-name2'],
    gke: ['kubernetes-service-account-name1', 'kubernetes-service-account-name2'],
  };

  for (const name of Object.keys(SEED_EXAMPLES) as SeedName[]) {
    it(`${name}: PUT verbatim as YAML and as JSON, then resolve as documented`, async () => {
      const yaml = SEED_EXAMPLES[name];
      const cloud = cloudOf(yaml);
      // awsVm and eks share cldrsrc_XXXX: the second changes the stack, which a PUT must confirm.
      const put = await h.api('PUT', mapping(cloud), { body: yaml, contentType: 'application/yaml', headers: { 'x-confirm-stack-change': 'true' } });
      expect(put.status).toBe(200);
      expect(put.json).toMatchObject({ cloud_deployment_id: cloud, version: expect.any(Number), etag: expect.any(String) });
      expect(put.headers.get('etag')).toBe(`"${put.json.etag}"`);

      const [v1, v2] = expected[name];
      const ws = await h.api('POST', `${mapping(cloud)}/resolve`, { role: 'control-plane', body: resolveBody('workspace', 'user1@example.com') });
      expect(ws.json).toEqual({ value: v1, source: 'RULE', rule_index: 0, config_version: put.json.version });
      for (const kind of ['job', 'service']) {
        const r = await h.api('POST', `${mapping(cloud)}/resolve`, { role: 'control-plane', body: resolveBody(kind, 'user2@example.com') });
        expect(r.json).toEqual({ value: v2, source: 'RULE', rule_index: 1, config_version: put.json.version });
      }
      const other = await h.api('POST', `${mapping(cloud)}/resolve`, { role: 'control-plane', body: resolveBody('workspace', 'someone@example.com') });
      expect(other.json).toEqual({ value: null, source: 'CLOUD_DEFAULT', rule_index: null, config_version: put.json.version });
      // user2 launching a workspace is not covered by rule 1 (job, service only)
      const ws2 = await h.api('POST', `${mapping(cloud)}/resolve`, { role: 'control-plane', body: resolveBody('workspace', 'user2@example.com') });
      expect(ws2.json.source).toBe('CLOUD_DEFAULT');

      const asJson = await h.api('GET', mapping(cloud));
      const { version, ...doc } = asJson.json;
      const putJson = await h.api('PUT', mapping(cloud), { body: doc });
      expect(putJson.status).toBe(200);
      // the JSON form of the same document equals the current version: nothing new is stored
      expect(putJson.json).toMatchObject({ version, unchanged: true });
    });
  }

  it('accepts the examples exactly as the seed text prints them (indentation lost), with a note', async () => {
    const pasted = seedTextExamples();
    for (const text of pasted) {
      const cloud = cloudOf(text);
      // The seeds share cldrsrc_XXXX across stacks: each change of stack is confirmed.
      const put = await h.api('PUT', mapping(cloud), { body: text, contentType: 'application/yaml', headers: { 'x-confirm-stack-change': 'true' } });
      expect(put.status, put.text).toBe(200);
      expect(put.json.warnings).toContainEqual(expect.objectContaining({ code: 'UNINDENTED_YAML' }));
      const got = await h.api('GET', mapping(cloud));
      expect(got.json.dataplane_iam_mapping.rules).toHaveLength(2);
      expect(got.json.dataplane_iam_mapping.fallback_rule).toBe('CLOUD_DEFAULT');
    }
  });
});

describe('resolution', () => {
  const cloud = 'cldrsrc_resolve';
  const config = (fallback: 'CLOUD_DEFAULT' | 'FAIL', extra: Record<string, unknown> = {}) => ({
    cloud_deployment_id: cloud,
    cloud_provider: 'AWS',
    compute_stack: 'K8S',
    dataplane_iam_mapping: {
      rules: [
        { selector: 'workload-type in (workspace),user=user1@example.com', value: 'sa-one' },
        { selector: 'workload-type in (job, service),user=user2@example.com', value: 'sa-two' },
        { selector: 'project in (ml-research),user!=intern@example.com', value: 'sa-research' },
      ],
      fallback_rule: fallback,
      ...extra,
    },
  });

  it('returns the default value named by the config for CLOUD_DEFAULT', async () => {
    expect((await h.api('PUT', mapping(cloud), { body: config('CLOUD_DEFAULT', { default_value: 'default-sa' }) })).status).toBe(200);
    const r = await h.api('POST', `${mapping(cloud)}/resolve`, { role: 'control-plane', body: resolveBody('workspace', 'x@example.com') });
    expect(r.json).toMatchObject({ value: 'default-sa', source: 'CLOUD_DEFAULT', rule_index: null });
  });

  it('FAIL with no match → 422 NO_MATCHING_RULE; explain adds a trace of every rule', async () => {
    const put = await h.api('PUT', mapping(cloud), { body: config('FAIL') });
    expect(put.status).toBe(200);
    const miss = await h.api('POST', `${mapping(cloud)}/resolve`, { role: 'control-plane', body: resolveBody('workspace', 'x@example.com') });
    expect(miss.status).toBe(422);
    expectErrorBody(miss, 'NO_MATCHING_RULE');
    const explained = await h.api('POST', `${mapping(cloud)}/resolve?explain=true`, { role: 'control-plane', body: resolveBody('job', 'user2@example.com') });
    expect(explained.json).toMatchObject({ value: 'sa-two', rule_index: 1, config_version: put.json.version });
    expect(explained.json.trace).toEqual([
      expect.objectContaining({ rule_index: 0, matched: false, failed_requirement: 'user=user1@example.com' }),
      expect.objectContaining({ rule_index: 1, matched: true }),
    ]);
    const missExplained = await h.api('POST', `${mapping(cloud)}/resolve?explain=true`, {
      role: 'control-plane',
      body: resolveBody('job', 'intern@example.com', 'ml-research'),
    });
    expect(missExplained.status).toBe(422);
    expect(missExplained.json.error.details.map((d: any) => d.rule_index)).toEqual([0, 1, 2]);
    expect(missExplained.json.error.details[2].message).toMatch(/user is "intern@example.com"/);
  });

  it('explain takes only its documented values: true, 1, yes or empty trace; false, 0, no do not; anything else is a 400 naming explain', async () => {
    await h.api('PUT', mapping(cloud), { body: config('CLOUD_DEFAULT') });
    const call = (query: string) =>
      h.api('POST', `${mapping(cloud)}/resolve${query}`, { role: 'control-plane', body: resolveBody('job', 'user2@example.com') });
    for (const on of ['?explain=true', '?explain=1', '?explain=yes', '?explain=', '?explain=TRUE']) {
      const res = await call(on);
      expect([on, res.status, Array.isArray(res.json.trace)]).toEqual([on, 200, true]);
    }
    for (const off of ['', '?explain=false', '?explain=0', '?explain=no']) {
      const res = await call(off);
      expect([off, res.status, res.json.trace]).toEqual([off, 200, undefined]);
    }
    for (const bad of ['?explain=maybe', '?explain=2', '?explain=true,true']) {
      const res = await call(bad);
      expect([bad, res.status]).toEqual([bad, 400]);
      expect(res.json.error.details).toEqual([expect.objectContaining({ path: 'explain' })]);
    }
  });

  it('a JSON body may start with a UTF-8 byte order mark (as a YAML one may)', async () => {
    await h.api('PUT', mapping(cloud), { body: config('CLOUD_DEFAULT') });
    const bom = '\uFEFF';
    const res = await h.api('POST', `${mapping(cloud)}/resolve`, {
      role: 'control-plane',
      body: bom + JSON.stringify(resolveBody('job', 'user2@example.com')),
      contentType: 'application/json',
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json.value).toBe('sa-two');
    const current = await h.api('GET', mapping(cloud));
    const { version: _v, ...document } = current.json;
    const put = await h.api('PUT', mapping(cloud), { body: bom + JSON.stringify(document), contentType: 'application/json' });
    expect(put.status, put.text).toBe(200);
    expect(put.json.unchanged).toBe(true);
  });

  it('with cluster_id the first answer is kept, also after the config changes', async () => {
    await h.api('PUT', mapping(cloud), { body: config('CLOUD_DEFAULT') });
    const first = await h.api('POST', `${mapping(cloud)}/resolve`, {
      role: 'control-plane',
      body: { ...resolveBody('workspace', 'user1@example.com'), cluster_id: 'ses_123' },
    });
    expect(first.json).toMatchObject({ value: 'sa-one', sticky: false, cluster_id: 'ses_123' });
    const changed = config('CLOUD_DEFAULT');
    changed.dataplane_iam_mapping.rules[0]!.value = 'sa-changed';
    await h.api('PUT', mapping(cloud), { body: changed });
    // a restarted workspace, launched by someone else, keeps its creator's role
    const again = await h.api('POST', `${mapping(cloud)}/resolve`, {
      role: 'control-plane',
      body: { ...resolveBody('workspace', 'other@example.com'), cluster_id: 'ses_123' },
    });
    expect(again.json).toMatchObject({ value: 'sa-one', sticky: true, config_version: first.json.config_version });
    const fresh = await h.api('POST', `${mapping(cloud)}/resolve`, { role: 'control-plane', body: resolveBody('workspace', 'user1@example.com') });
    expect(fresh.json.value).toBe('sa-changed');
  });

  it('a cloud without config → 404; a bad request → 400 naming the field', async () => {
    const none = await h.api('POST', `/v1/clouds/cldrsrc_none/iam-mapping/resolve`, { role: 'control-plane', body: resolveBody('job', 'a@b.c') });
    expect(none.status).toBe(404);
    expectErrorBody(none, 'NOT_FOUND');
    const bad = await h.api('POST', `${mapping(cloud)}/resolve`, { role: 'control-plane', body: { workload_type: 'batch', project: 'p', user: 'u' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0]).toEqual({ path: 'workload_type', message: 'must be one of job, service, workspace' });
    const missing = await h.api('POST', `${mapping(cloud)}/resolve`, { role: 'control-plane', body: { workload_type: 'job', project: 'p' } });
    expect(missing.json.error.details).toContainEqual({ path: 'user', message: 'user is required' });
    const resolveDetails = async (body: unknown) => {
      const res = await h.api('POST', `${mapping(cloud)}/resolve`, { role: 'control-plane', body });
      expect(res.status).toBe(400);
      expectErrorBody(res, 'INVALID_REQUEST');
      return res.json.error.details;
    };
    expect(await resolveDetails({ workload_type: 'job', project: '', user: 'u' })).toEqual([{ path: 'project', message: 'must not be empty' }]);
    expect(await resolveDetails({ workload_type: 'job', project: 'p', user: 7 })).toEqual([{ path: 'user', message: 'must be a string' }]);
    expect(await resolveDetails({ workload_type: 'job', project: 'p', user: 'u', team: 'x' })).toEqual([{ path: 'team', message: 'unknown field "team"' }]);
    expect(await resolveDetails({ workload_type: 'job', project: 'p', user: 'u', cluster_id: 'a b' })).toEqual([
      { path: 'cluster_id', message: 'must be 1-255 letters, digits or _.:-' },
    ]);
    expect(await resolveDetails([1, 2])).toEqual([{ path: '', message: 'must be a JSON object' }]);
    const notJson = await h.api('POST', `${mapping(cloud)}/resolve`, { role: 'control-plane', body: '{"workload_type":', contentType: 'application/json' });
    expect(notJson.status).toBe(400);
    expectErrorBody(notJson, 'INVALID_REQUEST');
    const wrongType = await h.api('POST', `${mapping(cloud)}/resolve`, { role: 'control-plane', body: 'x: 1', contentType: 'text/plain' });
    expect(wrongType.status).toBe(415);
  });
});

describe('validation', () => {
  it('refuses an AWS VM instance-profile ARN, pointing at the rule value and naming the profile', async () => {
    const yaml = SEED_EXAMPLES.awsVm.replace('value: role_name2', 'value: arn:aws:iam::12345:instance-profile/cld_abc-cluster_node_role');
    const res = await h.api('PUT', mapping('cldrsrc_XXXX'), { body: yaml });
    expect(res.status).toBe(400);
    expectErrorBody(res, 'INVALID_CONFIG');
    expect(res.json.error.details).toEqual([expect.objectContaining({ path: 'dataplane_iam_mapping.rules[1].value', rule_index: 1, line: 9 })]);
    expect(res.json.error.details[0].message).toMatch(/instance profile name is cld_abc-cluster_node_role/);
  });

  it('reports a selector syntax error with rule index and character position', async () => {
    const yaml = SEED_EXAMPLES.eks.replace('workload-type in (job, service),user=user2@example.com', 'workload-type in (job, service,user=user2@example.com');
    const res = await h.api('PUT', mapping('cldrsrc_XXXX'), { body: yaml });
    expect(res.status).toBe(400);
    const [detail] = res.json.error.details;
    expect(detail).toMatchObject({ path: 'dataplane_iam_mapping.rules[1].selector', rule_index: 1, position: expect.any(Number) });
    expect(detail.message).toMatch(/rule 1/);
  });

  it.each([
    ['an unknown selector key', 'team=ml', 'dataplane_iam_mapping.rules[0].selector', /key "team" is not supported/],
    ['an unknown workload type', 'workload-type=batch', 'dataplane_iam_mapping.rules[0].selector', /"batch" is not one of job, service, workspace/],
  ])('refuses %s with its position', async (_name, selector, path, message) => {
    const body = {
      cloud_deployment_id: 'cldrsrc_v',
      cloud_provider: 'AWS',
      compute_stack: 'K8S',
      dataplane_iam_mapping: { rules: [{ selector, value: 'sa' }], fallback_rule: 'FAIL' },
    };
    const res = await h.api('PUT', mapping('cldrsrc_v'), { body });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0]).toMatchObject({ path, position: expect.any(Number) });
    expect(res.json.error.details[0].message).toMatch(message);
  });

  it.each([
    ['fallback_rule', { fallback_rule: 'DENY' }, 'dataplane_iam_mapping.fallback_rule'],
    ['a K8S value that is not a service-account name', { rules: [{ selector: '', value: 'Not_A_Name' }] }, 'dataplane_iam_mapping.rules[0].value'],
    ['an unknown field', { fallback_rules: 'FAIL' }, 'dataplane_iam_mapping.fallback_rules'],
    ['a value with quotes', { rules: [{ selector: '', value: 'sa"}]' }] }, 'dataplane_iam_mapping.rules[0].value'],
  ])('refuses %s, naming the path', async (_name, patch, path) => {
    const body = {
      cloud_deployment_id: 'cldrsrc_v',
      cloud_provider: 'AWS',
      compute_stack: 'K8S',
      dataplane_iam_mapping: { rules: [{ selector: 'project=a', value: 'sa' }], fallback_rule: 'FAIL', ...patch },
    };
    const res = await h.api('PUT', mapping('cldrsrc_v'), { body });
    expect(res.status).toBe(400);
    expect(res.json.error.details.map((d: any) => d.path)).toContain(path);
  });

  it('refuses duplicate JSON keys, small and large bodies alike (the large one scanned in a turn of its own)', async () => {
    const cloud = 'cldrsrc_dupkeys';
    const rules = (n: number) => Array.from({ length: n }, (_, i) => ({ selector: `project=p${i}`, value: `sa-${i % 7}` }));
    for (const n of [1, 7_000]) {
      const text = JSON.stringify({
        cloud_deployment_id: cloud,
        cloud_provider: 'AWS',
        compute_stack: 'K8S',
        dataplane_iam_mapping: { rules: rules(n), fallback_rule: 'FAIL' },
      }).replace('"fallback_rule":"FAIL"', '"fallback_rule":"FAIL","fallback_rule":"CLOUD_DEFAULT"');
      if (n > 1) expect(text.length).toBeGreaterThan(256 * 1024);
      const res = await h.api('PUT', mapping(cloud), { body: text, contentType: 'application/json' });
      expect(res.status, res.text.slice(0, 300)).toBe(400);
      expect(res.json.error.details).toEqual([expect.objectContaining({ path: 'dataplane_iam_mapping.fallback_rule', line: 1 })]);
    }
    expect((await h.api('GET', mapping(cloud), { role: 'viewer' })).status).toBe(404);
  });

  it('refuses a config whose cloud_deployment_id differs from the path', async () => {
    const res = await h.api('PUT', mapping('cldrsrc_other'), { body: SEED_EXAMPLES.eks });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0].path).toBe('cloud_deployment_id');
  });

  it('returns lint warnings with a successful PUT', async () => {
    const body = {
      cloud_deployment_id: 'cldrsrc_lint',
      cloud_provider: 'AWS',
      compute_stack: 'K8S',
      dataplane_iam_mapping: {
        rules: [
          { selector: 'workload-type in (job,service)', value: 'sa-a' },
          { selector: 'workload-type=job,user=u@example.com', value: 'sa-b' },
          { selector: 'workload-type in (service, job)', value: 'sa-a' },
          { selector: 'user=a@example.com,user=b@example.com', value: 'sa-c' },
        ],
        fallback_rule: 'CLOUD_DEFAULT',
      },
    };
    const res = await h.api('PUT', mapping('cldrsrc_lint'), { body });
    expect(res.status).toBe(200);
    expect(res.json.warnings).toEqual([
      expect.objectContaining({ code: 'SHADOWED_RULE', rule_index: 1, shadowed_by: 0 }),
      expect.objectContaining({ code: 'DUPLICATE_RULE', rule_index: 2, shadowed_by: 0 }),
      expect.objectContaining({ code: 'UNSATISFIABLE_SELECTOR', rule_index: 3 }),
    ]);
  });

  it('YAML syntax errors name the line', async () => {
    const res = await h.api('PUT', mapping('cldrsrc_XXXX'), { body: 'cloud_provider: AWS\n  bad: [\n' });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0]).toMatchObject({ path: '', line: expect.any(Number) });
  });
});

describe('versions and optimistic concurrency', () => {
  const cloud = 'cldrsrc_versions';
  const body = (value: string) => ({
    cloud_deployment_id: cloud,
    cloud_provider: 'AWS',
    compute_stack: 'K8S',
    dataplane_iam_mapping: { rules: [{ selector: 'project=a', value }], fallback_rule: 'CLOUD_DEFAULT' },
  });

  it('keeps every version, newest first, with who and when', async () => {
    const a = await h.api('PUT', mapping(cloud), { body: body('sa-1') });
    const b = await h.api('PUT', mapping(cloud), { body: body('sa-2'), headers: { 'if-match': `"${a.json.etag}"` } });
    expect(b.status).toBe(200);
    const list = await h.api('GET', `${mapping(cloud)}/versions`, { role: 'viewer' });
    expect(list.json.versions.map((v: any) => v.version)).toEqual([b.json.version, a.json.version]);
    expect(list.json.versions[0]).toMatchObject({ etag: b.json.etag, created_by: 'owner@example.com', created_at: expect.any(String) });
    const old = await h.api('GET', `${mapping(cloud)}?version=${a.json.version}`, { role: 'viewer' });
    expect(old.json.dataplane_iam_mapping.rules[0].value).toBe('sa-1');
  });

  it('a stale If-Match → 412 PRECONDITION_FAILED', async () => {
    const a = await h.api('PUT', mapping(cloud), { body: body('sa-3') });
    await h.api('PUT', mapping(cloud), { body: body('sa-4') });
    const stale = await h.api('PUT', mapping(cloud), { body: body('sa-5'), headers: { 'if-match': `"${a.json.etag}"` } });
    expect(stale.status).toBe(412);
    expectErrorBody(stale, 'PRECONDITION_FAILED');
    const current = await h.api('GET', mapping(cloud), { role: 'viewer' });
    expect(stale.json.error.message).toContain(`version ${current.json.version} stored by owner@example.com at `);
    expect(stale.headers.get('etag')).toBe(current.headers.get('etag'));
  });

  it('an identical PUT (JSON, YAML, keys reordered) stores nothing: 200 with the current version and unchanged: true', async () => {
    const first = await h.api('PUT', mapping(cloud), { body: body('sa-same') });
    expect(first.status).toBe(200);
    expect(first.json.unchanged).toBeUndefined();
    const runBefore = await h.api('GET', `${mapping(cloud)}/provisioning`, { role: 'viewer' });
    const { dataplane_iam_mapping, ...rest } = body('sa-same');
    const reordered = { dataplane_iam_mapping, ...rest };
    const yaml = stringify(body('sa-same'));
    for (const again of [
      await h.api('PUT', mapping(cloud), { body: body('sa-same') }),
      await h.api('PUT', mapping(cloud), { body: reordered, headers: { 'if-match': `"${first.json.etag}"` } }),
      await h.api('PUT', mapping(cloud), { body: yaml, contentType: 'application/yaml' }),
    ]) {
      expect(again.status).toBe(200);
      expect(again.json).toMatchObject({ cloud_deployment_id: cloud, version: first.json.version, etag: first.json.etag, unchanged: true });
      expect(again.json.provisioning).toBeUndefined();
      expect(again.headers.get('etag')).toBe(`"${first.json.etag}"`);
    }
    const list = await h.api('GET', `${mapping(cloud)}/versions?limit=1`, { role: 'viewer' });
    expect(list.json.versions[0].version).toBe(first.json.version);
    const runAfter = await h.api('GET', `${mapping(cloud)}/provisioning`, { role: 'viewer' });
    expect(runAfter.json.config_version).toBe(runBefore.json.config_version);
    // A stale If-Match still fails even for an equal document.
    await h.api('PUT', mapping(cloud), { body: body('sa-other') });
    const stale = await h.api('PUT', mapping(cloud), { body: body('sa-other'), headers: { 'if-match': `"${first.json.etag}"` } });
    expect(stale.status).toBe(412);
  });

  it('what GET answers (with its version) can be PUT back, as JSON or YAML: unchanged, or edited a new version', async () => {
    const first = await h.api('PUT', mapping(cloud), { body: body('sa-roundtrip') });
    const json = await h.api('GET', mapping(cloud), { role: 'viewer' });
    expect(json.json.version).toBe(first.json.version);
    const yaml = await h.api('GET', mapping(cloud), { role: 'viewer', headers: { accept: 'application/yaml' } });
    expect(yaml.text).toMatch(/^version: \d+$/m);
    for (const again of [
      await h.api('PUT', mapping(cloud), { body: json.json }),
      await h.api('PUT', mapping(cloud), { body: yaml.text, contentType: 'application/yaml' }),
    ]) {
      expect(again.status, again.text).toBe(200);
      expect(again.json).toMatchObject({ version: first.json.version, unchanged: true });
    }
    const edited = await h.api('PUT', mapping(cloud), { body: yaml.text.replace('sa-roundtrip', 'sa-edited'), contentType: 'application/yaml' });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.json.version).toBe(first.json.version + 1);
    const stored = await h.api('GET', `${mapping(cloud)}?version=${edited.json.version}`, { role: 'viewer' });
    expect(stored.json.version).toBe(edited.json.version); // the service's number, not the body's
    // Anything but a version number there is named, beside the config's other problems.
    const bad = await h.api('PUT', mapping(cloud), {
      body: { ...body('Bad_Value'), version: 'latest' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.map((d: { path: string }) => d.path)).toEqual(['version', 'dataplane_iam_mapping.rules[0].value']);
  });

  it('50 concurrent PUTs with the same If-Match: exactly one 200, the rest 412, one new version', async () => {
    const base = await h.api('PUT', mapping(cloud), { body: body('sa-base') });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => h.api('PUT', mapping(cloud), { body: body(`sa-race-${i}`), headers: { 'if-match': `"${base.json.etag}"` } })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(49);
    const list = await h.api('GET', `${mapping(cloud)}/versions?limit=2`);
    expect(list.json.versions[0].version).toBe(base.json.version + 1);
  });

  it('GET returns YAML on request and 304 for a current If-None-Match', async () => {
    const got = await h.api('GET', mapping(cloud), { headers: { accept: 'application/yaml' } });
    expect(got.headers.get('content-type')).toMatch(/yaml/);
    expect(got.headers.get('vary')).toBe('accept'); // JSON or YAML by Accept: caches key by it
    expect(got.text).toMatch(/^cloud_deployment_id: cldrsrc_versions$/m);
    // q-values count: YAML ranked below JSON is JSON.
    const json = await h.api('GET', mapping(cloud), { headers: { accept: 'application/yaml;q=0.1, application/json' } });
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(json.json.cloud_deployment_id).toBe('cldrsrc_versions');
    const etag = got.headers.get('etag')!;
    const again = await h.api('GET', mapping(cloud), { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('data survives a restart of the local server', async () => {
    const before = await h.api('GET', mapping(cloud));
    await h.restart();
    const after = await h.api('GET', mapping(cloud));
    expect(after.json).toEqual(before.json);
  });
});
